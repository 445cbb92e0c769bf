package market

import (
	"context"
	"fmt"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// fetchAll asks the whole chain for the full history.
func (l *Loader) fetchAll(ctx context.Context, t string) (*Series, error) {
	bars, p, attempts, err := l.runChain(ctx, l.providers, t, time.Time{})
	if err != nil {
		return nil, err
	}
	if l.cache != nil && isLive(p.Name()) {
		if err := l.cache.ReplacePriceBars(ctx, t, p.Name(), bars); err != nil {
			l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
		}
	}
	return newSeries(t, p.Name(), bars, attempts), nil
}

// runChain tries providers in order until one delivers.
func (l *Loader) runChain(ctx context.Context, providers []Provider, t string, since time.Time) ([]Bar, Provider, []Attempt, error) {
	attempts := make([]Attempt, 0, len(providers))
	var bundled []string
	for _, p := range providers {
		bars, a, err := l.call(ctx, p, t, since)
		attempts = append(attempts, a)
		if err == nil {
			return bars, p, attempts, nil
		}
		if ctx.Err() != nil {
			return nil, nil, attempts, &LoadError{Ticker: t, Attempts: attempts, Err: ctx.Err()}
		}
		// Debug, not Info: a dashboard view asks the chain for every
		// holding, and a source that is down would log on every view. The
		// client logs each change of a source's health once (see
		// upstream.Config.Logger); this line keeps the detail behind an
		// attempt's short reason, with the request id.
		l.log.DebugContext(ctx, "price source failed", "ticker", t, "source", a.Source, "outcome", a.Outcome, "err", err)
		if s, ok := p.(*Sample); ok && a.Outcome == upstream.OutcomeNotFound {
			// Tickers cannot fail here: History has just read the same
			// parsed files.
			bundled, _ = s.Tickers()
		}
	}
	cause, _ := verdict(attempts)
	return nil, nil, attempts, &LoadError{Ticker: t, Attempts: attempts, Err: cause, Bundled: bundled}
}

// call asks one provider and records the attempt. A full-history request
// that returns no bars counts as "not found": the provider has nothing.
func (l *Loader) call(ctx context.Context, p Provider, t string, since time.Time) ([]Bar, Attempt, error) {
	start := time.Now()
	bars, err := p.History(ctx, t, since)
	if err == nil && since.IsZero() && len(bars) == 0 {
		err = fmt.Errorf("%s returned no bars for %s: %w", p.Name(), t, ErrNoSuchTicker)
	}
	a := Attempt{Source: p.Name(), Outcome: upstream.OutcomeOf(err), LatencyMS: milliseconds(time.Since(start))}
	if err != nil {
		// The error may hold a host, an address or network text
		// ("lookup query1.finance.yahoo.com on 10.255.255.53:53"): users
		// read the cause, the log above keeps the error.
		a.Reason = upstream.Cause(a.Outcome)
	} else {
		a.Reason = fmt.Sprintf("%d bars", len(bars))
	}
	return bars, a, err
}
