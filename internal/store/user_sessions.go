package store

import (
	"context"
	"fmt"
	"time"
)

// UserSession is one signed-in browser session of a user.
type UserSession struct {
	ID        int64     `db:"id"`
	Token     string    `db:"token"`
	UserAgent string    `db:"user_agent"`
	IP        string    `db:"ip"`
	CreatedAt time.Time `db:"created_at"`
	LastSeen  time.Time `db:"last_seen"`
}

// maxUserAgent bounds the User-Agent kept: it only names a device.
const maxUserAgent = 256

// RecordSession notes that the session token now signs in the user at
// epoch, from that device and address.
func (db *DB) RecordSession(ctx context.Context, token string, userID, epoch int64, userAgent, ip string) error {
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	_, err := db.exec(ctx, `INSERT INTO user_sessions (token, user_id, epoch, user_agent, ip) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (token) DO UPDATE SET user_id = $2, epoch = $3, user_agent = $4, ip = $5, created_at = now(), last_seen = now()`,
		token, userID, epoch, userAgent, ip)
	if err != nil {
		return fmt.Errorf("record session of user %d: %w", userID, err)
	}
	return nil
}

// ForgetSession drops the note of a session token that signs in nobody now.
func (db *DB) ForgetSession(ctx context.Context, token string) error {
	if _, err := db.exec(ctx, `DELETE FROM user_sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("forget session: %w", err)
	}
	return nil
}

// TouchSession records a request of the session from ip. It writes at
// most once a minute per session, so that browsing is not a write each.
func (db *DB) TouchSession(ctx context.Context, token, ip string) error {
	_, err := db.exec(ctx, `UPDATE user_sessions SET last_seen = now(), ip = $2
		WHERE token = $1 AND (last_seen < now() - interval '1 minute' OR ip <> $2)`, token, ip)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// UserSessions lists the user's live sessions, last seen first. It first
// prunes the notes of sessions that ended (expired, signed out, or of an
// older session epoch), which nothing else removes.
func (db *DB) UserSessions(ctx context.Context, userID int64) ([]UserSession, error) {
	_, err := db.exec(ctx, `DELETE FROM user_sessions us USING users u
		WHERE us.user_id = $1 AND u.id = us.user_id
		  AND (us.epoch <> u.session_epoch
		       OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = us.token AND s.expiry > now()))`, userID)
	if err != nil {
		return nil, fmt.Errorf("prune sessions of user %d: %w", userID, err)
	}
	var out []UserSession
	err = db.selectAll(ctx, &out, `SELECT id, token, user_agent, ip, created_at, last_seen
		FROM user_sessions WHERE user_id = $1 ORDER BY last_seen DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// EndOtherSessions raises the user's session epoch, which ends every
// session of the user, and returns the new epoch for the one session that
// is to go on (it signs in again at it).
func (db *DB) EndOtherSessions(ctx context.Context, userID int64) (int64, error) {
	var epoch int64
	err := db.get(ctx, &epoch, `UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch`, userID)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return epoch, nil
}
