// Package seal encrypts the secrets Augur must read back (a TOTP secret, a
// webhook endpoint's signing secret), which therefore cannot be stored
// hashed as passwords and API tokens are. A Box seals with AES-256-GCM
// under a key derived from the server secret (SECRET_KEY) by HKDF-SHA256
// under a label of its own, so one server secret keys each purpose
// independently, and a copy of the database alone (a backup, a replica)
// does not give the secrets away. Each sealed value is bound to what owns
// it: copied onto another row, it does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrUnopenable means a sealed value does not open: the server secret
// changed since it was sealed, it is bound to another owner, or it was
// tampered with.
var ErrUnopenable = errors.New("sealed value does not open")

// Box seals and opens values under one derived key.
type Box struct {
	aead cipher.AEAD
}

// New derives the key of label from the server secret, whose strength
// internal/config enforces in production. Changing either makes what was
// sealed before unopenable.
func New(serverSecret, label string) (*Box, error) {
	key, err := hkdf.Key(sha256.New, []byte(serverSecret), nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("derive the key of %s: %w", label, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to owner: a random nonce, then the
// ciphertext with its tag.
func (b *Box) Seal(plaintext, owner []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, owner), nil
}

// Open decrypts what Seal sealed for the same owner, or answers
// ErrUnopenable.
func (b *Box) Open(sealed, owner []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrUnopenable
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], owner)
	if err != nil {
		return nil, ErrUnopenable
	}
	return plain, nil
}
