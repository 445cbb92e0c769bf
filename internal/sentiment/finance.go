package sentiment

// financeLexicon adjusts VADER's general-purpose lexicon for news about
// listed companies, where words carry a meaning VADER's crowd-rated social
// media lexicon does not know. Issue 21 saw "Regulators open antitrust
// probe into Microsoft; stock slumps" score 0.000: none of "antitrust",
// "probe" or "slumps" is in VADER's lexicon.
//
// The basis is Loughran and McDonald's finding (T. Loughran and B.
// McDonald, "When Is a Liability Not a Liability? Textual Analysis,
// Dictionaries, and 10-Ks", Journal of Finance 66(1), 2011, 35–65) that
// general sentiment word lists misread financial text in two ways: words
// that are negative in finance are missing (litigation, downgrades,
// shortfalls), and words that are sentiment elsewhere are neutral terms of
// the trade ("liability", "tax", "crude", "shares", "interest"). Their
// Master Dictionary is the standard, but it could not be fetched here (no
// network but the Go, npm and Debian registries, none of which carries
// it), and its licence allows academic use only. So this is a small list
// of our own, written for headlines and following their categories: the
// words below are not copied from it. Valences use VADER's scale (-4 to
// +4; its raters put "loss" at -1.3, "fraud" at -2.8, "profit" at +1.9)
// and sit in that range, so that one finance word weighs as much as one
// ordinary sentiment word. Inflections are listed one by one, as VADER
// matches whole lower-cased words.
var financeLexicon = map[string]float64{
	// Terms of the trade that VADER scores as sentiment: neutral here.
	"share": 0, "shares": 0, "interest": 0, "credit": 0, "liability": 0, "liabilities": 0,
	"gross": 0, "crude": 0,

	// Prices and results going down, and what drives them.
	"slump": -1.8, "slumps": -1.8, "slumped": -1.8, "slumping": -1.8,
	"plunge": -2.2, "plunges": -2.2, "plunged": -2.2, "plunging": -2.2,
	"plummet": -2.4, "plummets": -2.4, "plummeted": -2.4,
	"tumble": -1.8, "tumbles": -1.8, "tumbled": -1.8,
	"sink": -1.5, "sinks": -1.5, "sank": -1.5,
	"slide": -1.2, "slides": -1.2, "slid": -1.2,
	"fall": -1.2, "falls": -1.2, "fell": -1.2,
	"drops": -1.1, "dropped": -1.1, "decline": -1.2, "declines": -1.2, "declined": -1.2,
	"selloff": -1.8, "sell-off": -1.8,
	"downgrade": -1.8, "downgrades": -1.8, "downgraded": -1.8,
	"underperform": -1.5, "bearish": -1.6,
	"shortfall": -1.6, "writedown": -1.8, "write-down": -1.8, "impairment": -1.6,
	"layoffs": -1.9, "recession": -2.0, "slowdown": -1.4,
	"bankruptcy": -2.8, "default": -1.9, "defaults": -1.9, "delisted": -2.0, "delisting": -2.0,
	// Regulators and courts.
	"probe": -1.6, "probes": -1.6, "investigation": -1.4, "antitrust": -1.2,
	"subpoena": -1.6, "subpoenaed": -1.6, "fined": -1.8, "penalty": -1.6,
	"lawsuit": -1.6, "lawsuits": -1.6, "sued": -1.6, "sues": -1.6,
	"recall": -1.6, "recalls": -1.6, "recalled": -1.6,

	// Prices and results going up.
	"surge": 1.9, "surges": 1.9, "surged": 1.9, "surging": 1.9,
	"soar": 2.2, "soars": 2.2, "soared": 2.2, "soaring": 2.2,
	"jump": 1.4, "jumps": 1.4, "jumped": 1.4,
	"rally": 1.7, "rallies": 1.7, "rallied": 1.7,
	"rebound": 1.4, "rebounds": 1.4, "rebounded": 1.4,
	"beat": 1.5, "beats": 1.5,
	"upgrade": 1.8, "upgrades": 1.8, "upgraded": 1.8,
	"outperform": 1.5, "outperforms": 1.5, "bullish": 1.6,
	"record": 0.8, "buyback": 1.2,
}
