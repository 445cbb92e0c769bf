// Package keyspace names the pub/sub channels and keys one Augur
// deployment uses in Redis, so that deployments sharing a Redis server
// never hear each other.
//
// Keys live in the client's database (REDIS_URL's /N), so two deployments
// on two databases of one server keep them apart already. Pub/sub does
// not: Redis delivers a message to the subscribers of a channel on every
// database. Two deployments on DB 3 and DB 4 of one server then dropped
// each other's cached API tokens (same user ids) and waited on each
// other's replicas to confirm. So channels carry the database number as
// well as the deployment's prefix (REDIS_PREFIX), and the keys that go
// with them (replicas' confirmations) the prefix.
package keyspace

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is REDIS_PREFIX's default, and the prefix of a zero Space.
const DefaultPrefix = "augur"

// Space is one deployment's share of a Redis server: its prefix and its
// database. The zero Space is DefaultPrefix on database 0.
type Space struct {
	Prefix string
	DB     int
}

// Of is the Space of prefix on rdb's database.
func Of(prefix string, rdb *redis.Client) Space {
	return Space{Prefix: prefix, DB: rdb.Options().DB}
}

func (s Space) prefix() string {
	if s.Prefix == "" {
		return DefaultPrefix
	}
	return s.Prefix
}

// Channel names a pub/sub channel of the deployment: prefix, database,
// name.
func (s Space) Channel(name string) string {
	return s.prefix() + ":" + strconv.Itoa(s.DB) + ":" + name
}

// Key names a key of the deployment: prefix, name.
func (s Space) Key(name string) string { return s.prefix() + ":" + name }
