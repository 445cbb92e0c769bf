package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSecretBoxOpensOnlyForItsUserAndKey(t *testing.T) {
	box, err := NewSecretBox("one server secret")
	require.NoError(t, err)
	sealed, err := box.Seal(7, []byte("JBSWY3DPEHPK3PXP"))
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "JBSWY3DPEHPK3PXP")
	plain, err := box.Open(7, sealed)
	require.NoError(t, err)
	require.Equal(t, "JBSWY3DPEHPK3PXP", string(plain))

	_, err = box.Open(8, sealed)
	require.Error(t, err, "a sealed secret copied to another user's row does not open")
	other, err := NewSecretBox("another server secret")
	require.NoError(t, err)
	_, err = other.Open(7, sealed)
	require.Error(t, err, "another SECRET_KEY cannot open it")
	sealed[len(sealed)-1] ^= 1
	_, err = box.Open(7, sealed)
	require.Error(t, err, "an edited secret does not open")
}

func TestMatchTOTPGivesTheStepWithinOneStepOfSkew(t *testing.T) {
	secret, err := NewTOTPSecret("ann@example.com")
	require.NoError(t, err)
	now := time.Unix(1_800_000_015, 0) // step 60,000,000
	const step = 60_000_000
	for _, tc := range []struct {
		offset time.Duration
		want   int64
		ok     bool
	}{
		{0, step, true},
		{-TOTPPeriod, step - 1, true},
		{TOTPPeriod, step + 1, true},
		{-2 * TOTPPeriod, 0, false},
		{2 * TOTPPeriod, 0, false},
	} {
		code, err := TOTPCode(secret, now.Add(tc.offset))
		require.NoError(t, err)
		got, ok := MatchTOTP(secret, code, now)
		require.Equal(t, tc.ok, ok, "offset %v", tc.offset)
		require.Equal(t, tc.want, got, "offset %v", tc.offset)
	}
	code, err := TOTPCode(secret, now)
	require.NoError(t, err)
	_, ok := MatchTOTP(secret, " "+code[:3]+" "+code[3:]+" ", now)
	require.True(t, ok, "spaces as apps show them are ignored")
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		_, ok := MatchTOTP(secret, bad, now)
		require.False(t, ok, bad)
	}
}

func TestRecoveryCodesAreDistinctAndTypedLoosely(t *testing.T) {
	codes, digests, err := NewRecoveryCodes()
	require.NoError(t, err)
	require.Len(t, codes, RecoveryCodeCount)
	seen := map[string]bool{}
	for i, c := range codes {
		require.Regexp(t, `^[a-z2-9]{5}-[a-z2-9]{5}$`, c)
		require.False(t, seen[c])
		seen[c] = true
		require.Equal(t, digests[i], RecoveryCodeDigest(" "+strings.ToUpper(strings.ReplaceAll(c, "-", " "))+" "))
	}
	require.NotEqual(t, RecoveryCodeDigest(codes[0]), RecoveryCodeDigest(codes[1]))
}

func TestNewTOTPSetupDrawsAQRCode(t *testing.T) {
	secret, err := NewTOTPSecret("ann@example.com")
	require.NoError(t, err)
	setup, err := NewTOTPSetup(secret, "ann@example.com")
	require.NoError(t, err)
	require.Equal(t, secret, setup.Secret)
	require.True(t, strings.HasPrefix(setup.QR, "data:image/png;base64,iVBORw0KGgo"), "a PNG")
}
