package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/augurhq/augur/internal/market"
)

// PriceBars returns the cached daily bars of a ticker oldest first, with the
// source and time of the most recent save. Nothing cached gives no bars and
// no error. It makes *DB a market.Cache.
func (db *DB) PriceBars(ctx context.Context, ticker string) ([]market.Bar, string, time.Time, error) {
	var latest struct {
		Source    string    `db:"source"`
		FetchedAt time.Time `db:"fetched_at"`
	}
	err := db.get(ctx, &latest, `SELECT source, fetched_at FROM price_bars
		WHERE ticker = $1 ORDER BY fetched_at DESC LIMIT 1`, ticker)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", time.Time{}, nil
	}
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("select price bar freshness of %s: %w", ticker, err)
	}
	if err := markAsked(ctx, querier{db: db}, ticker); err != nil {
		return nil, "", time.Time{}, err
	}

	// Every job reads a 20-year history of ~5,000 rows, so the per-row cost
	// matters: the bars are scanned by hand, without reflection, and the
	// source and fetch time are read once above rather than on every row.
	rows, err := querier{db: db}.rows(ctx, `SELECT date, open, high, low, close, adj_close, volume
		FROM price_bars WHERE ticker = $1 ORDER BY date`, ticker)
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("select price bars of %s: %w", ticker, err)
	}
	defer rows.Close()
	var bars []market.Bar
	for rows.Next() {
		var b market.Bar
		if err := rows.Scan(&b.Date, &b.Open, &b.High, &b.Low, &b.Close, &b.AdjClose, &b.Volume); err != nil {
			return nil, "", time.Time{}, fmt.Errorf("scan price bar of %s: %w", ticker, err)
		}
		// A date column carries no zone; pin it to midnight UTC like every
		// provider does, so cached and fetched bars compare equal.
		y, m, d := b.Date.Date()
		b.Date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		bars = append(bars, b)
	}
	if err := rows.Err(); err != nil {
		return nil, "", time.Time{}, fmt.Errorf("read price bars of %s: %w", ticker, err)
	}
	return bars, latest.Source, latest.FetchedAt, nil
}

// SavePriceBars inserts bars or overwrites them by date, marking them
// fetched now from source.
func (db *DB) SavePriceBars(ctx context.Context, ticker, source string, bars []market.Bar) error {
	if err := upsertPriceBars(ctx, querier{db: db}, ticker, source, bars); err != nil {
		return fmt.Errorf("save price bars of %s: %w", ticker, err)
	}
	return nil
}

// ReplacePriceBars swaps the ticker's whole cached history for bars in one
// transaction, so no reader sees a mix of the old and the new history.
func (db *DB) ReplacePriceBars(ctx context.Context, ticker, source string, bars []market.Bar) error {
	err := db.inTx(ctx, nil, func(tx querier) error {
		if _, err := tx.exec(ctx, `DELETE FROM price_bars WHERE ticker = $1`, ticker); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return upsertPriceBars(ctx, tx, ticker, source, bars)
	})
	if err != nil {
		return fmt.Errorf("replace price bars of %s: %w", ticker, err)
	}
	return nil
}

// AgePriceBars moves the fetch time of the ticker's cached bars back by d,
// as if they had been fetched that much earlier. Tests use it to make a
// cache stale without waiting out its TTL.
func (db *DB) AgePriceBars(ctx context.Context, ticker string, d time.Duration) error {
	_, err := db.exec(ctx, `UPDATE price_bars SET fetched_at = fetched_at - make_interval(secs => $2)
		WHERE ticker = $1`, ticker, d.Seconds())
	if err != nil {
		return fmt.Errorf("age price bars of %s: %w", ticker, err)
	}
	return nil
}

// upsertPriceBars sends all bars in one statement as parallel arrays: a
// 20-year history is ~5,000 rows, one round trip instead of 5,000.
func upsertPriceBars(ctx context.Context, q querier, ticker, source string, bars []market.Bar) error {
	if len(bars) == 0 {
		return nil
	}
	dates := make([]string, len(bars))
	open := make(pq.Float64Array, len(bars))
	high := make(pq.Float64Array, len(bars))
	low := make(pq.Float64Array, len(bars))
	closes := make(pq.Float64Array, len(bars))
	adj := make(pq.Float64Array, len(bars))
	volume := make(pq.Int64Array, len(bars))
	for i, b := range bars {
		dates[i] = b.Date.Format(time.DateOnly)
		open[i], high[i], low[i], closes[i], adj[i], volume[i] = b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume
	}
	_, err := q.exec(ctx, `INSERT INTO price_bars (ticker, date, open, high, low, close, adj_close, volume, source, fetched_at)
		SELECT $1, d, o, h, l, c, a, v, $9, now()
		FROM unnest($2::date[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::bigint[]) AS t(d, o, h, l, c, a, v)
		ON CONFLICT (ticker, date) DO UPDATE SET
			open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
			adj_close = EXCLUDED.adj_close, volume = EXCLUDED.volume,
			source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at`,
		ticker, pq.StringArray(dates), open, high, low, closes, adj, volume, source)
	if err != nil {
		return fmt.Errorf("upsert %d bars: %w", len(bars), err)
	}
	return markAsked(ctx, q, ticker)
}

// markAsked notes that someone asked for the ticker's prices, which keeps
// its bars from retention (PruneOld). Within the hour it writes nothing:
// retention counts in days, and every job reads its bars.
func markAsked(ctx context.Context, q querier, ticker string) error {
	_, err := q.exec(ctx, `INSERT INTO price_tickers (ticker) VALUES ($1)
		ON CONFLICT (ticker) DO UPDATE SET last_asked_at = now()
		WHERE price_tickers.last_asked_at < now() - interval '1 hour'`, ticker)
	if err != nil {
		return fmt.Errorf("note that prices of %s were asked for: %w", ticker, err)
	}
	return nil
}
