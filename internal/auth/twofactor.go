package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/seal"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// SecretBox seals the TOTP secrets kept in PostgreSQL (package seal).
// Unlike a password or a token, a TOTP secret must be read back to check a
// code, so it cannot be hashed; sealing it means a copy of the database (a
// backup, a replica, an SQL injection elsewhere) is not enough to mint
// codes: the key lives only in the environment.
type SecretBox struct {
	box *seal.Box
}

// totpKeyLabel is the HKDF info of the TOTP sealing key; changing it makes
// every stored secret unreadable.
const totpKeyLabel = "augur totp secret v1"

// NewSecretBox derives the sealing key from the server secret, whose
// strength config checks (production refuses a weak SECRET_KEY).
func NewSecretBox(secretKey string) (*SecretBox, error) {
	box, err := seal.New(secretKey, totpKeyLabel)
	if err != nil {
		return nil, fmt.Errorf("totp sealing: %w", err)
	}
	return &SecretBox{box: box}, nil
}

// Seal encrypts plaintext for the user. The user id is authenticated with
// it, so a sealed secret copied onto another user's row does not open.
func (b *SecretBox) Seal(userID int64, plaintext []byte) ([]byte, error) {
	return b.box.Seal(plaintext, userAAD(userID))
}

// Open decrypts what Seal sealed for the same user.
func (b *SecretBox) Open(userID int64, sealed []byte) ([]byte, error) {
	plain, err := b.box.Open(sealed, userAAD(userID))
	if err != nil {
		return nil, fmt.Errorf("open secret of user %d: %w", userID, err)
	}
	return plain, nil
}

func userAAD(userID int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(userID))
}

// totpIssuer names Augur in the user's authenticator app.
const totpIssuer = "Augur"

// TOTPPeriod is the length of a TOTP time step (RFC 6238's default, which
// every authenticator app uses).
const TOTPPeriod = 30 * time.Second

// totpSkew is how many steps either side of now a code may be from: one,
// for a phone's clock that is a little off and a code typed as it turns.
const totpSkew = 1

// NewTOTPSecret returns a fresh random TOTP secret in base32, the form
// authenticator apps take.
func NewTOTPSecret(account string) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account})
	if err != nil {
		return "", fmt.Errorf("generate totp secret: %w", err)
	}
	return key.Secret(), nil
}

// TOTPSetup is what the set-up page shows: the otpauth:// URL as a QR code
// (a PNG data URI, so no outside service ever sees the secret) and the
// secret as text for typing in.
type TOTPSetup struct {
	Secret string
	QR     string
}

// NewTOTPSetup draws the QR code of secret for account.
func NewTOTPSetup(secret, account string) (TOTPSetup, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("decode totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account, Secret: raw})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("totp key: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("draw totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPSetup{}, fmt.Errorf("encode totp qr code: %w", err)
	}
	return TOTPSetup{Secret: secret, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// totpOpts are the code parameters Augur's secrets use.
var totpOpts = totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPCode returns the code of secret at t, for tests that play the
// authenticator.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// MatchTOTP returns the time step of the code for secret at now, within
// one step of skew, or false. The caller must still refuse a step not newer
// than the last one accepted (store.AcceptTOTPStep), which is what makes
// each code single-use.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != otp.DigitsSix.Length() {
		return 0, false
	}
	if _, err := strconv.Atoi(code); err != nil {
		return 0, false
	}
	now0 := now.Unix() / int64(TOTPPeriod/time.Second)
	// Newest first: of two matching steps the later one is the one typed.
	for s := now0 + totpSkew; s >= now0-totpSkew; s-- {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(TOTPPeriod/time.Second), 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryEncoding leaves out l, o, 0 and 1, which read alike.
var recoveryEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, shown once, and
// the digests to store. Each code is 50 random bits, written xxxxx-xxxxx.
func NewRecoveryCodes() (codes []string, digests [][]byte, err error) {
	for range RecoveryCodeCount {
		raw := make([]byte, 7)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, fmt.Errorf("read recovery code: %w", err)
		}
		s := recoveryEncoding.EncodeToString(raw)[:10]
		codes = append(codes, s[:5]+"-"+s[5:])
		digests = append(digests, RecoveryCodeDigest(s))
	}
	return codes, digests, nil
}

// RecoveryCodeDigest is the SHA-256 of a recovery code as typed, with case,
// spaces and dashes ignored. A fast hash is right, as for API tokens: the
// codes are random, and the sign-in rate limit bounds guessing online.
func RecoveryCodeDigest(code string) []byte {
	code = strings.NewReplacer("-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("recovery:" + code))
	return sum[:]
}
