package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRequestsAreReadStrictly: keys must match exactly, once; strings that
// PostgreSQL cannot store and headers that are not text are refused naming
// the field; a body that is not JSON is a 415. None of them makes a job.
func TestRequestsAreReadStrictly(t *testing.T) {
	h := newHarness(t, 1000)
	cases := []struct {
		name, path, body string
		header           []string
		status           int
		code, field      string
	}{
		{"key differing by case", "/api/v1/predictions", `{"Ticker":"MSFT"}`, nil, 422, "unknown_field", "Ticker"},
		{"key in capitals", "/api/v1/sentiment", `{"TEXTS":["good"]}`, nil, 422, "unknown_field", "TEXTS"},
		{"duplicate key", "/api/v1/predictions", `{"ticker":"MSFT","ticker":"AAPL"}`, nil, 422, "duplicate_field", "ticker"},
		{"duplicate key in another case", "/api/v1/predictions", `{"ticker":"MSFT","TICKER":"AAPL"}`, nil, 422, "unknown_field", "TICKER"},
		{"NUL in a text", "/api/v1/sentiment", `{"texts":["good\u0000news"]}`, nil, 422, "invalid_text", "texts[0]"},
		{"NUL in the ticker", "/api/v1/predictions", `{"ticker":"MS\u0000FT"}`, nil, 422, "invalid_text", "ticker"},
		{"NUL in a model", "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg","x\u0000"]}`, nil, 422, "invalid_text", "models[1]"},
		{"ticker not UTF-8", "/api/v1/predictions", "{\"ticker\":\"MS\xff\xfeFT\"}", nil, 400, "invalid_utf8", "ticker"},
		{"lone surrogate in a text", "/api/v1/sentiment", `{"texts":["good","\ud800news"]}`, nil, 400, "invalid_utf8", "texts[1]"},
		{"ticker folded from Unicode", "/api/v1/predictions", `{"ticker":"m\u017fft"}`, nil, 422, "invalid_ticker", "ticker"},
		{"idempotency key of raw bytes", "/api/v1/sentiment", `{"texts":["good"]}`, []string{"Idempotency-Key", "\xff\xfe\xc3"}, 400, "invalid_header", "Idempotency-Key"},
		{"idempotency key with a control character", "/api/v1/sentiment", `{"texts":["good"]}`, []string{"Idempotency-Key", "a\tb"}, 400, "invalid_header", "Idempotency-Key"},
		{"text/plain", "/api/v1/predictions", `{"ticker":"MSFT"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "Content-Type"},
		{"form", "/api/v1/sentiment", `{"texts":["good"]}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type"},
		{"no content type", "/api/v1/sentiment", `{"texts":["good"]}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", "Content-Type"},
		{"JSON in another charset", "/api/v1/sentiment", `{"texts":["good"]}`, []string{"Content-Type", "application/json; charset=latin1"}, 415, "unsupported_media_type", "Content-Type"},
	}
	for _, tc := range cases {
		// No subtests: the API client fails the test it was made for.
		resp := h.api.Do(http.MethodPost, tc.path, tc.body, tc.header...)
		require.Equal(t, tc.status, resp.Status, "%s: %s", tc.name, resp.Body)
		e := resp.Map(t)["error"].(map[string]any)
		require.Equal(t, tc.code, e["code"], "%s: %s", tc.name, resp.Body)
		require.Equal(t, tc.field, e["field"], "%s: %s", tc.name, resp.Body)
		require.NotEmpty(t, e["message"], tc.name)
	}
	require.Empty(t, h.api.Do(http.MethodGet, "/api/v1/jobs", nil).Map(t)["jobs"], "no refused request may create a job")

	// What a careful client sends is still accepted.
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		resp := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["good news"]}`, "Content-Type", ct, "Idempotency-Key", "key-"+strings.ToLower(ct))
		require.Equal(t, http.StatusAccepted, resp.Status, "%s: %s", ct, resp.Body)
	}
}

// TestAPIResponsesAreNotStored: every API answer, errors included, tells
// caches to keep nothing; job data is private and changes.
func TestAPIResponsesAreNotStored(t *testing.T) {
	h := newHarness(t, 100)
	created := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["good"]}`)
	id := created.Map(t)["id"].(string)
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/sentiment"},
		{http.MethodGet, "/api/v1/jobs"},
		{http.MethodGet, "/api/v1/jobs/" + id},
		{http.MethodGet, "/api/v1/jobs/not-a-uuid"},
	} {
		resp := h.api.Do(r.method, r.path, nil)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "%s %s", r.method, r.path)
	}
	require.Equal(t, "no-store", created.Header.Get("Cache-Control"))
	anon := h.api.As("").Do(http.MethodGet, "/api/v1/jobs", nil)
	require.Equal(t, "no-store", anon.Header.Get("Cache-Control"))
}

// TestHeadOnPages: HEAD is GET without a body, so a monitor or link checker
// may use it on every page.
func TestHeadOnPages(t *testing.T) {
	h := newHarness(t, 100)
	for _, path := range []string{"/", "/jobs/6f1c1c56-3a55-4a56-9d7c-2d0e4a1f0c11", "/static/app.js", "/healthz", "/openapi.yaml"} {
		resp, err := http.Head(h.url + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotEmpty(t, resp.Header.Get("Content-Type"), path)
	}
}
