package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
)

// RetentionLockKey is the PostgreSQL advisory lock that lets one worker
// replica at a time prune ("augp" in ASCII).
const RetentionLockKey int64 = 0x61756770

// Retention periods the issue fixes; the finished jobs' is JOB_RETENTION.
const (
	// IdempotencyKeyRetention is how long a retried submission with the
	// same Idempotency-Key gets the first job back: a client retries for
	// minutes, not days.
	IdempotencyKeyRetention = 24 * time.Hour
	// PriceRetention is how long the cached bars of a ticker nobody asks
	// about are kept.
	PriceRetention = 90 * 24 * time.Hour
	// RetentionInterval is how often a worker prunes. Retention counts in
	// hours and days, so more often would only cost queries.
	RetentionInterval = time.Hour
)

// Pruner removes old rows from PostgreSQL on a schedule: finished jobs
// past their retention, old Idempotency-Keys, the price bars of tickers
// nobody asks about and model weights nobody loads. It never touches a
// live job. Every worker runs one; the advisory lock lets one at a time
// work.
type Pruner struct {
	DB     *store.DB
	Logger *slog.Logger
	// Rules are the retention periods (store.Retention).
	Rules store.Retention
	// Interval between passes.
	Interval time.Duration
	// Audit, when set, has its rows older than AuditRetention pruned too
	// (0 keeps them forever): a retention of its own, since an audit trail
	// is kept far longer than jobs.
	Audit          *audit.Log
	AuditRetention time.Duration
}

// Run prunes at once, then every Interval until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		pruned, err := p.PruneOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.Logger.ErrorContext(ctx, "prune old rows", "err", err)
		case err == nil && pruned != store.Pruned{}:
			p.Logger.InfoContext(ctx, "pruned old rows", "jobs", pruned.Jobs, "idempotency_keys", pruned.IdempotencyKeys,
				"price_bars", pruned.PriceBars, "model_weights", pruned.ModelWeights, "audit_rows", pruned.AuditRows, "webhook_deliveries", pruned.WebhookDeliveries)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneOnce makes one pass and returns what it removed, also when it
// stopped at an error. It does nothing when another replica holds the lock.
func (p *Pruner) PruneOnce(ctx context.Context) (store.Pruned, error) {
	var pruned store.Pruned
	_, err := p.DB.WithAdvisoryLock(ctx, RetentionLockKey, func(ctx context.Context) error {
		var err error
		if pruned, err = p.DB.PruneOld(ctx, p.Rules); err != nil || p.Audit == nil {
			return err
		}
		pruned.AuditRows, err = p.Audit.Prune(ctx, p.AuditRetention)
		return err
	})
	return pruned, err
}
