package jobs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/ticker"
)

// FieldError is a validation failure of one request field. The HTTP layer
// turns it into a 422 naming the field.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, code, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NormalizeTicker upper-cases and checks a ticker symbol.
func NormalizeTicker(raw string) (string, *FieldError) {
	if strings.TrimSpace(raw) == "" {
		return "", invalid("ticker", "required", "ticker is required")
	}
	t, err := ticker.Normalize(raw)
	if err != nil {
		return "", invalid("ticker", "invalid_ticker", "ticker must be "+ticker.Rule)
	}
	return t, nil
}

// MaxTickers is the most tickers a watchlist or a batch holds.
const MaxTickers = 500

// NormalizeTickers checks a list of tickers (of a watchlist or a batch)
// as NormalizeTicker does each, in field, and returns them upper-cased in
// their order with repeats dropped: 1 to MaxTickers of them.
func NormalizeTickers(field string, raw []string) ([]string, *FieldError) {
	if len(raw) == 0 {
		return nil, invalid(field, "required", "%s needs at least one ticker", field)
	}
	out := make([]string, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for i, r := range raw {
		t, ferr := NormalizeTicker(r)
		if ferr != nil {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), ferr.Code, "%q is not a ticker: %s", r, ferr.Message)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTickers {
		return nil, invalid(field, "too_many_tickers", "%s holds at most %d tickers, not %d", field, MaxTickers, len(out))
	}
	return out, nil
}

// Priorities a submission may ask for, mapped to queues.
var priorityQueues = map[string]string{
	"interactive": QueueCritical,
	"normal":      QueueDefault,
	"batch":       QueueLow,
}

// QueueFor maps a request's priority ("" = interactive) to its queue.
func QueueFor(priority string) (string, *FieldError) {
	if priority == "" {
		return QueueCritical, nil
	}
	q, ok := priorityQueues[priority]
	if !ok {
		return "", invalid("priority", "invalid_priority", "priority must be interactive, normal or batch")
	}
	return q, nil
}

// Lookback limits, in trading days. Two years is what the original app
// looked at, and older prices say little about tomorrow's while making
// every model slower.
const (
	DefaultLookback = 504
	MinLookback     = 60
	MaxLookback     = 20000
)

// DefaultModels run when a prediction request names none: the original
// app's three.
var DefaultModels = []string{registry.NameLinearRegression, registry.NameARIMA, registry.NameLSTM}

// PredictionParams are the stored parameters of a prediction job.
type PredictionParams struct {
	Models  []string `json:"models"`
	Horizon int      `json:"horizon"`
	// Lookback is how many of the most recent trading days the models see.
	Lookback  int  `json:"lookback"`
	Sentiment bool `json:"sentiment"`
	// Preset selects a sentiment preset when Sentiment is set ("" = default chain).
	Preset string `json:"preset,omitempty"`
	// Recommendation is the recommendation mode: evidence (default) or classic.
	Recommendation string `json:"recommendation"`
	Seed           int64  `json:"seed"`
	// LSTMMode is the LSTM's scaling, one of registry.LSTMModes.
	LSTMMode string `json:"lstm_mode,omitempty"`
	// Bands is where every model's prediction intervals come from, one
	// of registry.BandModes: the model's own, or GARCH's.
	Bands string `json:"bands,omitempty"`
	// Fresh asks for the models to run even when an identical request's
	// result could be reused.
	Fresh bool `json:"fresh,omitempty"`
	// Evaluation asks for a rolling-origin evaluation of every model
	// beside its usual report; nil asks for none.
	Evaluation *EvaluationParams `json:"evaluation,omitempty"`
	// Webhook is the id of the owner's webhook endpoint told of the job's
	// end ("" = none); it does not change the result (see ReuseKey).
	Webhook string `json:"webhook,omitempty"`
}

// EvaluationParams are a prediction's rolling-origin evaluation (package
// crossval): Origins forecast origins Step trading days apart, the last
// leaving Horizon days to score, each model refitted at every origin or
// (Refit false; ARIMA only, the others refit anyway) fitted at the first
// and kept, on an expanding or a fixed window.
type EvaluationParams struct {
	Origins int `json:"origins"`
	// Step defaults to DefaultEvaluationStep.
	Step int `json:"step"`
	// Horizon defaults to the prediction's horizon.
	Horizon int `json:"horizon"`
	// Refit defaults to true.
	Refit *bool `json:"refit"`
	// Window is crossval.Expanding (the default) or crossval.Fixed.
	Window string `json:"window"`
}

// DefaultEvaluationStep is a week of trading days between origins: errors
// of origins closer together overlap more and add less.
const DefaultEvaluationStep = 5

// Plan is the crossval plan of normalized parameters.
func (e *EvaluationParams) Plan() crossval.Plan {
	return crossval.Plan{Origins: e.Origins, Step: e.Step, Horizon: e.Horizon, Refit: e.Refit == nil || *e.Refit, Window: e.Window}
}

// normalize fills the defaults and validates the evaluation of models
// over lookback closes: each model's origin cap (registry.OriginCap, what
// keeps one job from asking for hours of refits), and a first origin with
// at least MinLookback closes before it, as few as a prediction may see.
func (e *EvaluationParams) normalize(models []string, horizon, lookback int) *FieldError {
	if e.Step == 0 {
		e.Step = DefaultEvaluationStep
	}
	if e.Horizon == 0 {
		e.Horizon = horizon
	}
	if e.Refit == nil {
		refit := true
		e.Refit = &refit
	}
	e.Window = strings.ToLower(strings.TrimSpace(e.Window))
	if e.Window == "" {
		e.Window = crossval.Expanding
	}
	switch {
	case e.Origins < 1:
		return invalid("evaluation.origins", "out_of_range", "evaluation.origins must be at least 1")
	case e.Step < 1:
		return invalid("evaluation.step", "out_of_range", "evaluation.step must be at least 1")
	case e.Horizon < 1 || e.Horizon > forecast.MaxHorizon:
		return invalid("evaluation.horizon", "out_of_range", "evaluation.horizon must be between 1 and %d", forecast.MaxHorizon)
	case e.Window != crossval.Expanding && e.Window != crossval.Fixed:
		return invalid("evaluation.window", "unknown_window", "evaluation.window must be %s or %s", crossval.Expanding, crossval.Fixed)
	}
	for _, m := range models {
		if limit := registry.OriginCap(m); e.Origins > limit {
			return invalid("evaluation.origins", "too_many", "evaluation.origins must be at most %d with model %s", limit, m)
		}
	}
	if _, err := e.Plan().OriginIndexes(lookback, MinLookback); err != nil {
		return invalid("evaluation.origins", "too_long", "evaluation.origins × evaluation.step + evaluation.horizon must leave at least %d of the %d lookback days before the first origin", MinLookback, lookback)
	}
	return nil
}

// bands is Bands with its default filled: jobs stored before bands
// existed had the models' own.
func (p *PredictionParams) bands() string {
	if p.Bands == "" {
		return registry.BandModes()[0]
	}
	return p.Bands
}

// reuseVersion changes whenever what the models compute, or what the key
// names, changes, so that results from before are no longer taken as
// equal. 2: the key names the bars themselves, not only the last date.
const reuseVersion = 2

// ReuseKey names the result of a prediction with these parameters on the
// ticker's bars: every parameter that changes the result (models, in any
// order, horizon, lookback, seed, sentiment, preset, recommendation mode,
// LSTM mode, bands and evaluation), and nothing that does not (priority,
// fresh, webhook). Two jobs with the same key compute the same result.
//
// The bars are named by a digest of every field of every bar, not by the
// last date: a provider may revise a close on the same date (Yahoo's last
// bar is the session in progress until the close, and later corrections
// happen), and a revised bar must be computed again, not answered with the
// old close's result.
func (p *PredictionParams) ReuseKey(ticker string, bars []market.Bar) []byte {
	models := slices.Clone(p.Models)
	slices.Sort(models)
	var last string
	if len(bars) > 0 {
		last = bars[len(bars)-1].Date.Format(time.DateOnly)
	}
	doc, _ := json.Marshal(struct {
		Version        int      `json:"v"`
		Ticker         string   `json:"ticker"`
		LastBar        string   `json:"last_bar"`
		Bars           []byte   `json:"bars"`
		Models         []string `json:"models"`
		Horizon        int      `json:"horizon"`
		Lookback       int      `json:"lookback"`
		Seed           int64    `json:"seed"`
		Sentiment      bool     `json:"sentiment"`
		Preset         string   `json:"preset"`
		Recommendation string   `json:"recommendation"`
		LSTMMode       string   `json:"lstm_mode"`
		Bands          string   `json:"bands"`
		// Evaluation is omitted when nil, so the keys of jobs without one
		// are what they were before it existed.
		Evaluation *EvaluationParams `json:"evaluation,omitempty"`
	}{reuseVersion, ticker, last, barsDigest(bars), models, p.Horizon, p.Lookback, p.Seed,
		p.Sentiment, p.Preset, p.Recommendation, p.LSTMMode, p.bands(), p.Evaluation})
	sum := sha256.Sum256(doc)
	return sum[:]
}

// barsDigest is a SHA-256 of every field of every bar, in order, in a
// fixed binary layout.
func barsDigest(bars []market.Bar) []byte {
	h := sha256.New()
	var buf [8 * 7]byte
	for _, b := range bars {
		binary.LittleEndian.PutUint64(buf[0:], uint64(b.Date.Unix()))
		for i, v := range []float64{b.Open, b.High, b.Low, b.Close, b.AdjClose} {
			binary.LittleEndian.PutUint64(buf[8*(i+1):], math.Float64bits(v))
		}
		binary.LittleEndian.PutUint64(buf[48:], uint64(b.Volume))
		h.Write(buf[:])
	}
	return h.Sum(nil)
}

// Normalize fills the default models, horizon (for 0), recommendation
// mode, LSTM mode and bands and validates the parameters. known reports
// whether a model name exists; presets lists the sentiment presets.
func (p *PredictionParams) Normalize(known func(string) bool, presets []string) *FieldError {
	if len(p.Models) == 0 {
		p.Models = slices.Clone(DefaultModels)
	}
	seen := map[string]bool{}
	models := p.Models[:0]
	for _, m := range p.Models {
		m = strings.ToLower(strings.TrimSpace(m))
		if !known(m) {
			return invalid("models", "unknown_model", "unknown model %q", m)
		}
		if !seen[m] {
			seen[m] = true
			models = append(models, m)
		}
	}
	p.Models = models
	horizon, err := forecast.ResolveHorizon(p.Horizon)
	if err != nil {
		return invalid("horizon", "out_of_range", "horizon must be between 1 and %d", forecast.MaxHorizon)
	}
	p.Horizon = horizon
	if p.Lookback == 0 {
		p.Lookback = DefaultLookback
	}
	if p.Lookback < MinLookback || p.Lookback > MaxLookback {
		return invalid("lookback", "out_of_range", "lookback must be between %d and %d trading days", MinLookback, MaxLookback)
	}
	modes := registry.LSTMModes()
	p.LSTMMode = strings.ToLower(strings.TrimSpace(p.LSTMMode))
	if p.LSTMMode == "" {
		p.LSTMMode = modes[0]
	}
	if !slices.Contains(modes, p.LSTMMode) {
		return invalid("lstm_mode", "unknown_mode", "lstm_mode must be one of %s", strings.Join(modes, ", "))
	}
	p.Bands = strings.ToLower(strings.TrimSpace(p.Bands))
	if !slices.Contains(registry.BandModes(), p.bands()) {
		return invalid("bands", "unknown_bands", "bands must be one of %s", strings.Join(registry.BandModes(), ", "))
	}
	p.Bands = p.bands()
	if p.Preset != "" && !slices.Contains(presets, p.Preset) {
		return invalid("preset", "unknown_preset", "preset must be one of %s", strings.Join(presets, ", "))
	}
	switch p.Recommendation {
	case "":
		p.Recommendation = "evidence"
	case "evidence":
	case "classic":
		// The original app's rule compares today's close with the linear
		// regression's forecast, so it cannot work without that model.
		if !seen[registry.NameLinearRegression] {
			return invalid("recommendation", "needs_linreg", "the classic recommendation needs the linreg model")
		}
	default:
		return invalid("recommendation", "unknown_mode", "recommendation must be evidence or classic")
	}
	if p.Evaluation != nil {
		return p.Evaluation.normalize(p.Models, p.Horizon, p.Lookback)
	}
	return nil
}

// Limits on custom sentiment texts.
const (
	MaxTexts     = 100
	MaxTextRunes = 1000
)

// SentimentParams are the stored parameters of a sentiment job: either the
// user's own texts, or a ticker's news through the source chain.
type SentimentParams struct {
	Texts       []string `json:"texts,omitempty"`
	Preset      string   `json:"preset,omitempty"`
	NumArticles int      `json:"num_articles,omitempty"`
	// Webhook is as PredictionParams'.
	Webhook string `json:"webhook,omitempty"`
}

// Normalize validates the parameters; hasTicker says whether the request
// named a ticker.
func (p *SentimentParams) Normalize(hasTicker bool, presets []string) *FieldError {
	if len(p.Texts) == 0 && !hasTicker {
		return invalid("ticker", "required", "give a ticker or texts")
	}
	if len(p.Texts) > MaxTexts {
		return invalid("texts", "too_many", "at most %d texts", MaxTexts)
	}
	for i, t := range p.Texts {
		field := fmt.Sprintf("texts[%d]", i)
		if strings.TrimSpace(t) == "" {
			return invalid(field, "empty", "text must not be empty")
		}
		if utf8.RuneCountInString(t) > MaxTextRunes {
			return invalid(field, "too_long", "text must be at most %d characters", MaxTextRunes)
		}
	}
	if p.Preset != "" && !slices.Contains(presets, p.Preset) {
		return invalid("preset", "unknown_preset", "preset must be one of %s", strings.Join(presets, ", "))
	}
	if p.NumArticles < 0 || p.NumArticles > sentiment.MaxNumArticles {
		return invalid("num_articles", "out_of_range", "num_articles must be between 1 and %d", sentiment.MaxNumArticles)
	}
	return nil
}
