package sentiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultCacheTTL is how long a source's answer is reused, as in the
// original app: news sentiment moves slowly next to free-tier quotas of 25
// calls a day.
const DefaultCacheTTL = time.Hour

// articleCache keeps each source's answer per ticker in Redis, so that runs
// within the TTL (other users, other presets, a retried job, other worker
// replicas) spend no upstream quota. A nil *articleCache caches nothing.
type articleCache struct {
	rdb *redis.Client
	ttl time.Duration
}

// cacheEntry is one source's cached answer.
type cacheEntry struct {
	// Limit is what the source was asked for. An answer shorter than Limit
	// was all the source had and serves any request; a full one serves
	// requests for up to Limit articles.
	Limit int `json:"limit"`
	articleBatch
}

func cacheKey(source, ticker string) string {
	return "augur:sentiment:" + source + ":" + ticker
}

// get returns the cached answer of source for ticker when it can serve a
// request for limit articles.
func (c *articleCache) get(ctx context.Context, source, ticker string, limit int) (articleBatch, bool, error) {
	if c == nil {
		return articleBatch{}, false, nil
	}
	key := cacheKey(source, ticker)
	data, err := c.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return articleBatch{}, false, nil
	}
	if err != nil {
		return articleBatch{}, false, fmt.Errorf("read %s: %w", key, err)
	}
	var entry cacheEntry
	if err := json.Unmarshal(data, &entry); err != nil {
		return articleBatch{}, false, fmt.Errorf("decode %s: %w", key, err)
	}
	if entry.Limit < limit && len(entry.Articles) >= entry.Limit {
		return articleBatch{}, false, nil
	}
	entry.Articles = firstN(entry.Articles, limit)
	return entry.articleBatch, true, nil
}

// put stores the answer source gave for ticker when asked for limit
// articles.
func (c *articleCache) put(ctx context.Context, source, ticker string, limit int, batch articleBatch) error {
	if c == nil {
		return nil
	}
	key := cacheKey(source, ticker)
	data, err := json.Marshal(cacheEntry{Limit: limit, articleBatch: batch})
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := c.rdb.Set(ctx, key, data, c.ttl).Err(); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}
