package kernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/store"
)

// The token cache spares PostgreSQL a lookup on every API request: a Bearer
// token's user is remembered for tokenCacheTTL. Every change that must stop
// a token at once (a revocation, a deactivation, a role or password change)
// calls InvalidateUser, which publishes the user's id on one Redis channel;
// every web replica subscribes to it and forgets that user's tokens, and
// InvalidateUser returns once each subscribed replica has confirmed, so
// the next request anywhere is judged by PostgreSQL. A replica whose
// subscription is not confirmed live (Redis down, reconnecting) could miss
// a message, so it serves nothing from its cache until the subscription is
// back, and empties the cache then.
const (
	// tokenCacheTTL bounds how long a replica may use what it read. It is
	// the backstop for the one case the subscription cannot cover: a
	// connection to Redis that died silently and that the ping has not yet
	// found out (within 2 × tokenCachePing). 10 s keeps nearly every
	// request of a busy client off PostgreSQL, and keeps last_used_at, which
	// only a PostgreSQL lookup refreshes, within a minute and 10 k.
	tokenCacheTTL = 10 * time.Second
	// tokenCacheSize caps the entries; each is a few hundred bytes.
	tokenCacheSize = 10_000
	// tokenCachePing is how long the subscriber waits in silence before it
	// pings Redis, and then how long it waits for the answer before it
	// takes the connection for dead.
	tokenCachePing = 2 * time.Second
	// invalidationAckWait bounds how long InvalidateUser waits for the
	// replicas' confirmations. A replica that misses it has lost its
	// subscription, and serves nothing from its cache until it is back.
	invalidationAckWait = time.Second
)

// invalidationChannel carries "<user id> <nonce>": forget that user's
// tokens, then confirm on the list ackKey(nonce).
const invalidationChannel = "augur:auth:invalidate"

func ackKey(nonce string) string { return "augur:auth:invalidated:" + nonce }

// tokenCache maps a token's digest to its user, for this process.
type tokenCache struct {
	rdb    *redis.Client
	logger *slog.Logger

	mu      sync.Mutex
	entries map[[32]byte]tokenEntry
	// live is set while the subscription is confirmed; only then does the
	// cache answer or keep anything.
	live bool
	// gen rises at every eviction, so that a lookup that began before one
	// does not store what it read (it may predate the change).
	gen uint64
	// sub is the current subscription, which stop closes to end run.
	sub *redis.PubSub
}

type tokenEntry struct {
	user    store.User
	expires time.Time
}

func newTokenCache(rdb *redis.Client, logger *slog.Logger) *tokenCache {
	return &tokenCache{rdb: rdb, logger: logger, entries: map[[32]byte]tokenEntry{}}
}

// lookup returns the cached user of digest, or, when there is none, the
// generation to hand to store.
func (tc *tokenCache) lookup(digest [32]byte) (user *store.User, gen uint64, ok bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if !tc.live {
		return nil, 0, false
	}
	e, found := tc.entries[digest]
	if !found || time.Now().After(e.expires) {
		return nil, tc.gen, false
	}
	u := e.user // a copy: handlers may not share one
	return &u, 0, true
}

// store keeps what a PostgreSQL lookup begun at generation gen read,
// unless the cache was emptied or changed since, or is not live.
func (tc *tokenCache) store(digest [32]byte, user *store.User, gen uint64) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if !tc.live || gen != tc.gen {
		return
	}
	if len(tc.entries) >= tokenCacheSize {
		// Full: drop entries at random (Go's map order) to make room; with
		// a 10 s lifetime that does about as well as LRU, for less.
		for k := range tc.entries {
			delete(tc.entries, k)
			if len(tc.entries) < tokenCacheSize*9/10 {
				break
			}
		}
	}
	tc.entries[digest] = tokenEntry{user: *user, expires: time.Now().Add(tokenCacheTTL)}
}

// forget drops the user's tokens; user 0 stands for every user.
func (tc *tokenCache) forget(userID int64) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.gen++
	for k, e := range tc.entries {
		if userID == 0 || e.user.ID == userID {
			delete(tc.entries, k)
		}
	}
}

// setLive empties the cache and records whether the subscription is
// confirmed: whatever was published while it was not went unheard.
func (tc *tokenCache) setLive(live bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.gen++
	clear(tc.entries)
	tc.live = live
}

func (tc *tokenCache) isLive() bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.live
}

// start runs the subscriber until the returned stop is called; stop waits
// for it to end.
func (tc *tokenCache) start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tc.run(ctx)
	}()
	return func() {
		cancel()
		tc.mu.Lock()
		if tc.sub != nil {
			_ = tc.sub.Close() // ends a wait for the next message
		}
		tc.mu.Unlock()
		<-done
	}
}

