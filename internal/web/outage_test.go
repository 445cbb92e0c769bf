package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

// TestPostgresDownIsA503Everywhere: with PostgreSQL stopped, every route
// answers 503 with Retry-After and the code unavailable (pages too),
// /readyz names PostgreSQL, and all is well again once it is back, with no
// restart.
func TestPostgresDownIsA503Everywhere(t *testing.T) {
	db, pg := dbtest.PostgresBehindSwitch(t, "web")
	h := newHarnessWith(t, harnessOptions{db: db})
	created := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["good"]}`)
	require.Equal(t, http.StatusAccepted, created.Status)
	id := created.Map(t)["id"].(string)

	pg.Off()
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT"}`},
		{http.MethodPost, "/api/v1/sentiment", `{"texts":["good"]}`},
		{http.MethodGet, "/api/v1/jobs", ""},
		{http.MethodGet, "/api/v1/jobs/" + id, ""},
		{http.MethodPost, "/api/v1/jobs/" + id + "/cancel", ""},
		{http.MethodGet, "/api/v1/jobs/" + id + "/events", ""},
		{http.MethodGet, "/api/v1/portfolio", ""},
		{http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"10.00"}`},
		{http.MethodGet, "/api/v1/portfolio/transactions", ""},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		resp := h.api.Do(r.method, r.path, body)
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s %s: %s", r.method, r.path, resp.Body)
		require.NotEmpty(t, resp.Header.Get("Retry-After"), r.path)
		require.Equal(t, "unavailable", resp.Map(t)["error"].(map[string]any)["code"], r.path)
	}
	for _, path := range []string{"/", "/jobs/" + id} {
		resp, err := http.Get(h.url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, path)
		require.NotEmpty(t, resp.Header.Get("Retry-After"), path)
		require.Contains(t, string(body), "unavailable")
	}
	status, ready := readyz(t, h.url)
	require.Equal(t, http.StatusServiceUnavailable, status)
	// The error text names hosts and ports: it goes to the log only.
	require.Equal(t, map[string]any{"status": "unavailable", "postgres": "unavailable", "redis": "ok"}, ready)

	pg.On(t)
	require.Equal(t, http.StatusOK, h.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil).Status)
	status, _ = readyz(t, h.url)
	require.Equal(t, http.StatusOK, status)
}

// TestRedisDownKeepsTheAPIUp: Redis only carries work, so with it down a
// submission is still stored and accepted (the reconciler enqueues it
// later), jobs can be read, and /readyz stays 200 (web can serve all of
// that) while its body names Redis, without the error's text.
func TestRedisDownKeepsTheAPIUp(t *testing.T) {
	h := newHarness(t, 100)
	dbtest.StopRedis(t)

	created := h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, http.StatusAccepted, created.Status, "%s", created.Body)
	id := created.Map(t)["id"].(string)
	require.Equal(t, http.StatusOK, h.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil).Status)
	canceled := h.api.Do(http.MethodPost, "/api/v1/jobs/"+id+"/cancel", nil)
	require.Equal(t, http.StatusOK, canceled.Status, "%s", canceled.Body)

	status, ready := readyz(t, h.url)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"status": "degraded", "postgres": "ok", "redis": "unavailable"}, ready)
}

func readyz(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, jsonDecode(resp.Body, &body))
	if resp.StatusCode != http.StatusOK {
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
	}
	return resp.StatusCode, body
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
