package sentiment

import (
	"maps"
	"math"
	"strings"
	"sync"

	"github.com/jonreiter/govader"
)

// Labels given to a score or to a whole report.
const (
	LabelPositive = "positive"
	LabelNegative = "negative"
	LabelNeutral  = "neutral"
	// LabelUnavailable is a report with no article to score: nothing was
	// measured, which must never read as a measured neutral mood.
	LabelUnavailable = "unavailable"
)

// The cut-offs VADER's authors recommend for its compound score; the
// original app applied them to every source's scores alike.
const (
	positiveThreshold = 0.05
	negativeThreshold = -0.05
)

// userSource names the articles of ScoreTexts, which come from the caller
// rather than from an upstream.
const userSource = "user"

// vader is built once per process: building it parses the whole lexicon,
// about a thousand times the work of scoring one headline (see
// BenchmarkNewAnalyzer and BenchmarkScoreText). After
// construction the analyzer only reads its maps and compiled regexps, so
// concurrent PolarityScores calls need no lock (TestScoreTextConcurrent
// checks this under the race detector).
var vader = sync.OnceValue(func() *govader.SentimentIntensityAnalyzer {
	a := govader.NewSentimentIntensityAnalyzer()
	maps.Copy(a.Lexicon, financeLexicon)
	return a
})

// scoreText returns the VADER compound score of text, in [-1, 1].
func scoreText(text string) float64 {
	// govader splits on single spaces only, where the Python original splits
	// on any whitespace; scraped headlines carry newlines and runs of spaces.
	return clampScore(vader().PolarityScores(collapseSpace(text)).Compound)
}

// ScoreTexts scores the caller's own headlines with VADER, with no upstream
// involved. The report has one article per text, in order, so callers can
// match scores to their input by position.
func ScoreTexts(texts []string) *Report {
	report := &Report{Articles: make([]Article, 0, len(texts))}
	for _, text := range texts {
		report.Articles = append(report.Articles, Article{
			Title:  text,
			Source: userSource,
			Score:  scoreText(text),
		})
	}
	summarize(report)
	return report
}

// summarize fills the report's polarity, label and counts from its
// articles. With none, the polarity stays nil and the label is
// LabelUnavailable.
func summarize(report *Report) {
	report.Positive, report.Negative, report.Neutral = 0, 0, 0
	if report.Articles == nil {
		// An empty list, not null, for JSON clients.
		report.Articles = []Article{}
	}
	var sum float64
	for _, a := range report.Articles {
		sum += a.Score
		switch labelOf(a.Score) {
		case LabelPositive:
			report.Positive++
		case LabelNegative:
			report.Negative++
		default:
			report.Neutral++
		}
	}
	report.Polarity, report.Label = nil, LabelUnavailable
	if n := len(report.Articles); n > 0 {
		polarity := sum / float64(n)
		report.Polarity, report.Label = &polarity, labelOf(polarity)
	}
}

// labelOf names the side of the ±0.05 band a score falls on.
func labelOf(score float64) string {
	switch {
	case score >= positiveThreshold:
		return LabelPositive
	case score <= negativeThreshold:
		return LabelNegative
	default:
		return LabelNeutral
	}
}

// clampScore forces a score into [-1, 1]; NaN, which no scale defines,
// becomes neutral.
func clampScore(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return max(-1, min(1, x))
}

// collapseSpace trims text and turns every run of whitespace into one space.
func collapseSpace(text string) string {
	return strings.Join(strings.Fields(text), " ")
}
