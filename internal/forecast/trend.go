package forecast

// TrendLine fits the least-squares line y ≈ intercept + slope·t through
// the closes at times t = 0, 1, …, len(y)−1, R's lsfit(0:(n-1), y); with
// fewer than two closes the slope is 0. ETS starts its level and slope
// from one, and the Theta method's drift is half its slope.
func TrendLine(y []float64) (intercept, slope float64) {
	n := float64(len(y))
	tMean := (n - 1) / 2
	var yMean float64
	for _, v := range y {
		yMean += v
	}
	yMean /= n
	var stt, sty float64
	for i, v := range y {
		dt := float64(i) - tMean
		stt += dt * dt
		sty += dt * (v - yMean)
	}
	if stt > 0 {
		slope = sty / stt
	}
	return yMean - slope*tMean, slope
}
