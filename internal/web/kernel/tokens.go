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

	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/store"
)

// The token cache spares PostgreSQL a lookup on every API request: a Bearer
// token's user is remembered for tokenCacheTTL. Every change that must stop
// a token at once (a revocation, a deactivation, a role or password change)
// calls InvalidateUser, which publishes the user's id on one Redis channel;
// every web replica subscribes to it and forgets that user's tokens.
//
// A replica may answer from its cache only while it holds proof that it has
// heard every invalidation published up to TokenCacheLease ago: it pings
// Redis through its subscription every tokenCachePing, and an answered ping
// proves that everything published before the ping was sent has been
// handled (Redis answers in order, on the one connection). A replica whose
// proof is older than the lease (Redis down, or its connection silently
// dead) asks PostgreSQL instead. So InvalidateUser returns as soon as every
// replica Redis counts has confirmed; and when one has not (its connection
// is blackholed), only once TokenCacheLease has passed since the message
// was published, by which time that replica must have stopped using its
// cache. Either way the next request anywhere is judged by PostgreSQL.
const (
	// tokenCacheTTL bounds how long a replica may use what it read. With
	// the lease it only keeps last_used_at, which only a PostgreSQL lookup
	// refreshes, within 10 s; and it is the one bound left should the
	// process that made the change fail to publish it while the replicas
	// still hear Redis (see InvalidateUser).
	tokenCacheTTL = 10 * time.Second
	// tokenCacheSize caps the entries; each is a few hundred bytes.
	tokenCacheSize = 10_000
	// tokenCachePing is how often the subscriber pings Redis through its
	// subscription: one PING a second per web process.
	tokenCachePing = time.Second
	// TokenCacheLease is how long an answered ping lets a replica answer
	// from its cache, counted from when the ping was sent, and so how long
	// a revocation that a replica did not confirm waits. Three pings'
	// worth, so that one slow answer does not send every request to
	// PostgreSQL.
	TokenCacheLease = 3 * time.Second
)

// invalidationChannel carries "<user id> <nonce>": forget that user's
// tokens, then confirm on the list ackKey(nonce). Both are the
// deployment's own (see keyspace): the replicas of another deployment on
// the server neither hear it nor count among those to confirm.
func invalidationChannel(space keyspace.Space) string { return space.Channel("auth:invalidate") }

func ackKey(space keyspace.Space, nonce string) string { return space.Key("auth:invalidated:" + nonce) }

