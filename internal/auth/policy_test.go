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
