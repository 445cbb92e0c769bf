package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Events tells watchers (the SSE endpoint) that a job changed. The message
// carries nothing but the fact of the change: watchers re-read the job from
// PostgreSQL, the source of truth, so a lost message costs only latency.
type Events struct {
	rdb *redis.Client
}

// NewEvents returns an Events on the given Redis client.
func NewEvents(rdb *redis.Client) *Events { return &Events{rdb: rdb} }

func channel(id uuid.UUID) string { return "augur:job:" + id.String() }

// Publish announces that the job changed.
func (e *Events) Publish(ctx context.Context, id uuid.UUID) error {
	if err := e.rdb.Publish(ctx, channel(id), "changed").Err(); err != nil {
		return fmt.Errorf("publish job event: %w", err)
	}
	return nil
}

// Subscribe returns a subscription to the job's changes. Close it when done.
func (e *Events) Subscribe(ctx context.Context, id uuid.UUID) *redis.PubSub {
	return e.rdb.Subscribe(ctx, channel(id))
}
