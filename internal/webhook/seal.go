package webhook

import (
	"errors"
	"fmt"

	"github.com/augurhq/augur/internal/seal"
)

// sealInfo names what the key derived from SECRET_KEY is for, so that the
// same server secret never keys two different things alike.
const sealInfo = "augur webhook endpoint secrets v1"

// Sealer encrypts endpoint secrets at rest (package seal). A secret signs
// every delivery, so it cannot be stored hashed as a password is; sealed,
// a copy of the database alone does not give the secrets away. Changing
// SECRET_KEY makes the stored secrets unreadable: their endpoints must then
// rotate their secrets.
type Sealer struct {
	box *seal.Box
}

// NewSealer derives the sealing key from the server secret, whose
// strength internal/config enforces in production.
func NewSealer(serverSecret string) (*Sealer, error) {
	box, err := seal.New(serverSecret, sealInfo)
	if err != nil {
		return nil, fmt.Errorf("webhook sealing: %w", err)
	}
	return &Sealer{box: box}, nil
}

// Seal encrypts secret, bound to owner (the endpoint's id), so that a
// sealed secret copied onto another endpoint's row does not open.
func (s *Sealer) Seal(secret string, owner []byte) ([]byte, error) {
	return s.box.Seal([]byte(secret), owner)
}

// ErrUnsealable means a sealed secret does not open: SECRET_KEY changed
// since it was sealed, or the row was tampered with.
var ErrUnsealable = errors.New("webhook secret does not open under SECRET_KEY (changed since?); rotate the endpoint's secret")

// Open decrypts what Seal sealed for owner.
func (s *Sealer) Open(sealed, owner []byte) (string, error) {
	plain, err := s.box.Open(sealed, owner)
	if err != nil {
		return "", ErrUnsealable
	}
	return string(plain), nil
}
