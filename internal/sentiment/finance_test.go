package sentiment

import (
	"testing"

	"github.com/jonreiter/govader"
	"github.com/stretchr/testify/require"
)

// financeHeadlines are headlines in the style of the news sources' (written
// for this test, not copied), each labelled by what it means for the
// stock: the set the finance lexicon is judged on.
var financeHeadlines = []struct {
	text, label string
}{
	{"Regulators open antitrust probe into Microsoft; stock slumps", LabelNegative},
	{"Apple shares plunge after iPhone sales miss estimates", LabelNegative},
	{"Tesla recalls 120,000 vehicles over seat belt defect", LabelNegative},
	{"Boeing downgraded to underperform at Jefferies", LabelNegative},
	{"Intel shares tumble as chipmaker cuts full-year forecast", LabelNegative},
	{"SEC subpoenas Nikola over claims made to investors", LabelNegative},
	{"Bed Bath & Beyond files for bankruptcy protection", LabelNegative},
	{"Meta fined $1.3 billion by EU privacy regulator", LabelNegative},
	{"Oil prices fall as demand slowdown fears grow", LabelNegative},
	{"Walgreens shares sink to 25-year low after dividend cut", LabelNegative},
	{"Pfizer faces lawsuit over vaccine patent", LabelNegative},
	{"Netflix stock slides as subscriber growth stalls", LabelNegative},
	{"Ford takes $1.9 billion writedown on electric vehicle unit", LabelNegative},
	{"Disney announces 7,000 layoffs in cost-cutting drive", LabelNegative},
	{"Nvidia shares surge after record data center revenue", LabelPositive},
	{"Amazon stock jumps as cloud unit beats expectations", LabelPositive},
	{"Goldman upgrades Caterpillar to buy on infrastructure demand", LabelPositive},
	{"Microsoft shares rally to all-time high on AI optimism", LabelPositive},
	{"Coca-Cola beats earnings estimates and raises outlook", LabelPositive},
	{"JPMorgan posts record profit as interest income soars", LabelPositive},
	{"Alphabet announces $70 billion share buyback", LabelPositive},
	{"Eli Lilly soars on strong weight-loss drug sales", LabelPositive},
	{"Shares of Walmart rebound after upbeat holiday sales", LabelPositive},
	{"Analysts turn bullish on AMD ahead of chip launch", LabelPositive},
	{"Exxon to report second-quarter results on Friday", LabelNeutral},
	{"IBM schedules annual shareholder meeting for April", LabelNeutral},
	{"Crude oil inventories reported by the Energy Department", LabelNeutral},
	{"Procter & Gamble names new chief financial officer", LabelNeutral},
	{"Visa to present at Goldman Sachs financial conference", LabelNeutral},
	{"Berkshire Hathaway discloses its stake in Chevron", LabelNeutral},
}

// TestFinanceLexiconOnLabelledHeadlines shows what the lexicon changes:
// accuracy on the labelled set with VADER alone and with it, and the
// headline of issue 21 turned negative.
func TestFinanceLexiconOnLabelledHeadlines(t *testing.T) {
	plain := govader.NewSentimentIntensityAnalyzer()
	before, after := 0, 0
	for _, h := range financeHeadlines {
		vaderOnly := labelOf(clampScore(plain.PolarityScores(h.text).Compound))
		withLexicon := labelOf(scoreText(h.text))
		if vaderOnly == h.label {
			before++
		}
		if withLexicon == h.label {
			after++
		}
		t.Logf("%-8s VADER %-8s with the lexicon %-8s %s", h.label, vaderOnly, withLexicon, h.text)
	}
	t.Logf("accuracy on %d headlines: VADER alone %d, with the finance lexicon %d", len(financeHeadlines), before, after)
	require.Greater(t, after, before, "the lexicon must do better than VADER alone")
	require.GreaterOrEqual(t, after*10, len(financeHeadlines)*8, "and get at least 80%% right")

	require.Zero(t, plain.PolarityScores(financeHeadlines[0].text).Compound, "issue 21: VADER alone gives 0.000")
	require.Equal(t, LabelNegative, labelOf(scoreText(financeHeadlines[0].text)))
}
