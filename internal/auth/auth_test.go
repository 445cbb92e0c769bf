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
	require.Equal(t, "m=65536,t=3,p=2", hashCost(t, hash), "the production cost is the default")
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

// hashCost is the "m=…,t=…,p=…" part of an encoded hash.
func hashCost(t *testing.T, hash string) string {
	t.Helper()
	parts := strings.Split(hash, "$")
	require.Len(t, parts, 6, hash)
	return parts[3]
}

func TestUseTestCostLowersTheCostUntilRestored(t *testing.T) {
	restore := UseTestCost()
	cheap, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.Equal(t, "m=8,t=1,p=1", hashCost(t, cheap))
	// The cost travels in the hash, so it verifies whatever the current
	// cost (TestPasswordRoundTrip verifies a production hash).
	require.NoError(t, VerifyPassword(cheap, "correct horse battery staple"))
	require.ErrorIs(t, VerifyPassword(cheap, "wrong"), ErrMismatch)

	restore()
	require.Equal(t, productionCost, currentCost())
}
