package forecast

// Direction scores the up/down calls that test predictions make.
//
// A prediction equal to the close it starts from calls no direction: it is
// "no call", neither a hit nor a miss. Counting it as "down", as a plain
// sign comparison does, gives persistence a hit rate equal to the share of
// down days, which says nothing about skill. Days on which the price did
// not move cannot be called right or wrong and are left out of the hit
// rate too, but a call made on them still counts as a call.
type Direction struct {
	// Days is the number of test points that have a starting close.
	Days int `json:"days"`
	// Calls is the number of those days on which the prediction moved.
	Calls int `json:"calls"`
	// Scored is the number of calls on days on which the price moved, the
	// trials of the hit rate, and Hits how many of them had the right sign.
	Scored int `json:"scored"`
	Hits   int `json:"hits"`
	// UpCalls and UpMoves count, among the scored calls, the calls up and
	// the days the price went up: the base rates that chance alone would
	// turn into hits.
	UpCalls int `json:"up_calls"`
	UpMoves int `json:"up_moves"`
}

// HitRate is the share of scored calls with the right direction, 0 without
// scored calls.
func (d Direction) HitRate() float64 {
	if d.Scored == 0 {
		return 0
	}
	return float64(d.Hits) / float64(d.Scored)
}

// CallShare is the share of days with a call, 0 without days.
func (d Direction) CallShare() float64 {
	if d.Days == 0 {
		return 0
	}
	return float64(d.Calls) / float64(d.Days)
}

// PValue is the Pesaran–Timmermann test of the calls' skill (see
// PesaranTimmermann). ok is false where there is no test: calls that never
// change direction, or a price that moved one way only, or fewer than two
// scored calls.
func (d Direction) PValue() (p float64, ok bool) {
	return PesaranTimmermann(d.Hits, d.UpCalls, d.UpMoves, d.Scored)
}

// Directions scores the direction of test predictions. closes is the whole
// input series and lag the prediction distance: each prediction starts from
// closes[Index-lag], the close known when it was made.
func Directions(closes []float64, test []TestPoint, lag int) Direction {
	var d Direction
	for _, p := range test {
		if p.Index < lag || p.Index-lag >= len(closes) {
			continue
		}
		d.Days++
		prev := closes[p.Index-lag]
		predMove := p.Predicted - prev
		if predMove == 0 {
			continue
		}
		d.Calls++
		realMove := p.Actual - prev
		if realMove == 0 {
			continue
		}
		d.Scored++
		if (realMove > 0) == (predMove > 0) {
			d.Hits++
		}
		if predMove > 0 {
			d.UpCalls++
		}
		if realMove > 0 {
			d.UpMoves++
		}
	}
	return d
}

// NonOverlapping keeps every lag-th test point, so that the lag-day windows
// of the points kept do not overlap: the calls of a model predicting lag
// days ahead from consecutive days share most of their window, so they are
// not independent trials, which a test of their skill assumes. For lag 1
// it is test itself.
func NonOverlapping(test []TestPoint, lag int) []TestPoint {
	if lag <= 1 || len(test) == 0 {
		return test
	}
	phase := test[0].Index % lag
	out := make([]TestPoint, 0, len(test)/lag+1)
	for _, p := range test {
		if p.Index%lag == phase {
			out = append(out, p)
		}
	}
	return out
}
