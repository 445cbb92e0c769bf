package forecast

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// SignificanceLevel is the p-value below which a test counts as
// significant: a model "beats persistence" only when the Diebold–Mariano
// test rejects equal accuracy at this level, and direction calls show
// skill only when the Pesaran–Timmermann test does.
const SignificanceLevel = 0.05

// ErrNoTest means a significance test cannot be computed on the data given:
// too few points, or loss differences with no variance (for example a model
// whose predictions are exactly persistence's).
var ErrNoTest = errors.New("no significance test possible")

// DMTest is the result of a Diebold–Mariano test of equal predictive
// accuracy.
type DMTest struct {
	// Statistic is the Harvey–Leybourne–Newbold corrected statistic. It is
	// negative when the first forecast's squared errors are smaller.
	Statistic float64 `json:"statistic"`
	// PValue is two-sided, from Student's t with N-1 degrees of freedom.
	PValue float64 `json:"p_value"`
	// N is the number of paired errors and H the forecast horizon the
	// errors were made at.
	N int `json:"n"`
	H int `json:"h"`
}

// Better reports whether the first forecast is significantly more accurate
// than the second: a negative statistic with a p-value below
// SignificanceLevel. The p-value is two-sided, as in Diebold and Mariano's
// paper and R's forecast::dm.test, which is the stricter reading of
// "significantly better" (a one-sided test at 5% would halve it).
func (t DMTest) Better() bool {
	return t.Statistic < 0 && t.PValue < SignificanceLevel
}

// DieboldMariano tests whether two forecasts of the same values are equally
// accurate under squared-error loss (Diebold & Mariano 1995), with the small
// sample correction of Harvey, Leybourne & Newbold (1997). e1 and e2 are the
// two forecasts' errors on the same points, in time order; h is the horizon
// they were made at (1 for one-step forecasts).
//
// With loss differences d_t = e1_t² − e2_t², mean d̄ and autocovariances
// γ_k = (1/n) Σ_{t>k} (d_t − d̄)(d_{t−k} − d̄), the long-run variance of d̄ is
// (γ_0 + 2 Σ_{k=1}^{h−1} γ_k)/n: h-step errors overlap, so they are
// correlated up to lag h−1 and no further. DM = d̄ / √var and the corrected
// statistic is DM·√((n + 1 − 2h + h(h−1)/n)/n), compared with Student's t on
// n−1 degrees of freedom.
//
// It returns ErrNoTest when n < 2, h is outside 1..n−1, or the long-run
// variance is not positive (identical forecasts, or a negative estimate,
// which the truncated sum can give for h > 1).
func DieboldMariano(e1, e2 []float64, h int) (DMTest, error) {
	if len(e1) != len(e2) {
		return DMTest{}, fmt.Errorf("diebold-mariano: %d errors against %d", len(e1), len(e2))
	}
	n := len(e1)
	if n < 2 || h < 1 || h >= n {
		return DMTest{}, fmt.Errorf("%w: diebold-mariano needs at least 2 points and 1 ≤ h < n, got n = %d, h = %d", ErrNoTest, n, h)
	}
	d := make([]float64, n)
	var mean float64
	for i := range d {
		d[i] = e1[i]*e1[i] - e2[i]*e2[i]
		mean += d[i]
	}
	nf := float64(n)
	mean /= nf
	longRun := 0.0
	for k := 0; k < h; k++ {
		var g float64
		for t := k; t < n; t++ {
			g += (d[t] - mean) * (d[t-k] - mean)
		}
		g /= nf
		if k == 0 {
			longRun += g
		} else {
			longRun += 2 * g
		}
	}
	if !(longRun > 0) || math.IsInf(longRun, 0) {
		return DMTest{}, fmt.Errorf("%w: the loss differences have no positive long-run variance (%v)", ErrNoTest, longRun)
	}
	dm := mean / math.Sqrt(longRun/nf)
	hf := float64(h)
	stat := dm * math.Sqrt((nf+1-2*hf+hf*(hf-1)/nf)/nf)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nf - 1}
	p := 2 * t.CDF(-math.Abs(stat))
	return DMTest{Statistic: stat, PValue: math.Min(1, p), N: n, H: h}, nil
}

// PesaranTimmermann is the test of Pesaran and Timmermann (1992) that n
// direction calls with hits right, upCalls of them up, on days of which
// upMoves went up, are right more often than calls independent of the
// moves would be. Chance alone gets P* = Py·Px + (1−Py)(1−Px) right, Py
// and Px being the shares of up moves and up calls: a model that always
// calls "up" on a rising series has a high hit rate and no skill, and this
// test says so where a test against 50% does not. The statistic
// (P − P*)/√(V(P) − V(P*)) is standard normal under no skill; p is its
// one-sided upper tail. ok is false, with no p-value, when the test is
// undefined: fewer than two calls, or calls or moves all one way.
func PesaranTimmermann(hits, upCalls, upMoves, n int) (p float64, ok bool) {
	if n < 2 {
		return 0, false
	}
	nf := float64(n)
	hitRate, py, px := float64(hits)/nf, float64(upMoves)/nf, float64(upCalls)/nf
	chance := py*px + (1-py)*(1-px)
	vHit := chance * (1 - chance) / nf
	vChance := (2*py-1)*(2*py-1)*px*(1-px)/nf + (2*px-1)*(2*px-1)*py*(1-py)/nf + 4*py*px*(1-py)*(1-px)/(nf*nf)
	variance := vHit - vChance
	if variance <= 0 || px == 0 || px == 1 || py == 0 || py == 1 {
		return 0, false
	}
	stat := (hitRate - chance) / math.Sqrt(variance)
	return distuv.UnitNormal.Survival(stat), true
}
