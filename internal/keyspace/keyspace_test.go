package keyspace

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestChannelsCarryTheDatabaseAndKeysThePrefix(t *testing.T) {
	t.Parallel()
	require.Equal(t, "augur:0:auth:invalidate", Space{}.Channel("auth:invalidate"))
	require.Equal(t, "augur:auth:invalidated:n", Space{}.Key("auth:invalidated:n"))
	db3 := Of("augur", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DB: 3}))
	db4 := Of("augur", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DB: 4}))
	require.NotEqual(t, db3.Channel("job:x"), db4.Channel("job:x"), "pub/sub crosses databases")
	require.Equal(t, "staging:3:job:x", Space{Prefix: "staging", DB: 3}.Channel("job:x"))
	require.Equal(t, "staging:lock", Space{Prefix: "staging", DB: 3}.Key("lock"))
}
