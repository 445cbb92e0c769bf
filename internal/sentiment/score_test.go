package sentiment

import (
	"math"
	"sync"
	"testing"

	"github.com/jonreiter/govader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScoreTexts(t *testing.T) {
	cases := []struct {
		name                        string
		texts                       []string
		label                       string
		positive, negative, neutral int
	}{
		{
			name:     "clearly positive",
			texts:    []string{"Great earnings, excellent growth and a wonderful outlook"},
			label:    LabelPositive,
			positive: 1,
		},
		{
			name:     "clearly negative",
			texts:    []string{"Terrible losses, fraud charges and a horrible collapse"},
			label:    LabelNegative,
			negative: 1,
		},
		{
			name:     "mixed lean positive",
			texts:    []string{"Great earnings, excellent growth and a wonderful outlook", "Acme slips after guidance cut", "Analysts split on Acme"},
			label:    LabelPositive,
			positive: 1, negative: 1, neutral: 1,
		},
		{
			name:  "nothing to score",
			texts: nil,
			label: LabelUnavailable,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			report := ScoreTexts(tc.texts)
			require.Equal(t, tc.label, report.Label)
			require.Equal(t, tc.positive, report.Positive)
			require.Equal(t, tc.negative, report.Negative)
			require.Equal(t, tc.neutral, report.Neutral)
			require.NotNil(t, report.Articles)
			require.Len(t, report.Articles, len(tc.texts))
			var sum float64
			for i, a := range report.Articles {
				require.Equal(t, tc.texts[i], a.Title, "articles keep the input order")
				require.Equal(t, userSource, a.Source)
				sum += a.Score
			}
			if len(tc.texts) > 0 {
				require.NotNil(t, report.Polarity)
				require.InDelta(t, sum/float64(len(tc.texts)), *report.Polarity, 1e-12)
			} else {
				require.Nil(t, report.Polarity, "no score, not a score of 0")
			}
		})
	}
}

func TestScoreTextSigns(t *testing.T) {
	require.Greater(t, scoreText("Great earnings, excellent growth and a wonderful outlook"), 0.5)
	require.Less(t, scoreText("Terrible losses, fraud charges and a horrible collapse"), -0.5)
	require.Zero(t, scoreText(""))
	// Newlines and runs of spaces score like single spaces, as in the
	// Python original.
	require.Equal(t, scoreText("Acme wins record order"), scoreText("\n  Acme\twins   record\r\norder  "))
}

func TestLabelThresholds(t *testing.T) {
	cases := []struct {
		score float64
		want  string
	}{
		{0.05, LabelPositive},
		{0.0499, LabelNeutral},
		{0, LabelNeutral},
		{-0.0499, LabelNeutral},
		{-0.05, LabelNegative},
		{1, LabelPositive},
		{-1, LabelNegative},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, labelOf(tc.score), "%v", tc.score)
	}
}

func TestClampScore(t *testing.T) {
	require.Equal(t, 1.0, clampScore(3))
	require.Equal(t, -1.0, clampScore(math.Inf(-1)))
	require.Equal(t, 0.0, clampScore(math.NaN()))
	require.Equal(t, 0.25, clampScore(0.25))
}

// TestScoreTextConcurrent shares the one analyzer between goroutines; under
// -race it fails if govader writes to shared state while scoring.
func TestScoreTextConcurrent(t *testing.T) {
	headlines := []string{"Acme wins record order", "Acme slips after guidance cut", "GREAT news!!! :)", "not bad at all"}
	want := make([]float64, len(headlines))
	for i, h := range headlines {
		want[i] = scoreText(h)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(headlines)
				// assert, not require: FailNow must not run off the test goroutine.
				assert.Equal(t, want[k], scoreText(headlines[k]))
			}
		})
	}
	wg.Wait()
}

func BenchmarkScoreText(b *testing.B) {
	vader() // the one-off construction is measured below, not here
	for b.Loop() {
		scoreText("Acme faces lawsuit over failed product, shares crash")
	}
}

// BenchmarkNewAnalyzer is what scoring would cost per call without the
// shared analyzer.
func BenchmarkNewAnalyzer(b *testing.B) {
	for b.Loop() {
		govader.NewSentimentIntensityAnalyzer()
	}
}
