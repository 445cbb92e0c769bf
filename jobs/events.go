package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/keyspace"
)

// Events tells watchers (the SSE endpoint) that a job changed. The message
// carries nothing but the fact of the change: watchers re-read the job from
// PostgreSQL, the source of truth, so a lost message costs only latency.
type Events struct {
	rdb *redis.Client
	// prefix starts the name of every job's channel: the deployment's
	// (see keyspace), so another deployment on the server is not heard.
	prefix string
}

// NewEvents returns an Events on the given Redis client, in the
// deployment's space.
func NewEvents(rdb *redis.Client, space keyspace.Space) *Events {
	return &Events{rdb: rdb, prefix: space.Channel("job:")}
}

func (e *Events) channel(id uuid.UUID) string { return e.prefix + id.String() }

// Publish announces that the job changed.
func (e *Events) Publish(ctx context.Context, id uuid.UUID) error {
	if err := e.rdb.Publish(ctx, e.channel(id), "changed").Err(); err != nil {
		return fmt.Errorf("publish job event: %w", err)
	}
	return nil
}

// SubscribeAll returns one subscription to every job's changes, for a
// process that fans them out to its own watchers: one Redis connection per
// process rather than one per watcher. Close it when done.
func (e *Events) SubscribeAll(ctx context.Context) *redis.PubSub {
	return e.rdb.PSubscribe(ctx, e.prefix+"*")
}

// JobOf returns the job a message of SubscribeAll is about.
func (e *Events) JobOf(msg *redis.Message) (uuid.UUID, bool) {
	raw, ok := strings.CutPrefix(msg.Channel, e.prefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(raw)
	return id, err == nil
}

// Subscribe returns a subscription to one job's changes. Close it when done.
func (e *Events) Subscribe(ctx context.Context, id uuid.UUID) *redis.PubSub {
	return e.rdb.Subscribe(ctx, e.channel(id))
}
