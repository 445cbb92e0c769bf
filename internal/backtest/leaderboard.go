package backtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/leaderboard"
	"github.com/augurhq/augur/internal/market"
)

// SampleDJ30 names the bundled sample of the 30 Dow Jones stocks of 2000
// (daily closes 1991–2000) for --sample.
const SampleDJ30 = "dj30"

// leaderboard reports whether the options ask for a leaderboard rather
// than one file's backtest.
func (o *Options) leaderboard() bool { return o.Dir != "" || o.Sample != "" }

// keepLast keeps only the last n values (and dates); n ≤ 0 keeps all.
func (s *series) keepLast(n int) {
	if n <= 0 || n >= len(s.values) {
		return
	}
	cut := len(s.values) - n
	s.values = s.values[cut:]
	if s.dates != nil {
		s.dates = s.dates[cut:]
	}
}

// runLeaderboard loads the series of --dir or --sample, runs the
// leaderboard and writes it.
func runLeaderboard(ctx context.Context, opts Options, w io.Writer) error {
	var (
		all []leaderboard.Series
		err error
	)
	if opts.Dir != "" {
		all, err = dirSeries(opts.Dir, opts.Column, opts.Tail)
	} else {
		all, err = dj30Series(ctx, opts.Tail)
	}
	if err != nil {
		return err
	}
	lb, err := leaderboard.Run(ctx, all, leaderboard.Options{
		Models: opts.Models, Horizon: opts.Horizon, Seed: opts.Seed, LSTMMode: opts.LSTMMode, Workers: opts.Workers,
	})
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	if opts.JSON {
		err = lb.WriteJSON(w)
	} else {
		err = lb.WriteMarkdown(w)
	}
	if err != nil {
		return fmt.Errorf("write leaderboard: %w", err)
	}
	return nil
}

// dirSeries reads every .csv file directly in dir, each named after its
// file. A file that cannot be read stops the run with its name: a
// leaderboard quietly missing a series would mislead.
func dirSeries(dir, column string, tail int) ([]leaderboard.Series, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read price folder: %w", err)
	}
	var out []leaderboard.Series
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
			continue
		}
		s, err := readSeriesFile(filepath.Join(dir, e.Name()), column)
		if err != nil {
			return nil, err
		}
		s.keepLast(tail)
		out = append(out, leaderboard.Series{Name: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), Closes: s.values})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no .csv files in %s", ErrUsage, dir)
	}
	return out, nil
}

// dj30Series returns the bundled Dow stocks, without the S&P 500 index the
// same sample serves.
func dj30Series(ctx context.Context, tail int) ([]leaderboard.Series, error) {
	sample := market.NewSample()
	tickers, err := sample.Tickers()
	if err != nil {
		return nil, fmt.Errorf("bundled sample: %w", err)
	}
	tickers = slices.DeleteFunc(tickers, func(t string) bool { return t == market.SampleIndex })
	out := make([]leaderboard.Series, 0, len(tickers))
	for _, t := range tickers {
		bars, err := sample.History(ctx, t, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("bundled sample: %w", err)
		}
		s := series{values: make([]float64, len(bars))}
		for i, b := range bars {
			s.values[i] = b.Close
		}
		s.keepLast(tail)
		out = append(out, leaderboard.Series{Name: t, Closes: s.values})
	}
	return out, nil
}
