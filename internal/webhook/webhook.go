// Package webhook is the sending side of Augur's webhooks, as the Standard
// Webhooks specification (https://www.standardwebhooks.com) describes
// them: per-endpoint secrets, the signature of each message, the guard that
// keeps deliveries away from private networks (SSRF), one HTTP attempt and
// what it means, and the retry schedule. It knows nothing of SQL or
// queues: internal/store records endpoints and deliveries, and jobs/ runs
// the attempts.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every endpoint secret, as the specification
// suggests, so that a leaked one is easy to recognise.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret's key: 32 bytes, the size of
// HMAC-SHA256's output, above the specification's minimum of 24.
const secretBytes = 32

// Headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a fresh endpoint secret: SecretPrefix and the base64
// of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("draw webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ErrBadSecret means a secret is not SecretPrefix and base64.
var ErrBadSecret = errors.New("webhook secret is not whsec_ and base64")

// SecretKey returns the HMAC key of a secret: the base64 after the prefix,
// decoded. The prefix is optional, as in the specification's libraries.
func SecretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Sign returns the value of the webhook-signature header for message id
// sent at ts with body: "v1," and the base64 HMAC-SHA256, under key, of
// "id.timestamp.body", timestamp in Unix seconds.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Message is the body of every delivery, as the specification shapes it:
// the event type (e.g. "job.completed"), when the event happened, and its
// data (see store.WebhookJobData for a job's).
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}
