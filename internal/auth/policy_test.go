package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommonPasswordListIsTheRealOne(t *testing.T) {
	require.GreaterOrEqual(t, len(commonPasswords()), 10000)
	for _, pw := range []string{"123456", "password", "qwertyuiop", "1234567890", "iloveyou"} {
		require.True(t, IsCommonPassword(pw), pw)
	}
	require.True(t, IsCommonPassword("PassWord"), "the list is compared in lower case")
	require.False(t, IsCommonPassword("mauve-otter-cinnamon-42"))
}

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		password string
		personal []string
		want     error
	}{
		{"short", nil, ErrPasswordTooShort},
		{"ninechars", nil, ErrPasswordTooShort},
		{"ééééééééé", nil, ErrPasswordTooShort}, // 9 characters, 18 bytes
		{strings.Repeat("x", MaxPasswordLen+1), nil, ErrPasswordTooLong},
		{"1234567890", nil, ErrPasswordCommon},
		{"Qwertyuiop", nil, ErrPasswordCommon},
		{"alice@example.com", []string{"Alice@Example.com", "alice"}, ErrPasswordPersonal},
		{"alice-the-great", []string{"a@example.com", "Alice-The-Great"}, ErrPasswordPersonal},
		{"mauve-otter-cinnamon-42", []string{"a@example.com", "alice"}, nil},
		{"éééééééééé", nil, nil},
	}
	for _, tc := range cases {
		// errors.Is(err, nil) holds only for a nil err.
		require.ErrorIs(t, CheckPassword(tc.password, tc.personal...), tc.want, tc.password)
	}
}

func TestRandomPasswordPassesThePolicy(t *testing.T) {
	pw, err := RandomPassword()
	require.NoError(t, err)
	require.NoError(t, CheckPassword(pw))
}

func TestCheckEmail(t *testing.T) {
	for in, want := range map[string]string{"  ann@example.com ": "ann@example.com", "Ann.B+x@Mail.Example.org": "Ann.B+x@Mail.Example.org"} {
		got, err := CheckEmail(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "ann", "ann@", "@example.com", "Ann <ann@example.com>", "ann@localhost", "a b@example.com", strings.Repeat("a", 250) + "@example.com"} {
		_, err := CheckEmail(bad)
		require.ErrorIs(t, err, ErrEmailInvalid, bad)
	}
}

func TestCheckUsername(t *testing.T) {
	for _, good := range []string{"ann", "Ann_B-2.0", "zoë", strings.Repeat("x", 32)} {
		got, err := CheckUsername(" " + good + " ")
		require.NoError(t, err, good)
		require.Equal(t, good, got)
	}
	for _, bad := range []string{"", "ab", "ann b", "<script>", "an\nn", "a'b", strings.Repeat("x", 33)} {
		_, err := CheckUsername(bad)
		require.ErrorIs(t, err, ErrUsernameInvalid, bad)
	}
}
