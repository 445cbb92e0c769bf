package seal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestABoxOpensOnlyWhatItSealedForTheSameOwner(t *testing.T) {
	box, err := New("a server secret of thirty-two chars", "label a")
	require.NoError(t, err)
	sealed, err := box.Seal([]byte("the secret"), []byte("owner 1"))
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "the secret")
	again, err := box.Seal([]byte("the secret"), []byte("owner 1"))
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	plain, err := box.Open(sealed, []byte("owner 1"))
	require.NoError(t, err)
	require.Equal(t, "the secret", string(plain))

	_, err = box.Open(sealed, []byte("owner 2"))
	require.ErrorIs(t, err, ErrUnopenable, "bound to its owner")
	other, err := New("a server secret of thirty-two chars", "label b")
	require.NoError(t, err)
	_, err = other.Open(sealed, []byte("owner 1"))
	require.ErrorIs(t, err, ErrUnopenable, "each label its own key")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	_, err = box.Open(tampered, []byte("owner 1"))
	require.ErrorIs(t, err, ErrUnopenable)
	_, err = box.Open([]byte("short"), []byte("owner 1"))
	require.ErrorIs(t, err, ErrUnopenable)
}
