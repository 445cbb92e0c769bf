package forecast

import (
	"errors"
	"fmt"
	"math"
)

// Recommendation modes accepted by Recommend.
const (
	// ModeEvidence lets only models that significantly beat persistence on
	// their own test set vote, weighs them by how much, and only calls a
	// move that clears the models' typical error. It is the default.
	ModeEvidence = "evidence"
	// ModeClassic is the original app's rule, kept so its users can compare.
	ModeClassic = "classic"
)

// Actions a Recommendation can take.
const (
	ActionBuy  = "BUY"
	ActionSell = "SELL"
	ActionHold = "HOLD"
)

// Disclaimer accompanies every recommendation, because a forecast of a
// near-random walk must never be mistaken for advice.
const Disclaimer = "Not investment advice: these are statistical forecasts from past prices, " +
	"which on daily data rarely do much better than assuming tomorrow's close equals today's. " +
	"Do your own research; you alone bear the risk of any trade."

// ErrUnknownMode means Recommend was asked for a mode it does not know.
var ErrUnknownMode = errors.New("unknown recommendation mode")

// ErrNoLinearRegression means the classic rule was asked for without a
// linear-regression report, the only model that rule looks at.
var ErrNoLinearRegression = errors.New("classic recommendation needs a linear regression forecast")

// The evidence rule's tuning, in one place so the documentation and the
// tests can refer to it.
const (
	// sentimentTilt is the largest share by which news sentiment moves the
	// BUY/SELL bars. Sentiment only nudges borderline calls: on its own it
	// can never turn a model-less HOLD into a trade.
	sentimentTilt = 0.25
	// fullSkill is the skill (relative RMSE reduction over persistence) at
	// which a model counts as fully convincing; beating persistence by 1% on
	// one test set is within noise and earns little confidence.
	fullSkill = 0.10
)

// Recommendation is the advice derived from a set of model reports.
type Recommendation struct {
	// Action is ActionBuy, ActionSell or ActionHold.
	Action string `json:"action"`
	// Mode is the rule that produced the action.
	Mode string `json:"mode"`
	// Confidence is in 0..1: how strongly the evidence supports Action. The
	// classic rule has no such measure and reports 0.
	Confidence float64 `json:"confidence"`
	// ExpectedMovePct is the models' combined expected change from the last
	// close, in percent.
	ExpectedMovePct float64 `json:"expected_move_pct"`
	// Reasons explain the decision in plain words, one fact per entry.
	Reasons    []string `json:"reasons"`
	Disclaimer string   `json:"disclaimer"`
}

// Recommend turns model reports into a BUY, SELL or HOLD for a stock whose
// last close is lastClose. sentiment is the news polarity in -1..1, or nil
// when no news was scored. mode is ModeEvidence (also when empty) or
// ModeClassic; anything else is ErrUnknownMode.
//
// ModeClassic reproduces the original app: BUY when today's close is below
// the mean of the linear-regression forecast and the polarity is above
// zero, SELL otherwise (no sentiment counts as not positive). It never
// holds, and ignores whether the regression beats persistence.
//
// ModeEvidence gives a vote only to models that beat persistence
// significantly (the Diebold–Mariano test on their test set, p <
// SignificanceLevel), weighted by their skill, 1 - RMSE/persistence RMSE;
// the reasons quote every model's p-value. A model's expected move runs from lastClose to
// its last forecast value, and its typical error is its test MAPE scaled by
// √(forecast days / PredictsDaysAhead) so a one-step error is not compared
// with a week-long move. The skill-weighted move must exceed the weighted
// typical error for BUY or SELL, otherwise the answer is HOLD. Sentiment
// lowers the bar in its own direction and raises it in the other by up to
// 25%. Confidence grows with the models' agreement on direction, their
// skill and how far the move clears its bar.
func Recommend(lastClose float64, reports []*Report, sentiment *float64, mode string) (Recommendation, error) {
	if !(lastClose > 0) || math.IsInf(lastClose, 1) {
		return Recommendation{}, fmt.Errorf("recommend: last close %v is not a positive price", lastClose)
	}
	if sentiment != nil && !(*sentiment >= -1 && *sentiment <= 1) {
		return Recommendation{}, fmt.Errorf("recommend: sentiment polarity %v is outside -1..1", *sentiment)
	}
	switch mode {
	case ModeEvidence, "":
		return recommendByEvidence(lastClose, reports, sentiment), nil
	case ModeClassic:
		return recommendClassic(lastClose, reports, sentiment)
	default:
		return Recommendation{}, fmt.Errorf("%w %q: use %q or %q", ErrUnknownMode, mode, ModeEvidence, ModeClassic)
	}
}

