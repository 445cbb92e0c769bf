package backtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/augurhq/augur/internal/leaderboard"
)

// SampleDJ30 is the --sample value of the bundled Dow stocks.
const SampleDJ30 = leaderboard.SampleDJ30

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
		all, err = leaderboard.DJ30(ctx, opts.Tail)
	}
	if err != nil {
		return err
	}
	lb, err := leaderboard.Run(ctx, all, leaderboard.Options{
		Models: opts.Models, Horizon: opts.Horizon, Seed: opts.Seed, LSTMMode: opts.LSTMMode, Bands: opts.Bands, Workers: opts.Workers,
		Evaluation: opts.Evaluation,
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
