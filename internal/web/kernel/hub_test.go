package kernel

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/jobs"
)

// TestHubRecoversWhenRedisReturns: a hub that started while Redis was down
// subscribes once it is back, with no restart, and then notes every stream
// (changes made meanwhile were never announced) and passes events on.
func TestHubRecoversWhenRedisReturns(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t)})
	t.Cleanup(func() { rdb.Close() })
	events := jobs.NewEvents(rdb, keyspace.Space{})
	hub := newStreamHub(events, slog.New(slog.NewTextHandler(io.Discard, nil)), 10, 10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // guards a hung test only
	defer cancel()

	dbtest.StopRedis(t)
	job := uuid.New()
	w, err := hub.Watch(ctx, 1, job)
	require.NoError(t, err)
	defer hub.Leave(w)
	require.False(t, hub.IsLive(), "no Redis, no subscription: the stream polls")

	dbtest.StartRedis(t)
	select {
	case <-w.notes:
	case <-ctx.Done():
		t.Fatal("the hub never came back")
	}
	require.True(t, hub.IsLive())

	require.NoError(t, events.Publish(ctx, job))
	select {
	case <-w.notes:
	case <-ctx.Done():
		t.Fatal("the event was not passed on")
	}
}

// TestHubStopsWithItsLastStream: the subscription lives only while some
// stream does, so an idle process holds no Redis connection for it.
func TestHubStopsWithItsLastStream(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t)})
	t.Cleanup(func() { rdb.Close() })
	hub := newStreamHub(jobs.NewEvents(rdb, keyspace.Space{}), slog.New(slog.NewTextHandler(io.Discard, nil)), 10, 10)
	a, err := hub.Watch(context.Background(), 1, uuid.New())
	require.NoError(t, err)
	b, err := hub.Watch(context.Background(), 2, uuid.New())
	require.NoError(t, err)
	require.True(t, hub.IsLive())
	hub.Leave(a)
	require.True(t, hub.IsLive())
	hub.Leave(b)
	require.False(t, hub.IsLive())
	hub.mu.Lock()
	defer hub.mu.Unlock()
	require.Nil(t, hub.cancel)
	require.Zero(t, hub.total)
	require.Empty(t, hub.byUser)
	require.Empty(t, hub.watchers)
}
