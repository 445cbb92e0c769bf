package arima

import "math"

// kpssCritical5 is the 5% critical value of the KPSS level-stationarity
// test (Kwiatkowski et al. 1992, table 1). pmdarima interpolates a p-value
// in the table and differences when it is below 0.05, which is the same
// as comparing the statistic with this value.
const kpssCritical5 = 0.463

// kpssStatistic is the KPSS statistic for the null of level stationarity,
// with the long-run variance estimated by Newey-West (Bartlett weights) at
// pmdarima's short lag truncation ⌊4·(n/100)^¼⌋ (lshort=True).
func kpssStatistic(x []float64) float64 {
	n := len(x)
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	var partial, eta, s2 float64
	for _, v := range x {
		e := v - mean
		partial += e
		eta += partial * partial
		s2 += e * e
	}
	eta /= float64(n) * float64(n)
	lags := int(math.Trunc(4 * math.Pow(float64(n)/100, 0.25)))
	for lag := 1; lag <= lags && lag < n; lag++ {
		var autocov float64
		for t := lag; t < n; t++ {
			autocov += (x[t] - mean) * (x[t-lag] - mean)
		}
		s2 += 2 * (1 - float64(lag)/float64(lags+1)) * autocov
	}
	s2 /= float64(n)
	return eta / s2
}

// kpssDifferences is pmdarima's ndiffs(test="kpss", alpha=0.05): difference
// while the KPSS test rejects stationarity, at most maxD times, stopping
// early when the series becomes constant (the test is then undefined).
func kpssDifferences(y []float64, maxD int) int {
	x := y
	for d := 0; d < maxD; d++ {
		if isConstant(x) || len(x) < 2 || !(kpssStatistic(x) > kpssCritical5) {
			return d
		}
		next := make([]float64, len(x)-1)
		for i := range next {
			next[i] = x[i+1] - x[i]
		}
		x = next
	}
	return maxD
}

func isConstant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}