func recommendClassic(lastClose float64, reports []*Report, sentiment *float64) (Recommendation, error) {
	var lin *Report
	for _, r := range reports {
		if r != nil && r.Model == NameLinearRegression && len(r.Forecast) > 0 {
			lin = r
			break
		}
	}
	if lin == nil {
		return Recommendation{}, ErrNoLinearRegression
	}
	var mean float64
	for _, v := range lin.Forecast {
		mean += v
	}
	mean /= float64(len(lin.Forecast))

	rec := Recommendation{
		Mode:            ModeClassic,
		ExpectedMovePct: 100 * (mean - lastClose) / lastClose,
		Disclaimer:      Disclaimer,
		Reasons: []string{fmt.Sprintf(
			"Classic rule of the original app: BUY only when today's close is below the mean of the %d-day linear-regression forecast and news sentiment is positive; SELL otherwise.",
			len(lin.Forecast))},
	}
	below := lastClose < mean
	if below {
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("Today's close %.2f is below the forecast mean %.2f.", lastClose, mean))
	} else {
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("Today's close %.2f is not below the forecast mean %.2f.", lastClose, mean))
	}
	positive := sentiment != nil && *sentiment > 0
	switch {
	case sentiment == nil:
		rec.Reasons = append(rec.Reasons, "No news sentiment went into the decision, which the rule counts as not positive.")
	case positive:
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("News sentiment %+.2f is positive.", *sentiment))
	default:
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("News sentiment %+.2f is not positive.", *sentiment))
	}
	if !lin.BeatsPersistence {
		rec.Reasons = append(rec.Reasons, fmt.Sprintf(
			"Caution: on its test set the linear regression (RMSE %.5g) did not significantly beat assuming the price stays put (RMSE %.5g%s).",
			lin.Metrics.RMSE, lin.Persistence.RMSE, pSuffix(lin.DM)))
	}
	rec.Reasons = append(rec.Reasons, "The classic rule has no measure of confidence.")
	rec.Action = ActionSell
	if below && positive {
		rec.Action = ActionBuy
	}
	return rec, nil
}

// modelVote is one model's say in the evidence rule.
type modelVote struct {
	weight  float64 // skill over persistence, > 0
	movePct float64 // expected move to the last forecast value
	errPct  float64 // typical error over the same distance
}

func recommendByEvidence(lastClose float64, reports []*Report, sentiment *float64) Recommendation {
	rec := Recommendation{Mode: ModeEvidence, Action: ActionHold, Disclaimer: Disclaimer}
	var votes []modelVote
	for _, r := range reports {
		if r == nil {
			continue
		}
		v, reason, ok := voteOf(lastClose, r)
		rec.Reasons = append(rec.Reasons, reason)
		if ok {
			votes = append(votes, v)
		}
	}
	if len(votes) == 0 {
		rec.Reasons = append(rec.Reasons, fmt.Sprintf(
			"No model beat the persistence forecast significantly (p < %g) on its test set, so there is no evidence of a predictable move: HOLD.",
			SignificanceLevel))
		return rec
	}

	var weight, move, band, skill, direction float64
	for _, v := range votes {
		weight += v.weight
		move += v.weight * v.movePct
		band += v.weight * v.errPct
		skill += v.weight * v.weight
		if v.movePct > 0 {
			direction += v.weight
		} else if v.movePct < 0 {
			direction -= v.weight
		}
	}
	move /= weight
	band /= weight
	agreement := math.Abs(direction) / weight
	skillFactor := math.Min(1, skill/weight/fullSkill)
	rec.ExpectedMovePct = move

	polarity := 0.0
	if sentiment != nil {
		polarity = *sentiment
	}
	buyBar := band * (1 - sentimentTilt*polarity)
	sellBar := band * (1 + sentimentTilt*polarity)
	switch {
	case sentiment == nil:
		rec.Reasons = append(rec.Reasons, "No news sentiment went into the decision; it rests on the models alone.")
	case polarity != 0:
		rec.Reasons = append(rec.Reasons, fmt.Sprintf(
			"News sentiment %+.2f moves the BUY bar to %+.2f%% and the SELL bar to %+.2f%%.", polarity, buyBar, -sellBar))
	default:
		rec.Reasons = append(rec.Reasons, "News sentiment is neutral.")
	}

	switch {
	case move > buyBar:
		rec.Action = ActionBuy
	case move < -sellBar:
		rec.Action = ActionSell
	}
	if rec.Action == ActionHold {
		inside := 0.0
		if band > 0 {
			inside = 1 - math.Min(1, math.Abs(move)/band)
		}
		rec.Confidence = skillFactor * inside
		rec.Reasons = append(rec.Reasons, fmt.Sprintf(
			"The skill-weighted expected move %+.2f%% does not clear the models' typical error of ±%.2f%%: HOLD.", move, band))
		return rec
	}
	clearance := 1.0
	if band > 0 {
		clearance = math.Min(1, math.Abs(move)/(2*band))
	}
	rec.Confidence = agreement * skillFactor * clearance
	rec.Reasons = append(rec.Reasons, fmt.Sprintf(
		"The skill-weighted expected move %+.2f%% clears the models' typical error of ±%.2f%%: %s.", move, band, rec.Action))
	if agreement < 1 {
		rec.Reasons = append(rec.Reasons, "The voting models disagree on the direction, which lowers the confidence.")
	}
	return rec
}

