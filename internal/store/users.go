package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// ErrConflict means a unique value (email, username, idempotency key) is taken.
var ErrConflict = errors.New("already exists")

// Roles a user can have.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is an account.
type User struct {
	ID           int64     `db:"id"`
	Email        string    `db:"email"`
	Username     string    `db:"username"`
	PasswordHash string    `db:"password_hash"`
	Role         string    `db:"role"`
	Active       bool      `db:"active"`
	CreatedAt    time.Time `db:"created_at"`
}

const userColumns = `id, email, username, password_hash, role, active, created_at`

// CreateUser inserts a user. A taken email or username gives ErrConflict.
func (db *DB) CreateUser(ctx context.Context, email, username, passwordHash, role string) (*User, error) {
	var u User
	err := db.pool.GetContext(ctx, &u, `INSERT INTO users (email, username, password_hash, role)
		VALUES ($1, $2, $3, $4) RETURNING `+userColumns, email, username, passwordHash, role)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("user %s / %s: %w", email, username, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return &u, nil
}

// CreateAPIToken stores the digest of a new token for the user.
func (db *DB) CreateAPIToken(ctx context.Context, userID int64, digest []byte, name string) error {
	_, err := db.pool.ExecContext(ctx, `INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, $2, $3)`,
		userID, digest, name)
	if err != nil {
		return fmt.Errorf("insert api token: %w", err)
	}
	return nil
}

// UserByTokenDigest returns the active user owning the token with that digest.
// Unknown tokens and inactive users give ErrNotFound. The token's
// last_used_at is refreshed at most once a minute, so authenticating does not
// turn every API read into a write.
func (db *DB) UserByTokenDigest(ctx context.Context, digest []byte) (*User, error) {
	var row struct {
		User
		TokenID  int64 `db:"token_id"`
		UsedLate bool  `db:"used_late"`
	}
	err := db.pool.GetContext(ctx, &row, `SELECT u.id, u.email, u.username, u.password_hash, u.role, u.active, u.created_at,
			t.id AS token_id,
			(t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS used_late
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND u.active`, digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if row.UsedLate {
		if _, err := db.pool.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, row.TokenID); err != nil {
			return nil, fmt.Errorf("touch api token: %w", err)
		}
	}
	return &row.User, nil
}

func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// UserByUsername returns the user with that username (case-insensitive).
func (db *DB) UserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	err := db.pool.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", username, err)
	}
	return &u, nil
}
