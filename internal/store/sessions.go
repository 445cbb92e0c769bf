package store

import (
	"time"

	"github.com/alexedwards/scs/postgresstore"
)

// SessionStore returns the browser-session store of scs on this database's
// sessions table. Its SQL is scs's own, run through this package's pool,
// which stays private. A cleanupInterval above zero starts a goroutine
// deleting expired sessions at that pace until StopCleanup; zero starts
// none (expired sessions are never read either way).
func (db *DB) SessionStore(cleanupInterval time.Duration) *postgresstore.PostgresStore {
	return postgresstore.NewWithCleanupInterval(db.pool.DB, cleanupInterval)
}
