// Package auth hashes passwords with argon2id and issues API tokens of which
// only a SHA-256 digest is ever stored.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cost is argon2id's work factor: passes over memory, memory in KiB, and
// lanes. VerifyPassword reads it from each stored hash, so a hash made at
// another cost still verifies.
type cost struct {
	time    uint32
	memory  uint32
	threads uint8
}

// productionCost is the RFC 9106 "second recommended" profile with a
// smaller memory cost (64 MiB), which keeps a login well under 100 ms on a
// 2-core machine.
var productionCost = cost{time: 3, memory: 64 * 1024, threads: 2}

// testCost is argon2id's smallest cost, for tests that sign in without
// testing hashing: under the race detector a production hash takes seconds.
var testCost = cost{time: 1, memory: 8, threads: 1}

const (
	argonKeyLen = 32
	saltLen     = 16
)

// lowered is set while HashPassword uses testCost (see UseTestCost).
var lowered atomic.Bool

// UseTestCost makes HashPassword use argon2id's smallest cost until restore
// is called, for a test binary whose tests sign in but do not test hashing
// (dbtest.Main turns it on). It panics outside a test binary, so a
// production binary always hashes at the production cost.
func UseTestCost() (restore func()) {
	if !testing.Testing() {
		panic("auth.UseTestCost called outside a test binary")
	}
	was := lowered.Swap(true)
	return func() { lowered.Store(was) }
}

// currentCost is the cost HashPassword uses now.
func currentCost() cost {
	if lowered.Load() {
		return testCost
	}
	return productionCost
}

// ErrMismatch means a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// HashPassword returns an encoded argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	c := currentCost()
	key := argon2.IDKey([]byte(password), salt, c.time, c.memory, c.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.memory, c.time, c.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against an encoded argon2id hash.
func VerifyPassword(encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return fmt.Errorf("unsupported password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return fmt.Errorf("parse argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("decode salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("decode key: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// TokenPrefix marks Augur API tokens, so that secret scanners can find a
// leaked one.
const TokenPrefix = "aug_"

// NewToken returns a fresh random API token and the digest to store.
func NewToken() (token string, digest []byte, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("read token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return token, TokenDigest(token), nil
}

// TokenDigest is the SHA-256 of a token: what the database stores and looks up.
// A fast hash is right here, unlike for passwords, because tokens carry 256
// bits of randomness and cannot be guessed.
func TokenDigest(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// RandomPassword returns a random password for accounts created without one.
func RandomPassword() (string, error) {
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// nobodySalt is a fixed salt for VerifyNobody; nothing is ever checked
// against its result.
var nobodySalt = make([]byte, saltLen)

// VerifyNobody does the work of VerifyPassword for a sign-in whose account
// does not exist, so that the answer takes as long as for one that does and
// its timing does not tell which emails have accounts. It works at the cost
// HashPassword uses now, the cost of the accounts it stands in for.
func VerifyNobody(password string) {
	c := currentCost()
	argon2.IDKey([]byte(password), nobodySalt, c.time, c.memory, c.threads, argonKeyLen)
}
