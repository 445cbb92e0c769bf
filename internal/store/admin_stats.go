package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shopspring/decimal"
)

// PlatformStats are the figures of the admin overview. Money is exact.
type PlatformStats struct {
	Users       int64 `db:"users"`
	ActiveUsers int64 `db:"active_users"`
	Brokers     int64 `db:"brokers"`
	Companies   int64 `db:"companies"`
	// Transactions counts every kind: trades, dividends and deposits.
	Transactions int64 `db:"transactions"`
	// Commission is what every trade has paid its brokers.
	Commission decimal.Decimal `db:"commission"`
	// Volume is the total of every BUY and SELL.
	Volume decimal.Decimal `db:"volume"`
	// ByType counts the transactions of each type, every type listed.
	ByType []TypeCount
	// TopSymbols are the five companies most traded by value (BUY and
	// SELL totals), the larger first.
	TopSymbols []SymbolValue
}

// TypeCount is how many transactions of a type there are, and their total.
type TypeCount struct {
	Type  string          `db:"type"`
	Count int64           `db:"count"`
	Total decimal.Decimal `db:"total"`
}

// SymbolValue is how much of one company has been bought and sold.
type SymbolValue struct {
	Symbol string          `db:"symbol"`
	Name   string          `db:"name"`
	Trades int64           `db:"trades"`
	Value  decimal.Decimal `db:"value"`
}

// topSymbols is how many companies the overview ranks.
const topSymbols = 5

// PlatformStats gathers the admin overview in one read-only snapshot, so
// its figures agree with one another.
func (db *DB) PlatformStats(ctx context.Context) (*PlatformStats, error) {
	var st PlatformStats
	err := db.inTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx querier) error {
		return platformStats(ctx, tx, &st)
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func platformStats(ctx context.Context, tx querier, st *PlatformStats) error {
	err := tx.get(ctx, st, `SELECT
		(SELECT count(*) FROM users) AS users,
		(SELECT count(*) FROM users WHERE active) AS active_users,
		(SELECT count(*) FROM brokers) AS brokers,
		(SELECT count(*) FROM companies) AS companies,
		(SELECT count(*) FROM transactions) AS transactions,
		(SELECT coalesce(sum(commission), 0) FROM transactions) AS commission,
		(SELECT coalesce(sum(total), 0) FROM transactions WHERE type IN ('BUY', 'SELL')) AS volume`)
	if err != nil {
		return fmt.Errorf("platform counts: %w", err)
	}
	err = tx.selectAll(ctx, &st.ByType, `SELECT k.type, count(t.id) AS count, coalesce(sum(t.total), 0) AS total
		FROM unnest(ARRAY['BUY', 'SELL', 'DIVIDEND', 'DEPOSIT']) WITH ORDINALITY AS k(type, n)
		LEFT JOIN transactions t ON t.type = k.type
		GROUP BY k.type, k.n ORDER BY k.n`)
	if err != nil {
		return fmt.Errorf("transactions by type: %w", err)
	}
	err = tx.selectAll(ctx, &st.TopSymbols, `SELECT c.symbol, c.name, count(*) AS trades, sum(t.total) AS value
		FROM transactions t JOIN companies c ON c.id = t.company_id
		WHERE t.type IN ('BUY', 'SELL')
		GROUP BY c.id ORDER BY value DESC, c.symbol LIMIT $1`, topSymbols)
	if err != nil {
		return fmt.Errorf("top symbols: %w", err)
	}
	return nil
}
