package market

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/upstream"
)

// lockKeyPrefix starts the Redis key of a ticker's fetch lock.
const lockKeyPrefix = "augur:market:fetch:"

// releaseLockScript deletes the fetch lock only if it still holds our
// token: after an expiry another replica may own it, and a plain DEL would
// release their lock.
const releaseLockScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// claim makes this replica the one that fetches t, or waits until another
// replica's fetch shows up in the cache. It returns the latest cache entry;
// if that is fresh the caller serves it. After FetchLockWait it gives up
// waiting and fetches anyway: a slow replica must not stall the others.
func (l *Loader) claim(ctx context.Context, t string, c cached) (release func(), latest cached, err error) {
	noop := func() {}
	if l.rdb == nil {
		return noop, c, nil
	}
	key := lockKeyPrefix + t
	token := uuid.NewString()
	poll := min(100*time.Millisecond, l.lockWait/10)
	deadline := time.Now().Add(l.lockWait)
	for {
		ok, err := l.rdb.SetNX(ctx, key, token, l.lockTTL).Result()
		if err != nil && ctx.Err() != nil {
			return nil, c, ctx.Err()
		}
		if err != nil {
			l.log.WarnContext(ctx, "fetch lock unavailable, fetching without it", "ticker", t, "err", err)
			return noop, c, nil
		}
		if ok {
			release = func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := l.unlock.Run(ctx, l.rdb, []string{key}, token).Err(); err != nil {
					l.log.WarnContext(ctx, "release fetch lock", "ticker", t, "err", err)
				}
			}
			// Another replica may have saved between our read and the lock.
			return release, l.readCache(ctx, t), nil
		}
		if err := upstream.Sleep(ctx, poll); err != nil {
			return nil, c, err
		}
		if c = l.readCache(ctx, t); l.fresh(c) {
			return noop, c, nil
		}
		if time.Now().After(deadline) {
			l.log.WarnContext(ctx, "gave up waiting for another replica's fetch", "ticker", t, "waited", l.lockWait)
			return noop, c, nil
		}
	}
}
