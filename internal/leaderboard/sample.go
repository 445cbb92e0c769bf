package leaderboard

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/augurhq/augur/internal/market"
)

// SampleDJ30 names the bundled sample of the 30 Dow Jones stocks of 2000
// (daily closes 1991–2000).
const SampleDJ30 = "dj30"

// DJ30 returns the bundled Dow stocks, without the S&P 500 index the same
// sample serves, each cut to its last tail closes (tail ≤ 0 keeps all).
func DJ30(ctx context.Context, tail int) ([]Series, error) {
	sample := market.NewSample()
	tickers, err := sample.Tickers()
	if err != nil {
		return nil, fmt.Errorf("bundled sample: %w", err)
	}
	tickers = slices.DeleteFunc(tickers, func(t string) bool { return t == market.SampleIndex })
	out := make([]Series, 0, len(tickers))
	for _, t := range tickers {
		bars, err := sample.History(ctx, t, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("bundled sample: %w", err)
		}
		if tail > 0 && tail < len(bars) {
			bars = bars[len(bars)-tail:]
		}
		closes := make([]float64, len(bars))
		for i, b := range bars {
			closes[i] = b.Close
		}
		out = append(out, Series{Name: t, Closes: closes})
	}
	return out, nil
}
