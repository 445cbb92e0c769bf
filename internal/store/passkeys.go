package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Passkey is one of a user's WebAuthn credentials. Credential is the
// record go-webauthn verifies against, as JSON.
type Passkey struct {
	ID           int64      `db:"id"`
	UserID       int64      `db:"user_id"`
	CredentialID []byte     `db:"credential_id"`
	Credential   []byte     `db:"credential"`
	Name         string     `db:"name"`
	CreatedAt    time.Time  `db:"created_at"`
	LastUsedAt   *time.Time `db:"last_used_at"`
}

const passkeyColumns = `id, user_id, credential_id, credential, name, created_at, last_used_at`

// AddPasskey stores a new passkey of the user. A credential id already
// stored gives ErrConflict.
func (db *DB) AddPasskey(ctx context.Context, userID int64, credentialID, credential []byte, name string) error {
	_, err := db.exec(ctx, `INSERT INTO webauthn_credentials (user_id, credential_id, credential, name) VALUES ($1, $2, $3, $4)`,
		userID, credentialID, credential, name)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("passkey of user %d: %w", userID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add passkey of user %d: %w", userID, err)
	}
	return nil
}

// UserPasskeys lists the user's passkeys, oldest first.
func (db *DB) UserPasskeys(ctx context.Context, userID int64) ([]Passkey, error) {
	var out []Passkey
	if err := db.selectAll(ctx, &out, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE user_id = $1 ORDER BY id`, userID); err != nil {
		return nil, fmt.Errorf("list passkeys of user %d: %w", userID, err)
	}
	return out, nil
}

// PasskeyByCredentialID returns the passkey with that credential id, or
// ErrNotFound.
func (db *DB) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error) {
	var p Passkey
	err := db.get(ctx, &p, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE credential_id = $1`, credentialID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load passkey: %w", err)
	}
	return &p, nil
}

// PasskeyUsed stores the credential record after a sign-in (its sign
// count moves on) and the time of use.
func (db *DB) PasskeyUsed(ctx context.Context, id int64, credential []byte) error {
	if _, err := db.exec(ctx, `UPDATE webauthn_credentials SET credential = $2, last_used_at = now() WHERE id = $1`, id, credential); err != nil {
		return fmt.Errorf("record use of passkey %d: %w", id, err)
	}
	return nil
}

// DeleteOwnPasskey deletes one of the user's passkeys; another user's, or
// one already gone, gives ErrNotFound.
func (db *DB) DeleteOwnPasskey(ctx context.Context, userID, id int64) error {
	return db.deleteOwn(ctx, `DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2`, "delete passkey", userID, id)
}
