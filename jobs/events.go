package jobs

import (
	"context"
	"fmt"
	"strings"

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

// channelPrefix starts the name of every job's channel.
const channelPrefix = "augur:job:"

func channel(id uuid.UUID) string { return channelPrefix + id.String() }

// Publish announces that the job changed.
func (e *Events) Publish(ctx context.Context, id uuid.UUID) error {
	if err := e.rdb.Publish(ctx, channel(id), "changed").Err(); err != nil {
		return fmt.Errorf("publish job event: %w", err)
	}
	return nil
}

// SubscribeAll returns one subscription to every job's changes, for a
// process that fans them out to its own watchers: one Redis connection per
// process rather than one per watcher. Close it when done.
func (e *Events) SubscribeAll(ctx context.Context) *redis.PubSub {
	return e.rdb.PSubscribe(ctx, channelPrefix+"*")
}

// JobOf returns the job a message of SubscribeAll is about.
func JobOf(msg *redis.Message) (uuid.UUID, bool) {
	raw, ok := strings.CutPrefix(msg.Channel, channelPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(raw)
	return id, err == nil
}

// Subscribe returns a subscription to one job's changes. Close it when done.
func (e *Events) Subscribe(ctx context.Context, id uuid.UUID) *redis.PubSub {
	return e.rdb.Subscribe(ctx, channel(id))
}
