package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
)

// loadConfig is the configuration of the settings in env, and settings
// ("NAME=value") over them.
func loadConfig(t testing.TB, env map[string]string, settings []string) *config.Config {
	t.Helper()
	for _, s := range settings {
		name, value, _ := strings.Cut(s, "=")
		env[name] = value
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	require.NoError(t, err)
	return cfg
}

// webConfig is the configuration of a web process of the tests' own on a
// free loopback port (addr) over db, with settings ("NAME=value") on top.
func webConfig(t *testing.T, db *store.DB, settings ...string) (cfg *config.Config, addr string) {
	t.Helper()
	port, err := loopback.FreePort()
	require.NoError(t, err)
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	env := map[string]string{
		"DATABASE_URL":  dbtest.URLOf(t, db),
		"REDIS_URL":     dbtest.RedisURL(t),
		"HTTP_ADDR":     addr,
		"METRICS_ADDR":  "",
		"PRICE_SOURCES": "sample",
	}
	return loadConfig(t, env, settings), addr
}

// TestWebShutdownDrainsGracefully is issue 17 item 7: on SIGTERM, web's
// readiness fails at once while every request is still served for
// SHUTDOWN_DRAIN; an open event stream gets a last "closing" event and
// ends, so it no longer holds the process for the whole SHUTDOWN_TIMEOUT;
// and web exits without error. Before, a request 0.3 s after SIGTERM was
// refused, a stream held the process 30 s, and web exited with "context
// deadline exceeded".
func TestWebShutdownDrainsGracefully(t *testing.T) {
	db := dbtest.Postgres(t, "app")
	cfg, addr := webConfig(t, db, "SHUTDOWN_DRAIN=1s", "SHUTDOWN_TIMEOUT=20s")
	logs := &testlog.Buffer{}
	cfg.LogFormat = "json"
	env := &runtimeEnv{cfg: cfg, logger: newLogger(cfg, io.MultiWriter(logs, testLog{t})), stdout: io.Discard}
	token := dbtest.Token(t, db)

	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	served := make(chan error, 1)
	go func() { served <- serveWeb(ctx, env) }()

	base := "http://" + addr
	do := func(method, path, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	require.Eventually(t, func() bool {
		resp, err := do(http.MethodGet, "/readyz", "")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "web never became ready")

	// A job nobody runs, and a stream open on it.
	resp, err := do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.NoError(t, err)
	var job struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&job))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	stream, err := do(http.MethodGet, "/api/v1/jobs/"+job.ID+"/events", "")
	require.NoError(t, err)
	defer stream.Body.Close()
	events := bufio.NewReader(stream.Body)
	first, err := events.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: job\n", first)

	start := time.Now()
	sigterm()

	// The stream is told to reconnect, and ends.
	rest, err := io.ReadAll(events)
	require.NoError(t, err)
	require.Contains(t, string(rest), "event: closing\n")
	require.Contains(t, string(rest), "retry: ")
	streamEnded := time.Since(start)

	// Readiness fails while the job is still served; a request is refused
	// only once the drain is over and the listener closes.
	sawDraining, servedWhileDraining := false, 0
	for {
		resp, err := do(http.MethodGet, "/readyz", "")
		if err != nil {
			require.Contains(t, logs.String(), "shutting down web server", "a request was refused during the drain: %v", err)
			break
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			require.JSONEq(t, `{"status":"draining"}`, string(body))
			sawDraining = true
		} else {
			require.False(t, sawDraining, "ready again after draining began: %s", body)
		}
		if sawDraining {
			resp, err := do(http.MethodGet, "/api/v1/jobs/"+job.ID, "")
			if err != nil {
				require.Contains(t, logs.String(), "shutting down web server", "a request was refused during the drain: %v", err)
				break
			}
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			servedWhileDraining++
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.True(t, sawDraining, "readiness never failed")
	require.Positive(t, servedWhileDraining, "requests are served during the drain")

	require.NoError(t, <-served, "web exits cleanly, not on its shutdown timeout")
	t.Logf("stream ended %.2f s after SIGTERM; web exited after %.2f s (SHUTDOWN_DRAIN 1s, SHUTDOWN_TIMEOUT 20s); %d requests served while draining",
		streamEnded.Seconds(), time.Since(start).Seconds(), servedWhileDraining)
}
