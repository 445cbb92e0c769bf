package api

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := store.JobCursor{CreatedAt: time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC), ID: uuid.New()}
	got, err := decodeCursor(encodeCursor(c))
	require.NoError(t, err)
	require.True(t, c.CreatedAt.Equal(got.CreatedAt))
	require.Equal(t, c.ID, got.ID)
}

// FuzzDecodeCursor: a cursor comes from the client, so any string must
// either decode to a cursor that encodes back to itself or be refused.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(store.JobCursor{CreatedAt: time.Unix(1700000000, 5).UTC(), ID: uuid.New()}))
	f.Add("")
	f.Add("!!")
	f.Add("MjAyNi0xMS0yNlQwMTowMjowM1p8bm90LWEtdXVpZA")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := decodeCursor(raw)
		if err != nil {
			return
		}
		again, err := decodeCursor(encodeCursor(*c))
		require.NoError(t, err)
		require.True(t, c.CreatedAt.Equal(again.CreatedAt))
		require.Equal(t, c.ID, again.ID)
	})
}
