package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/internal/web/kernel/decodetest"
)

func FuzzDecodePredictionRequest(f *testing.F) {
	for _, s := range decodetest.Seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req predictionRequest
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeSentimentRequest(f *testing.F) {
	for _, s := range decodetest.Seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req sentimentRequest
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

// FuzzDecodeTransactionCursor: like FuzzDecodeCursor, for the portfolio's
// transaction listing.
func FuzzDecodeTransactionCursor(f *testing.F) {
	f.Add(encodeTransactionCursor(store.TransactionCursor{CreatedAt: time.Unix(1700000000, 5).UTC(), ID: 42}))
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := decodeTransactionCursor(raw)
		if err != nil {
			return
		}
		again, err := decodeTransactionCursor(encodeTransactionCursor(*c))
		require.NoError(t, err)
		require.True(t, c.CreatedAt.Equal(again.CreatedAt))
		require.Equal(t, c.ID, again.ID)
	})
}

// FuzzIdempotencyKey: an accepted key is printable ASCII, so PostgreSQL
// always stores it; anything else is a 400 naming the header.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"order-1", "", "\xff\xfe\xc3", "a\tb", strings.Repeat("k", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
		c.Request.Header["Idempotency-Key"] = []string{raw}
		key, err := idempotencyKey(c)
		if err != nil {
			var api *kernel.Error
			require.True(t, errors.As(err, &api))
			require.Equal(t, "Idempotency-Key", api.Field)
			return
		}
		require.Equal(t, raw, key)
		require.LessOrEqual(t, len(key), maxIdempotencyKeyLen)
		for _, r := range key {
			require.True(t, r >= 0x20 && r <= 0x7e, "%q", key)
		}
	})
}