// run holds the subscription to invalidations, reconnecting with backoff
// while Redis is down, until ctx ends or the Redis client is closed.
func (tc *tokenCache) run(ctx context.Context) {
	holdSubscription(ctx,
		func() *redis.PubSub {
			sub := tc.rdb.Subscribe(ctx, invalidationChannel)
			tc.mu.Lock()
			defer tc.mu.Unlock()
			if ctx.Err() != nil {
				_ = sub.Close()
				return nil
			}
			tc.sub = sub
			return sub
		},
		func(sub *redis.PubSub) (bool, error) { return tc.receive(ctx, sub) },
		func(err error) bool {
			tc.setLive(false)
			if ctx.Err() != nil || tc.closed(ctx, err) {
				return true
			}
			tc.logger.Warn("API token invalidations unavailable; tokens are looked up in PostgreSQL", "err", err)
			return false
		})
}

// closed reports whether err means that the Redis client was closed, which
// ends the subscriber: either the client said so, or the subscription's
// connection was closed under it and the client now says so.
func (tc *tokenCache) closed(ctx context.Context, err error) bool {
	return errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, net.ErrClosed) && errors.Is(tc.rdb.Ping(ctx).Err(), redis.ErrClosed)
}

// receive handles the subscription's messages until it fails, pinging Redis
// after each silence so that a connection that died without a word is
// found out. It reports whether the subscription was ever confirmed.
func (tc *tokenCache) receive(ctx context.Context, sub *redis.PubSub) (confirmed bool, err error) {
	pinged := false
	for {
		msg, err := sub.ReceiveTimeout(ctx, tokenCachePing)
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			if pinged {
				return confirmed, fmt.Errorf("no answer to a ping in %v", tokenCachePing)
			}
			if err := sub.Ping(ctx); err != nil {
				return confirmed, err
			}
			pinged = true
			continue
		case err != nil:
			return confirmed, err
		}
		pinged = false
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				confirmed = true
				tc.setLive(true)
			}
		case *redis.Message:
			tc.invalidated(ctx, msg.Payload)
		}
	}
}

// invalidated forgets the user a message names, then confirms it.
func (tc *tokenCache) invalidated(ctx context.Context, payload string) {
	id, nonce, _ := strings.Cut(payload, " ")
	userID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		// Not a user id: forget every token rather than guess.
		tc.logger.WarnContext(ctx, "unreadable API token invalidation; cache emptied", "payload", payload)
		tc.forget(0)
	} else {
		tc.forget(userID)
	}
	if nonce == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, RedisCallTimeout)
	defer cancel()
	_, err = tc.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, ackKey(nonce), "1")
		p.Expire(ctx, ackKey(nonce), time.Minute)
		return nil
	})
	if err != nil {
		tc.logger.WarnContext(ctx, "confirm API token invalidation", "err", err)
	}
}

// InvalidateUser tells every web replica to forget the cached API tokens
// of the user, and waits until each subscribed replica has (at most
// invalidationAckWait). Call it after committing a change that must stop
// the user's tokens or change what they may do. Without Redis it cannot
// tell anyone, and no replica needs telling: none serves from its cache
// while its subscription is down, and each empties it on reconnecting.
func InvalidateUser(ctx context.Context, rdb *redis.Client, userID int64) error {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	nonce := hex.EncodeToString(raw[:])
	ctx, cancel := context.WithTimeout(ctx, invalidationAckWait)
	defer cancel()
	replicas, err := rdb.Publish(ctx, invalidationChannel, strconv.FormatInt(userID, 10)+" "+nonce).Result()
	if err != nil {
		return fmt.Errorf("publish invalidation of user %d: %w", userID, err)
	}
	for confirmed := int64(0); confirmed < replicas; confirmed++ {
		if err := rdb.BLPop(ctx, invalidationAckWait, ackKey(nonce)).Err(); err != nil {
			return fmt.Errorf("invalidation of user %d: %d of %d replicas confirmed: %w", userID, confirmed, replicas, err)
		}
	}
	return nil
}

// Invalidate forgets the user's tokens here at once, then on every replica;
// a failure to tell them is logged, as the change itself is committed and
// InvalidateUser says why the other replicas are safe.
func (k *Kernel) Invalidate(ctx context.Context, userID int64) {
	k.tokens.forget(userID)
	if k.Redis == nil {
		return
	}
	if err := InvalidateUser(ctx, k.Redis, userID); err != nil {
		k.Logger.WarnContext(ctx, "API token cache invalidation", "user_id", userID, "err", err)
	}
}
