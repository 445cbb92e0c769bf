package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPasswordRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$"))
	require.NoError(t, VerifyPassword(hash, "correct horse battery staple"))
	require.ErrorIs(t, VerifyPassword(hash, "wrong"), ErrMismatch)

	again, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, hash, again, "salts must differ")
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	for _, bad := range []string{"", "plain", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=x$a$b", "$argon2id$v=18$m=1,t=1,p=1$AA$AA"} {
		require.Error(t, VerifyPassword(bad, "pw"), bad)
	}
}

func TestTokens(t *testing.T) {
	tok, digest, err := NewToken()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, TokenPrefix))
	require.Equal(t, digest, TokenDigest(tok))
	require.Len(t, digest, 32)
	other, _, err := NewToken()
	require.NoError(t, err)
	require.NotEqual(t, tok, other)
}
