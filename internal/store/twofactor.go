package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrReplay means a one-time code was already used: a TOTP time step no
// newer than the last one accepted, or a spent recovery code.
var ErrReplay = errors.New("code already used")

// TOTP is a user's authenticator: its sealed secret, whether a first code
// has confirmed it, and the newest time step accepted.
type TOTP struct {
	UserID       int64      `db:"user_id"`
	SecretSealed []byte     `db:"secret_sealed"`
	ConfirmedAt  *time.Time `db:"confirmed_at"`
	LastStep     int64      `db:"last_step"`
}

// SecondFactors is what protects a user's sign-in besides the password.
type SecondFactors struct {
	// TOTP is true once an authenticator is confirmed.
	TOTP bool `db:"totp"`
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int `db:"recovery_left"`
	// Passkeys counts the registered passkeys.
	Passkeys int `db:"passkeys"`
}

// Any reports whether sign-in asks for a second step.
func (f SecondFactors) Any() bool { return f.TOTP || f.Passkeys > 0 }

// BeginTOTP stores a new, unconfirmed authenticator secret for the user,
// replacing an earlier unconfirmed one. A confirmed authenticator stays:
// it must be turned off first, so that setting up cannot be used to drop
// it; then ErrConflict.
func (db *DB) BeginTOTP(ctx context.Context, userID int64, sealed []byte) error {
	n, err := db.exec(ctx, `INSERT INTO user_totp (user_id, secret_sealed) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0, created_at = now()
		WHERE user_totp.confirmed_at IS NULL`, userID, sealed)
	if err != nil {
		return fmt.Errorf("begin totp of user %d: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("totp of user %d: %w", userID, ErrConflict)
	}
	return nil
}

// UserTOTP returns the user's authenticator, confirmed or not, or ErrNotFound.
func (db *DB) UserTOTP(ctx context.Context, userID int64) (*TOTP, error) {
	var t TOTP
	err := db.get(ctx, &t, `SELECT user_id, secret_sealed, confirmed_at, last_step FROM user_totp WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load totp of user %d: %w", userID, err)
	}
	return &t, nil
}

// ConfirmTOTP turns the user's pending authenticator on, with step as the
// first accepted time step, and replaces the recovery codes with those of
// the given digests, in one transaction. Without a pending authenticator
// it gives ErrNotFound.
func (db *DB) ConfirmTOTP(ctx context.Context, userID, step int64, codeDigests [][]byte) error {
	return db.inTx(ctx, nil, func(tx querier) error {
		n, err := tx.exec(ctx, `UPDATE user_totp SET confirmed_at = now(), last_step = $2
			WHERE user_id = $1 AND confirmed_at IS NULL`, userID, step)
		if err != nil {
			return fmt.Errorf("confirm totp of user %d: %w", userID, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return replaceRecoveryCodes(ctx, tx, userID, codeDigests)
	})
}

func replaceRecoveryCodes(ctx context.Context, tx querier, userID int64, codeDigests [][]byte) error {
	if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("drop recovery codes of user %d: %w", userID, err)
	}
	for _, d := range codeDigests {
		if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, userID, d); err != nil {
			return fmt.Errorf("insert recovery code of user %d: %w", userID, err)
		}
	}
	return nil
}

// AcceptTOTPStep records step as the newest accepted time step of the
// user's confirmed authenticator. A step no newer than the last gives
// ErrReplay: the check and the write are one statement, so two requests
// racing with the same code cannot both pass.
func (db *DB) AcceptTOTPStep(ctx context.Context, userID, step int64) error {
	n, err := db.exec(ctx, `UPDATE user_totp SET last_step = $2
		WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2`, userID, step)
	if err != nil {
		return fmt.Errorf("accept totp step of user %d: %w", userID, err)
	}
	if n == 0 {
		return ErrReplay
	}
	return nil
}

// UseRecoveryCode spends the user's unused recovery code with that digest.
// An unknown or spent code gives ErrReplay.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, digest []byte) error {
	n, err := db.exec(ctx, `UPDATE recovery_codes SET used_at = now()
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, userID, digest)
	if err != nil {
		return fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	if n == 0 {
		return ErrReplay
	}
	return nil
}

// UserSecondFactors says which second factors the user has on.
func (db *DB) UserSecondFactors(ctx context.Context, userID int64) (SecondFactors, error) {
	var f SecondFactors
	err := db.get(ctx, &f, `SELECT
			EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
			(SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS recovery_left,
			(SELECT count(*) FROM webauthn_credentials WHERE user_id = $1) AS passkeys`, userID)
	if err != nil {
		return f, fmt.Errorf("load second factors of user %d: %w", userID, err)
	}
	return f, nil
}

// RemoveSecondFactors turns the user's authenticator off and deletes the
// recovery codes, and with passkeys the passkeys too. With endSessions (an administrator's reset, when the
// factor may be in the wrong hands) it also raises the session epoch, so
// every session of the user ends. It gives ErrNotFound for no such user.
func (db *DB) RemoveSecondFactors(ctx context.Context, userID int64, passkeys, endSessions bool) error {
	return db.inTx(ctx, nil, func(tx querier) error {
		n, err := tx.exec(ctx, `UPDATE users SET session_epoch = session_epoch + CASE WHEN $2 THEN 1 ELSE 0 END
			WHERE id = $1`, userID, endSessions)
		if err != nil {
			return fmt.Errorf("reset second factors of user %d: %w", userID, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("delete totp of user %d: %w", userID, err)
		}
		if passkeys {
			if _, err := tx.exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1`, userID); err != nil {
				return fmt.Errorf("delete passkeys of user %d: %w", userID, err)
			}
		}
		return replaceRecoveryCodes(ctx, tx, userID, nil)
	})
}
