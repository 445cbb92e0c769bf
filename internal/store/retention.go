package store

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long what kind of row is kept.
type Retention struct {
	// Jobs is how long a finished job is kept after it finished.
	Jobs time.Duration
	// IdempotencyKeys is how long a job's Idempotency-Key keeps replaying
	// it; after that the key may name a new job.
	IdempotencyKeys time.Duration
	// Prices is how long the cached bars of a ticker nobody asks for are
	// kept, and trained model weights nobody loads.
	Prices time.Duration
	// Batch is the most rows one statement deletes, so that retention
	// never holds locks on a large table for long.
	Batch int
}

// Pruned counts what PruneOld removed.
type Pruned struct {
	Jobs, Batches, IdempotencyKeys, PriceBars, ModelWeights, WebhookDeliveries int64
	// AuditRows is what PruneAudit removed, when the pass ran it.
	AuditRows int64
}

// PruneOld removes what Retention no longer keeps: finished jobs and the
// batches whose jobs are all gone, the Idempotency-Keys of finished jobs,
// finished webhook deliveries (kept as long as jobs, with their attempts),
// the price bars of tickers nobody asked
// about, and model weights nobody loaded. A queued or running job is never
// touched, however old: the reconciler and its worker own it.
func (db *DB) PruneOld(ctx context.Context, r Retention) (Pruned, error) {
	var p Pruned
	steps := []struct {
		what  string
		count *int64
		sql   string
		age   time.Duration
	}{
		// Jobs that reused another's result lose only their link to it
		// (ON DELETE SET NULL), and a claim on a computation goes with its
		// job (ON DELETE CASCADE).
		{"finished jobs", &p.Jobs, `DELETE FROM jobs WHERE id IN (
			SELECT id FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled')
				AND finished_at < now() - $1 * interval '1 microsecond' LIMIT $2)`, r.Jobs},
		// A batch goes once its jobs have: its page has nothing left to
		// show.
		{"batches", &p.Batches, `DELETE FROM batches WHERE id IN (
			SELECT b.id FROM batches b WHERE b.created_at < now() - $1 * interval '1 microsecond'
				AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id) LIMIT $2)`, r.Jobs},
		{"webhook deliveries", &p.WebhookDeliveries, `DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE status <> 'pending'
				AND finished_at < now() - $1 * interval '1 microsecond' LIMIT $2)`, r.Jobs},
		{"idempotency keys", &p.IdempotencyKeys, `UPDATE jobs SET idempotency_key = NULL WHERE id IN (
			SELECT id FROM jobs WHERE idempotency_key IS NOT NULL
				AND status IN ('succeeded', 'failed', 'canceled')
				AND created_at < now() - $1 * interval '1 microsecond' LIMIT $2)`, r.IdempotencyKeys},
		{"price bars", &p.PriceBars, `DELETE FROM price_bars WHERE (ticker, date) IN (
			SELECT b.ticker, b.date FROM price_bars b JOIN price_tickers t USING (ticker)
			WHERE t.last_asked_at < now() - $1 * interval '1 microsecond' LIMIT $2)`, r.Prices},
		{"model weights", &p.ModelWeights, `DELETE FROM model_weights WHERE key IN (
			SELECT key FROM model_weights WHERE last_used_at < now() - $1 * interval '1 microsecond' LIMIT $2)`, r.Prices},
	}
	for _, step := range steps {
		for {
			n, err := db.exec(ctx, step.sql, step.age.Microseconds(), r.Batch)
			if err != nil {
				return p, fmt.Errorf("prune %s: %w", step.what, err)
			}
			*step.count += n
			if n < int64(r.Batch) {
				break
			}
		}
	}
	// A ticker whose bars are all gone needs no entry; one asked for again
	// gets a new one with its bars.
	if _, err := db.exec(ctx, `DELETE FROM price_tickers t
		WHERE t.last_asked_at < now() - $1 * interval '1 microsecond'
			AND NOT EXISTS (SELECT 1 FROM price_bars b WHERE b.ticker = t.ticker)`, r.Prices.Microseconds()); err != nil {
		return p, fmt.Errorf("prune price tickers: %w", err)
	}
	return p, nil
}
