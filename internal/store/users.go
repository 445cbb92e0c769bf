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

// Which unique value of a user is taken; both are ErrConflict too.
var (
	ErrEmailTaken    = fmt.Errorf("email %w", ErrConflict)
	ErrUsernameTaken = fmt.Errorf("username %w", ErrConflict)
)

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
	// SessionEpoch rises whenever the user's sessions must end; a browser
	// session signed in at an older epoch no longer counts.
	SessionEpoch int64 `db:"session_epoch"`
	// TimeZone is the IANA zone the user reads times in; "" is the
	// browser's own.
	TimeZone string `db:"time_zone"`
}

const userColumns = `id, email, username, password_hash, role, active, created_at, session_epoch, time_zone`

// CreateUser inserts a user. A taken email gives ErrEmailTaken, a taken
// username ErrUsernameTaken, both compared case-insensitively.
func (db *DB) CreateUser(ctx context.Context, email, username, passwordHash, role string) (*User, error) {
	var u User
	err := db.get(ctx, &u, `INSERT INTO users (email, username, password_hash, role)
		VALUES ($1, $2, $3, $4) RETURNING `+userColumns, email, username, passwordHash, role)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		if pqErr.Constraint == "users_email_key" {
			return nil, fmt.Errorf("user %s: %w", email, ErrEmailTaken)
		}
		return nil, fmt.Errorf("user %s: %w", username, ErrUsernameTaken)
	}
	if err != nil {
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return &u, nil
}

// CreateAPIToken stores the digest of a new token for the user.
func (db *DB) CreateAPIToken(ctx context.Context, userID int64, digest []byte, name string) error {
	_, err := db.exec(ctx, `INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, $2, $3)`,
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
	err := db.get(ctx, &row, `SELECT u.id, u.email, u.username, u.password_hash, u.role, u.active, u.created_at, u.session_epoch,
			u.time_zone, t.id AS token_id,
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
		if _, err := db.exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, row.TokenID); err != nil {
			return nil, fmt.Errorf("touch api token: %w", err)
		}
	}
	return &row.User, nil
}

// UserByUsername returns the user with that username (case-insensitive).
func (db *DB) UserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	err := db.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", username, err)
	}
	return &u, nil
}

// UserByEmail returns the user with that email (case-insensitive).
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := db.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user by email: %w", err)
	}
	return &u, nil
}

// UserByID returns the user with that id.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := db.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return &u, nil
}

// SetPassword stores a new password hash and raises the user's session
// epoch, so that every session signed in before it ends. It returns the new
// epoch, for the one session that is to go on.
func (db *DB) SetPassword(ctx context.Context, userID int64, passwordHash string) (int64, error) {
	var epoch int64
	err := db.get(ctx, &epoch, `UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1
		WHERE id = $1 RETURNING session_epoch`, userID, passwordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("set password of user %d: %w", userID, err)
	}
	return epoch, nil
}

// APITokens lists the user's tokens, newest first.
func (db *DB) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	var out []APIToken
	err := db.selectAll(ctx, &out, `SELECT `+apiTokenColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens of user %d: %w", userID, err)
	}
	return out, nil
}

// RevokeOwnAPIToken deletes one of the user's tokens. Another user's token,
// or one already revoked, gives ErrNotFound.
func (db *DB) RevokeOwnAPIToken(ctx context.Context, userID, tokenID int64) error {
	return db.deleteOwn(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, "revoke api token", userID, tokenID)
}

// deleteOwn runs query, a DELETE of the row with id $1 owned by user $2;
// no such row of that user gives ErrNotFound.
func (db *DB) deleteOwn(ctx context.Context, query, what string, userID, id int64) error {
	n, err := db.exec(ctx, query, id, userID)
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetUserTimeZone sets the zone the user reads times in ("" for the
// browser's own); the caller checks it is a zone.
func (db *DB) SetUserTimeZone(ctx context.Context, id int64, zone string) error {
	n, err := db.exec(ctx, `UPDATE users SET time_zone = $2 WHERE id = $1`, id, zone)
	if err != nil {
		return fmt.Errorf("set time zone of user %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
