package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/config"
)

// closedPorts are settings whose services cannot be reached, so a command
// that tried to serve or to join a queue would fail at once with exit 1
// instead of answering.
var closedPorts = map[string]string{
	"DATABASE_URL": "postgres://augur@127.0.0.1:1/augur?sslmode=disable",
	"REDIS_URL":    "redis://127.0.0.1:1/0",
	"HTTP_ADDR":    "127.0.0.1:0",
	"METRICS_ADDR": "",
}

// runCLI runs a command line such as "web serve --help" in closedPorts,
// overridden by env.
func runCLI(t *testing.T, env map[string]string, line string) (code int, stdout, stderr string) {
	t.Helper()
	lookup := func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		v, ok := closedPorts[k]
		return v, ok
	}
	args := strings.Fields(line)
	var out, errOut bytes.Buffer
	code = run(context.Background(), args[0], args[1:], lookup, &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	cases := []struct{ line, want string }{
		{"web --help", "usage: web [command]"},
		{"web -h", "usage: web [command]"},
		{"web -help", "usage: web [command]"},
		{"web help", "usage: web [command]"},
		{"web serve --help", "usage: web serve\n"},
		{"web serve help", "usage: web serve\n"},
		{"web help serve", "usage: web serve\n"},
		{"web migrate -h", "-create-db"},
		{"web create-user --help", "-username"},
		{"web create-user -h", "-password-stdin"},
		{"web demo-user -h", "usage: web demo-user\n"},
		{"web config --help", "usage: web config\n"},
		{"worker --help", "usage: worker [command]"},
		{"worker -h", "usage: worker [command]"},
		{"worker help", "usage: worker [command]"},
		{"worker run --help", "usage: worker run\n"},
		{"worker help run", "usage: worker run\n"},
		{"worker backtest --help", "-csv file"},
		{"worker backtest -h", "usage: worker backtest --csv FILE"},
		{"worker backtest help", "-models names"},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.line)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			require.Contains(t, stdout, tc.want)
			require.Empty(t, stderr, "nothing started, nothing logged")
		})
	}
}

func TestRefusedCommandLinesExit2WithUsage(t *testing.T) {
	cases := []struct{ line, complaint, usage string }{
		{"web --bogus", "unknown flag --bogus", "usage: web [command]"},
		{"web bogus", `unknown command "bogus"`, "usage: web [command]"},
		{"web help bogus", `unknown command "bogus"`, "usage: web [command]"},
		{"web serve --port 80", "flag provided but not defined: -port", "usage: web serve"},
		{"web serve extra", `unexpected argument "extra"`, "usage: web serve"},
		{"web migrate --create-db=maybe", "invalid boolean value", "usage: web migrate"},
		{"web create-user --email nobody", "--email: enter an email address", "usage: web create-user"},
		{"web create-user --email ann@example.com --username a", "--username: a username is 3 to 32", "usage: web create-user"},
		{"worker -x", "unknown flag -x", "usage: worker [command]"},
		{"worker bogus", `unknown command "bogus"`, "usage: worker [command]"},
		{"worker run --bogus", "flag provided but not defined: -bogus", "usage: worker run"},
		{"worker backtest --bogus", "flag provided but not defined: -bogus", "-csv file"},
		{"worker backtest", "give exactly one of --csv FILE, --dir FOLDER and --sample dj30", "usage: worker backtest"},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.line)
			require.Equal(t, 2, code, "stderr: %s", stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tc.complaint)
			require.Contains(t, stderr, tc.usage)
		})
	}
}

// The closed ports do what the tests above rely on: a command that does
// start fails at once, with exit 1, not 0.
func TestCommandsThatStartFailOnClosedPorts(t *testing.T) {
	for _, line := range []string{"web", "web serve", "worker", "worker run"} {
		code, _, stderr := runCLI(t, nil, line)
		require.Equal(t, 1, code, line)
		require.Contains(t, stderr, "connect to database", line)
	}
}

func TestConfigNeverPrintsAPassword(t *testing.T) {
	code, stdout, stderr := runCLI(t, map[string]string{
		"DATABASE_URL":    "postgres://augur:s3cr3t@127.0.0.1:1/augur?sslmode=disable",
		"REDIS_URL":       "redis://:s3cr3t@127.0.0.1:1/0",
		"FINNHUB_API_KEY": "s3cr3t",
	}, "web config")
	require.Equal(t, 0, code, stderr)
	require.NotContains(t, stdout, "s3cr3t")
	require.Contains(t, stdout, "postgres://xxxxx@127.0.0.1:1/augur")
	require.Contains(t, stdout, "redis://xxxxx@127.0.0.1:1/0")
	require.Contains(t, stdout, "(set, hidden)")

	// An invalid URL: the error names the setting, web config still prints
	// its table, and nothing shows the password.
	bad := map[string]string{"REDIS_URL": "redis//bad:s3cr3t@x"}
	code, stdout, stderr = runCLI(t, bad, "web config")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "redis//xxxxx@x")
	require.Contains(t, stderr, `REDIS_URL="redis//xxxxx@x"`)
	require.NotContains(t, stdout+stderr, "s3cr3t")
	code, stdout, stderr = runCLI(t, bad, "web serve")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `REDIS_URL="redis//xxxxx@x"`)
	require.NotContains(t, stdout+stderr, "s3cr3t")
}

// Issue 21: web config listed names and values only; what a setting does
// was in the README alone.
func TestConfigDescribesEverySetting(t *testing.T) {
	code, stdout, stderr := runCLI(t, map[string]string{"HTTP_ADDR": "127.0.0.1:8081"}, "web config")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "HTTP_ADDR=127.0.0.1:8081  (default :8080)\n    Address the web server listens on.\n")
	for _, s := range config.Settings() {
		require.Contains(t, "\n"+stdout, "\n"+s.Name+"=", s.Name)
		require.Contains(t, stdout, "    "+wrap(s.Help, 76)[0]+"\n", s.Name)
	}
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://localhost:8080",
		"0.0.0.0:8081":   "http://localhost:8081",
		"[::]:8082":      "http://localhost:8082",
		"127.0.0.1:8083": "http://127.0.0.1:8083",
		"[::1]:8084":     "http://[::1]:8084",
		"web.lan:80":     "http://web.lan:80",
	} {
		require.Equal(t, want, localURL(addr), addr)
	}
}
