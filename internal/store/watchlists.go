package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// ErrWatchlistNameTaken means the user already has a watchlist of that
// name, whatever its case.
var ErrWatchlistNameTaken = errors.New("you already have a watchlist of that name")

// MaxWatchlists is how many watchlists one user may keep.
const MaxWatchlists = 50

// ErrTooManyWatchlists means the user has MaxWatchlists already.
var ErrTooManyWatchlists = fmt.Errorf("at most %d watchlists per user", MaxWatchlists)

// Watchlist is a user's named list of tickers, in the user's order.
type Watchlist struct {
	ID        int64          `db:"id"`
	OwnerID   int64          `db:"owner_id"`
	Name      string         `db:"name"`
	Tickers   pq.StringArray `db:"tickers"`
	CreatedAt time.Time      `db:"created_at"`
	UpdatedAt time.Time      `db:"updated_at"`
}

const watchlistColumns = `id, owner_id, name, tickers, created_at, updated_at`

// CreateWatchlist stores a new watchlist of owner's. Name and tickers are
// checked by the caller (jobs.NormalizeTickers); the database only keeps
// them within bounds.
func (db *DB) CreateWatchlist(ctx context.Context, owner int64, name string, tickers []string) (*Watchlist, error) {
	var w Watchlist
	err := db.inTx(ctx, nil, func(tx querier) error {
		// The owner's row lock makes the count and the insert one step.
		var count int
		if err := tx.get(ctx, &count, `SELECT count(*) FROM watchlists w, (SELECT 1 FROM users WHERE id = $1 FOR UPDATE) u
			WHERE w.owner_id = $1`, owner); err != nil {
			return fmt.Errorf("count watchlists: %w", err)
		}
		if count >= MaxWatchlists {
			return ErrTooManyWatchlists
		}
		return tx.get(ctx, &w, `INSERT INTO watchlists (owner_id, name, tickers) VALUES ($1, $2, $3)
			RETURNING `+watchlistColumns, owner, name, pq.Array(tickers))
	})
	if err != nil {
		return nil, watchlistError(err)
	}
	return &w, nil
}

// Watchlist returns the owner's watchlist id, or ErrNotFound.
func (db *DB) Watchlist(ctx context.Context, owner, id int64) (*Watchlist, error) {
	var w Watchlist
	err := db.get(ctx, &w, `SELECT `+watchlistColumns+` FROM watchlists WHERE id = $1 AND owner_id = $2`, id, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read watchlist %d: %w", id, err)
	}
	return &w, nil
}

// Watchlists lists the owner's watchlists by name.
func (db *DB) Watchlists(ctx context.Context, owner int64) ([]Watchlist, error) {
	var out []Watchlist
	if err := db.selectAll(ctx, &out, `SELECT `+watchlistColumns+` FROM watchlists WHERE owner_id = $1
		ORDER BY lower(name), id`, owner); err != nil {
		return nil, fmt.Errorf("list watchlists: %w", err)
	}
	return out, nil
}

// UpdateWatchlist renames the owner's watchlist and replaces its tickers.
func (db *DB) UpdateWatchlist(ctx context.Context, owner, id int64, name string, tickers []string) (*Watchlist, error) {
	var w Watchlist
	err := db.get(ctx, &w, `UPDATE watchlists SET name = $3, tickers = $4, updated_at = now()
		WHERE id = $1 AND owner_id = $2 RETURNING `+watchlistColumns, id, owner, name, pq.Array(tickers))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, watchlistError(err)
	}
	return &w, nil
}

// DeleteWatchlist deletes the owner's watchlist; its batches stay.
func (db *DB) DeleteWatchlist(ctx context.Context, owner, id int64) error {
	n, err := db.exec(ctx, `DELETE FROM watchlists WHERE id = $1 AND owner_id = $2`, id, owner)
	if err != nil {
		return fmt.Errorf("delete watchlist %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// watchlistError names a taken name for what it is.
func watchlistError(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return ErrWatchlistNameTaken
	}
	if errors.Is(err, ErrTooManyWatchlists) {
		return err
	}
	return fmt.Errorf("store watchlist: %w", err)
}
