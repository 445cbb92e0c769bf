// Package ratelimit counts events in Redis with a sliding window, so that
// "N a minute" means at most N in any sixty seconds, across every replica.
//
// go-redis/redis_rate, which Augur used first, is a GCRA: "20 a minute"
// there is a burst of 20 and then one every 3 s, which lets 39 sign-in
// attempts through in the first minute. A limit an operator writes down
// should be the limit enforced; a sliding log of at most N timestamps per
// key costs a small sorted set, and limits are small.
package ratelimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limit allows at most N events in any Window.
type Limit struct {
	N      int
	Window time.Duration
}

// PerMinute is at most n events in any minute.
func PerMinute(n int) Limit { return Limit{N: n, Window: time.Minute} }

// PerHour is at most n events in any hour.
func PerHour(n int) Limit { return Limit{N: n, Window: time.Hour} }

// Result is the outcome of one Allow.
type Result struct {
	// Allowed is whether the event was within the limit, and counted.
	Allowed bool
	// Remaining is how many more events the window allows now.
	Remaining int
	// RetryAfter is, for an event refused, how long until the oldest
	// counted event leaves the window and one more is allowed.
	RetryAfter time.Duration
}

// Limiter keeps the windows in Redis.
type Limiter struct {
	rdb redis.UniversalClient
}

// New returns a Limiter on rdb.
func New(rdb redis.UniversalClient) *Limiter { return &Limiter{rdb: rdb} }

// slidingLog keeps, under KEYS[1], the times (µs, from Redis's own clock,
// so replicas with skewed clocks agree) of the events allowed in the last
// ARGV[1] µs. A refused event is not recorded: hammering a spent limit
// does not push its end further away. The key expires with its window.
var slidingLog = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
`)

// Allow counts one event under key if fewer than lim.N were counted in the
// last lim.Window, and otherwise says how long to wait.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (Result, error) {
	// Each event is a member of its own, so two in one microsecond count twice.
	out, err := slidingLog.Run(ctx, l.rdb, []string{key}, lim.Window.Microseconds(), lim.N, rand.Text()).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return Result{Allowed: out[0] == 1, Remaining: int(out[1]), RetryAfter: time.Duration(out[2]) * time.Microsecond}, nil
}
