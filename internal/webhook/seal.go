package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealInfo names what the key derived from SECRET_KEY is for, so that the
// same server secret never keys two different things alike.
const sealInfo = "augur webhook endpoint secrets v1"

// Sealer encrypts endpoint secrets at rest. A secret signs every delivery,
// so it cannot be stored hashed as a password is; it is stored encrypted
// with AES-256-GCM under a key derived from SECRET_KEY by HKDF-SHA256, so
// a copy of the database (a backup, a replica) alone does not give the
// secrets away. Changing SECRET_KEY makes the stored secrets unreadable:
// their endpoints must then rotate their secrets.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the sealing key from the server secret, whose
// strength internal/config enforces in production.
func NewSealer(serverSecret string) (*Sealer, error) {
	key, err := hkdf.Key(sha256.New, []byte(serverSecret), nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive webhook sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook sealing cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook sealing cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret, bound to owner (the endpoint's id), so that a
// sealed secret copied onto another endpoint's row does not open there.
func (s *Sealer) Seal(secret string, owner []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), owner), nil
}

// ErrUnsealable means a sealed secret does not open: SECRET_KEY changed
// since it was sealed, or the row was tampered with.
var ErrUnsealable = errors.New("webhook secret does not open under SECRET_KEY (changed since?); rotate the endpoint's secret")

// Open decrypts what Seal sealed for owner.
func (s *Sealer) Open(sealed, owner []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", ErrUnsealable
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], owner)
	if err != nil {
		return "", ErrUnsealable
	}
	return string(plain), nil
}
