package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// ErrLastAdmin means the change would leave no active admin: nobody could
// administer the accounts any more.
var ErrLastAdmin = errors.New("it is the last active admin")

// ListUsers returns every account, oldest first.
func (db *DB) ListUsers(ctx context.Context) ([]User, error) {
	var users []User
	if err := db.selectAll(ctx, &users, `SELECT `+userColumns+` FROM users ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// SetUserActive activates or deactivates the user with that username. A
// deactivated user's tokens stop working at once. Deactivating the last
// active admin gives ErrLastAdmin.
func (db *DB) SetUserActive(ctx context.Context, username string, active bool) (*User, error) {
	return db.changeUser(ctx, username, func(u *User) { u.Active = active }, nil)
}

// SetUserRole gives the user with that username a role. Demoting the last
// active admin gives ErrLastAdmin.
func (db *DB) SetUserRole(ctx context.Context, username, role string) (*User, error) {
	if role != RoleUser && role != RoleAdmin {
		return nil, fmt.Errorf("role %q: must be %s or %s", role, RoleUser, RoleAdmin)
	}
	return db.changeUser(ctx, username, func(u *User) { u.Role = role }, nil)
}

// UpdateUser changes the role, the active flag, or both, of the user with
// that username in one transaction; nil leaves a value as it is. A change
// that would leave no active admin gives ErrLastAdmin and changes nothing.
func (db *DB) UpdateUser(ctx context.Context, username string, role *string, active *bool) (*User, error) {
	return db.UpdateUserAudited(ctx, username, role, active, nil)
}

// UpdateUserAudited is UpdateUser that appends audit, when set, in the
// change's transaction: a role is never changed unaudited.
func (db *DB) UpdateUserAudited(ctx context.Context, username string, role *string, active *bool, audit *AuditAppend) (*User, error) {
	if role != nil && *role != RoleUser && *role != RoleAdmin {
		return nil, fmt.Errorf("role %q: must be %s or %s", *role, RoleUser, RoleAdmin)
	}
	return db.changeUser(ctx, username, func(u *User) {
		if role != nil {
			u.Role = *role
		}
		if active != nil {
			u.Active = *active
		}
	}, audit)
}

// changeUser applies change to a user's role and active flag in one
// transaction that first locks every active admin. Two operators demoting
// the last two admins at once are thus serialised: the second sees the
// first's change and is refused.
// audit, when set, is appended in the same transaction, so a change is
// never made without its row, nor a row kept for a change refused.
func (db *DB) changeUser(ctx context.Context, username string, change func(*User), audit *AuditAppend) (*User, error) {
	var u User
	err := db.inTx(ctx, nil, func(tx querier) error {
		var admins []int64
		if err := tx.selectAll(ctx, &admins, `SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE`); err != nil {
			return fmt.Errorf("lock admins: %w", err)
		}
		err := tx.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1) FOR UPDATE`, username)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %s: %w", username, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("load user %s: %w", username, err)
		}
		change(&u)
		stillAdmin := u.Role == RoleAdmin && u.Active
		if !stillAdmin && len(admins) == 1 && admins[0] == u.ID {
			return fmt.Errorf("user %s: %w", u.Username, ErrLastAdmin)
		}
		if _, err := tx.exec(ctx, `UPDATE users SET role = $2, active = $3 WHERE id = $1`, u.ID, u.Role, u.Active); err != nil {
			return fmt.Errorf("update user %s: %w", u.Username, err)
		}
		if audit == nil {
			return nil
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// APIToken is a token's record; the token itself is never stored.
type APIToken struct {
	ID         int64      `db:"id"`
	UserID     int64      `db:"user_id"`
	Username   string     `db:"username"`
	Name       string     `db:"name"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"` // nil: never used
}

const apiTokenColumns = `t.id, t.user_id, u.username, t.name, t.created_at, t.last_used_at`

// ListAPITokens returns the tokens of the user with that username, or of
// every user when username is empty, oldest first.
func (db *DB) ListAPITokens(ctx context.Context, username string) ([]APIToken, error) {
	var tokens []APIToken
	err := db.selectAll(ctx, &tokens, `SELECT `+apiTokenColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE $1 = '' OR lower(u.username) = lower($1) ORDER BY t.id`, username)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return tokens, nil
}

// RevokeAPIToken deletes a token, which stops working at once, and returns
// what it was.
func (db *DB) RevokeAPIToken(ctx context.Context, id int64) (*APIToken, error) {
	var t APIToken
	err := db.get(ctx, &t, `WITH gone AS (DELETE FROM api_tokens WHERE id = $1 RETURNING *)
		SELECT `+apiTokenColumns+` FROM gone t JOIN users u ON u.id = t.user_id`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("api token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("revoke api token %d: %w", id, err)
	}
	return &t, nil
}

// SchemaVersion returns the database's migration version and the version
// this binary's migrations reach.
func (db *DB) SchemaVersion(ctx context.Context) (current, target int64, err error) {
	p, err := db.migrator()
	if err != nil {
		return 0, 0, err
	}
	current, target, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, target, nil
}

// TableStats are a table's row count and a digest of all its rows, to
// tell that two databases hold the same data.
type TableStats struct {
	Table string `db:"table_name"`
	Rows  int64  `db:"rows"`
	// Digest is the md5 of every row's text, in sorted order.
	Digest string `db:"digest"`
}

// Tables returns the stats of every table in the public schema, by name.
func (db *DB) Tables(ctx context.Context) ([]TableStats, error) {
	var names []string
	if err := db.selectAll(ctx, &names, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	stats := make([]TableStats, 0, len(names))
	for _, name := range names {
		var s TableStats
		// Identifiers cannot be bound as parameters; the names come from
		// the catalogue and QuoteIdentifier makes any of them safe.
		// The one statement built at run time (see DB): not prepared.
		err := db.pool.GetContext(ctx, &s, `SELECT $1::text AS table_name, count(*) AS rows,
			coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') AS digest
			FROM public.`+pq.QuoteIdentifier(name)+` t`, name)
		if err != nil {
			return nil, fmt.Errorf("digest table %s: %w", name, err)
		}
		stats = append(stats, s)
	}
	return stats, nil
}