// tokenCache maps a token's digest to its user, for this process.
type tokenCache struct {
	rdb    *redis.Client
	space  keyspace.Space
	logger *slog.Logger

	mu      sync.Mutex
	entries map[[32]byte]tokenEntry
	// live is set while the subscription is confirmed; only then does the
	// cache keep anything.
	live bool
	// heard is when the last ping that Redis answered was sent (or the
	// subscription made): every invalidation published before it has been
	// handled. The cache answers only within TokenCacheLease of it.
	heard time.Time
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

func newTokenCache(rdb *redis.Client, space keyspace.Space, logger *slog.Logger) *tokenCache {
	return &tokenCache{rdb: rdb, space: space, logger: logger, entries: map[[32]byte]tokenEntry{}}
}

// lookup returns the cached user of digest, or, when there is none, the
// generation to hand to store.
func (tc *tokenCache) lookup(digest [32]byte) (user *store.User, gen uint64, ok bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if !tc.live || time.Since(tc.heard) >= TokenCacheLease {
		return nil, tc.gen, false
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
// confirmed: whatever was published while it was not went unheard. A
// subscription confirmed has heard everything published since it was
// asked for, at subscribed.
func (tc *tokenCache) setLive(live bool, subscribed time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.gen++
	clear(tc.entries)
	tc.live = live
	tc.heard = subscribed
}

// answered records that Redis answered a ping sent at sent.
func (tc *tokenCache) answered(sent time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if sent.After(tc.heard) {
		tc.heard = sent
	}
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
	var subscribed time.Time
	holdSubscription(ctx,
		func() *redis.PubSub {
			subscribed = time.Now()
			sub := tc.rdb.Subscribe(ctx, invalidationChannel(tc.space))
			tc.mu.Lock()
			defer tc.mu.Unlock()
			if ctx.Err() != nil {
				_ = sub.Close()
				return nil
			}
			tc.sub = sub
			return sub
		},
		func(sub *redis.PubSub) (bool, error) { return tc.receive(ctx, sub, subscribed) },
		func(err error) bool {
			tc.setLive(false, time.Time{})
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

// receive handles the subscription, asked for at subscribed, until it
// fails. It pings Redis every tokenCachePing, each ping carrying its send
// time, so that each answer renews the cache's lease; and it gives the
// connection up for dead once no ping has been answered for a lease. It
// reports whether the subscription was ever confirmed.
func (tc *tokenCache) receive(ctx context.Context, sub *redis.PubSub, subscribed time.Time) (confirmed bool, err error) {
	// A ping's payload is its send time as an offset from base, which
	// keeps the monotonic clock.
	base := time.Now()
	heard, nextPing := subscribed, base
	for {
		now := time.Now()
		if silent := now.Sub(heard); silent >= TokenCacheLease {
			return confirmed, fmt.Errorf("no answer from Redis for %v", silent.Round(time.Millisecond))
		}
		if !now.Before(nextPing) {
			if err := sub.Ping(ctx, strconv.FormatInt(int64(now.Sub(base)), 10)); err != nil {
				return confirmed, err
			}
			nextPing = now.Add(tokenCachePing)
		}
		// Never 0, which would wait for ever.
		wait := max(min(time.Until(nextPing), time.Until(heard.Add(TokenCacheLease))), time.Millisecond)
		msg, err := sub.ReceiveTimeout(ctx, wait)
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			continue
		case err != nil:
			return confirmed, err
		}
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				confirmed = true
				tc.setLive(true, subscribed)
			}
		case *redis.Pong:
			if offset, err := strconv.ParseInt(msg.Payload, 10, 64); err == nil {
				heard = base.Add(time.Duration(offset))
				tc.answered(heard)
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
		p.RPush(ctx, ackKey(tc.space, nonce), "1")
		p.Expire(ctx, ackKey(tc.space, nonce), time.Minute)
		return nil
	})
	if err != nil {
		tc.logger.WarnContext(ctx, "confirm API token invalidation", "err", err)
	}
}

// InvalidateUser tells every web replica to forget the cached API tokens
// of the user, and returns once none can serve them from its cache: when
// every replica subscribed has confirmed, or else once TokenCacheLease has
// passed since the message went out, by when a replica that did not hear
// it has stopped answering from its cache. Call it after committing a
// change that must stop the user's tokens or change what they may do. An
// error says who was not told; it returns only after the wait all the
// same. Without Redis it can tell no one, and waits out the lease too:
// replicas stop using their caches within it of losing Redis. The one case
// it cannot cover is Redis reachable by the replicas but not by this
// process: they then keep the user's tokens up to tokenCacheTTL. space is
// the deployment's (see keyspace).
func InvalidateUser(ctx context.Context, rdb *redis.Client, space keyspace.Space, userID int64) error {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	nonce := hex.EncodeToString(raw[:])
	ctx, cancel := context.WithTimeout(ctx, TokenCacheLease+RedisCallTimeout)
	defer cancel()
	replicas, err := rdb.Publish(ctx, invalidationChannel(space), strconv.FormatInt(userID, 10)+" "+nonce).Result()
	// Whoever has not heard the message by now stops using its cache
	// within the lease.
	safe := time.Now().Add(TokenCacheLease)
	if err != nil {
		waitUntil(ctx, safe)
		return fmt.Errorf("publish invalidation of user %d: %w", userID, err)
	}
	confirmed, err := awaitConfirmations(ctx, rdb, ackKey(space, nonce), replicas, safe)
	if confirmed < replicas {
		waitUntil(ctx, safe)
		if err == nil {
			err = fmt.Errorf("waited out their cache's lease of %v", TokenCacheLease)
		}
		return fmt.Errorf("invalidation of user %d: %d of %d replicas confirmed: %w", userID, confirmed, replicas, err)
	}
	return nil
}

// awaitConfirmations counts the confirmations on key, up to want, until
// deadline.
func awaitConfirmations(ctx context.Context, rdb *redis.Client, key string, want int64, deadline time.Time) (int64, error) {
	var confirmed int64
	for confirmed < want {
		left := time.Until(deadline)
		if left <= 0 {
			return confirmed, nil
		}
		// BLPOP takes fractions of a second as text; each wait stays
		// well under the client's read timeout. At least a millisecond,
		// as 0 would block for ever.
		wait := max(min(left, 500*time.Millisecond), time.Millisecond)
		err := rdb.Do(ctx, "BLPOP", key, strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)).Err()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return confirmed, err
		default:
			confirmed++
		}
	}
	return confirmed, nil
}

// waitUntil sleeps until t, or until ctx ends.
func waitUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// Invalidate forgets the user's tokens here at once, then on every replica;
// a failure to tell them is logged, as the change itself is committed and
// InvalidateUser says why the other replicas are safe.
func (k *Kernel) Invalidate(ctx context.Context, userID int64) {
	k.tokens.forget(userID)
	if k.Redis == nil {
		return
	}
	if err := InvalidateUser(ctx, k.Redis, k.space, userID); err != nil {
		k.Logger.WarnContext(ctx, "API token cache invalidation", "user_id", userID, "err", err)
	}
}
