package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/jobs"
)

// TestJobEventsStayInTheirDeployment: pub/sub ignores Redis databases,
// so a deployment on DB 4 heard every job event of one on DB 3 (issue 17
// item 9); channels now carry the database.
func TestJobEventsStayInTheirDeployment(t *testing.T) {
	ctx := context.Background()
	dbtest.Redis(t)
	on := func(db int) *jobs.Events {
		c := redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t), DB: db})
		t.Cleanup(func() { c.Close() })
		return jobs.NewEvents(c, keyspace.Of(keyspace.DefaultPrefix, c))
	}
	three, four := on(3), on(4)
	sub := four.SubscribeAll(ctx)
	defer sub.Close()
	_, err := sub.Receive(ctx) // the subscription is in place
	require.NoError(t, err)

	theirs, mine := uuid.New(), uuid.New()
	require.NoError(t, three.Publish(ctx, theirs))
	require.NoError(t, four.Publish(ctx, mine))
	select {
	case msg := <-sub.Channel():
		id, ok := four.JobOf(msg)
		require.True(t, ok)
		require.Equal(t, mine, id, "the first event heard is this deployment's own")
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
}