// voteOf decides whether a report earns a vote and explains why in a reason
// fit for a user.
func voteOf(lastClose float64, r *Report) (modelVote, string, bool) {
	if r.Model == NamePersistence {
		return modelVote{}, fmt.Sprintf("%s: the persistence baseline the others are measured against, no vote.", r.Model), false
	}
	if len(r.Forecast) == 0 {
		return modelVote{}, fmt.Sprintf("%s: no forecast, no vote.", r.Model), false
	}
	rmse, base := r.Metrics.RMSE, r.Persistence.RMSE
	if !finite(rmse) || !finite(base) || base <= 0 {
		return modelVote{}, fmt.Sprintf("%s: no test record to compare with persistence, no vote.", r.Model), false
	}
	if r.DM == nil {
		// No test: the verdict says why (the same predictions as
		// persistence, say), or the report predates the test.
		why := r.Verdict
		if why == "" {
			why = "no significance test against persistence"
		}
		return modelVote{}, fmt.Sprintf("%s: %s, no vote.", r.Model, why), false
	}
	// A significant Diebold–Mariano test on squared errors implies the
	// lower RMSE; the skill check only guards a report edited by hand.
	skill := 1 - rmse/base
	if !r.BeatsPersistence || skill <= 0 {
		return modelVote{}, fmt.Sprintf(
			"%s: %s (test RMSE %.5g vs %.5g), no vote.", r.Model, dmVerdict(*r.DM), rmse, base), false
	}
	days := len(r.Forecast)
	last := r.Forecast[days-1]
	if !finite(last) || !finite(r.Metrics.MAPE) {
		return modelVote{}, fmt.Sprintf("%s: forecast or error is not a number, no vote.", r.Model), false
	}
	// A report that was built by hand rather than scored has no distance;
	// it is taken for a one-step model, as every model but linreg is.
	lag := max(1, r.PredictsDaysAhead)
	v := modelVote{
		weight:  skill,
		movePct: 100 * (last - lastClose) / lastClose,
		errPct:  r.Metrics.MAPE * math.Sqrt(float64(days)/float64(lag)),
	}
	return v, fmt.Sprintf(
		"%s: beats persistence by %.1f%% (test RMSE %.5g vs %.5g, %s); expects %+.2f%% over %s, typical error ±%.2f%%.",
		r.Model, 100*skill, rmse, base, FormatP(r.DM.PValue), v.movePct, tradingDays(days), v.errPct), true
}

// pSuffix is "; p = …" for a computed test, or nothing.
func pSuffix(dm *DMTest) string {
	if dm == nil {
		return ""
	}
	return "; " + FormatP(dm.PValue)
}

func tradingDays(n int) string {
	if n == 1 {
		return "1 trading day"
	}
	return fmt.Sprintf("%d trading days", n)
}

func finite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}
