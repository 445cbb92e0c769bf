package market

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

const (
	// overlapDays is how far before the last cached bar a refresh starts,
	// so that late corrections of the last few sessions are picked up and
	// compared with what the cache holds.
	overlapDays = 7
	// revisionTolerance is the relative price change on an already cached
	// day that counts as a revised history (a split, a dividend
	// adjustment, another source) rather than float noise.
	revisionTolerance = 1e-3
)

// cached is what the cache holds for one ticker.
type cached struct {
	bars      []Bar
	source    string
	fetchedAt time.Time
	took      time.Duration
}

// readCache returns what the cache holds for t. A failed read counts as
// an empty cache: the providers can still answer.
func (l *Loader) readCache(ctx context.Context, t string) cached {
	start := time.Now()
	bars, source, fetchedAt, err := l.cache.PriceBars(ctx, t)
	if err != nil {
		l.log.WarnContext(ctx, "price cache read failed, going to the providers", "ticker", t, "err", err)
		return cached{}
	}
	return cached{bars: bars, source: source, fetchedAt: fetchedAt, took: time.Since(start)}
}

// fresh reports whether c may be served without asking a provider.
func (l *Loader) fresh(c cached) bool {
	return len(c.bars) > 0 && time.Since(c.fetchedAt) < l.ttl
}

// fromCache serves a fresh cache entry, with the one attempt that says so.
func (l *Loader) fromCache(t string, c cached) *Series {
	return newSeries(t, c.source, c.bars, []Attempt{{
		Source:    "cache",
		Outcome:   OutcomeCached,
		Reason:    fmt.Sprintf("%d bars from %s, fetched %s ago", len(c.bars), c.source, time.Since(c.fetchedAt).Round(time.Second)),
		LatencyMS: milliseconds(c.took),
	}})
}

// refresh fetches only the tail after the cached bars from the live
// providers. If the tail disagrees with the cache on days both have (a
// split, a dividend adjustment, a source that adjusts differently) or does
// not reach back to it, the history is reloaded whole from the provider that
// answered, so a series never mixes adjustments. The stale cache is served
// when every live provider fails, or when the reload would cut the history
// short (Alpha Vantage's free tier gives 100 days): old prices beat none,
// and a long consistent history beats a short one.
func (l *Loader) refresh(ctx context.Context, t string, c cached) (*Series, error) {
	last := c.bars[len(c.bars)-1].Date
	since := last.AddDate(0, 0, -overlapDays)
	attempts := []Attempt{{
		Source:  "cache",
		Outcome: OutcomeCached,
		Reason: fmt.Sprintf("stale: %d bars from %s up to %s, fetched %s ago; fetching since %s",
			len(c.bars), c.source, last.Format(time.DateOnly), time.Since(c.fetchedAt).Round(time.Second), since.Format(time.DateOnly)),
		LatencyMS: milliseconds(c.took),
	}}
	stale := func(why string, err error) *Series {
		l.log.WarnContext(ctx, "serving stale prices", "ticker", t, "why", why, "err", err)
		return newSeries(t, c.source, c.bars, attempts)
	}

	tail, p, tried, err := l.runChain(ctx, l.live, t, since)
	attempts = append(attempts, tried...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return stale("no live provider answered", err), nil
	}
	if continuous(c.bars, tail) {
		if err := l.cache.SavePriceBars(ctx, t, p.Name(), tail); err != nil {
			l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
		}
		return newSeries(t, p.Name(), merge(c.bars, tail), attempts), nil
	}

	full, a, err := l.call(ctx, p, t, time.Time{})
	a.Reason = "history revised: full reload; " + a.Reason
	attempts = append(attempts, a)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &LoadError{Ticker: t, Attempts: attempts, Err: ctx.Err()}
		}
		return stale("full reload failed", err), nil
	}
	if full[0].Date.After(c.bars[0].Date.AddDate(0, 1, 0)) {
		attempts[len(attempts)-1].Reason += fmt.Sprintf("; starts %s, the cache %s: keeping the cache",
			full[0].Date.Format(time.DateOnly), c.bars[0].Date.Format(time.DateOnly))
		return stale("reload shorter than the cache", nil), nil
	}
	if err := l.cache.ReplacePriceBars(ctx, t, p.Name(), full); err != nil {
		l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
	}
	return newSeries(t, p.Name(), full, attempts), nil
}

// continuous reports whether tail extends cached without a gap and without
// changing any cached day except the last, which may have been a session
// still in progress when it was saved.
func continuous(cachedBars, tail []Bar) bool {
	last := cachedBars[len(cachedBars)-1].Date
	if len(tail) == 0 || tail[0].Date.After(last) {
		return false
	}
	for _, nb := range tail {
		if !nb.Date.Before(last) {
			break
		}
		i, found := slices.BinarySearchFunc(cachedBars, nb.Date, func(b Bar, d time.Time) int { return b.Date.Compare(d) })
		if found && (revised(cachedBars[i].Close, nb.Close) || revised(cachedBars[i].AdjClose, nb.AdjClose)) {
			return false
		}
	}
	return true
}

func revised(old, new float64) bool {
	return math.Abs(old-new) > revisionTolerance*max(math.Abs(old), math.Abs(new))
}

// merge overlays newer bars on older ones by date, newer winning.
func merge(older, newer []Bar) []Bar {
	out := make([]Bar, 0, len(older)+len(newer))
	i, j := 0, 0
	for i < len(older) || j < len(newer) {
		switch {
		case j == len(newer):
			out = append(out, older[i])
			i++
		case i == len(older):
			out = append(out, newer[j])
			j++
		default:
			switch cmp.Compare(older[i].Date.Unix(), newer[j].Date.Unix()) {
			case -1:
				out = append(out, older[i])
				i++
			case 1:
				out = append(out, newer[j])
				j++
			default:
				out = append(out, newer[j])
				i++
				j++
			}
		}
	}
	return out
}
