package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestDefaultsLoadInDevelopment(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, Development, c.Env)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, DevSecretKey, c.SecretKey)
	require.Equal(t, "text", c.LogFormat)
	require.Equal(t, map[string]int{"critical": 6, "default": 3, "low": 1}, c.WorkerQueues)
	require.Equal(t, []string{"yahoo", "stooq", "alphavantage", "sample"}, c.Market.Sources)
	require.Positive(t, c.WorkerConcurrency)
	require.Equal(t, 5*time.Second, c.Market.HTTP.Timeout)
	require.Equal(t, 10, c.Sentiment.NumArticles)
	require.Equal(t, 100, c.MaxUnfinishedJobs)
	require.Equal(t, 3, c.InteractiveJobsPerUser)
	require.Equal(t, 10, c.EventStreamsPerUser)
	require.Equal(t, 1000, c.EventStreamsMax)
}

func TestEverySettingHasHelpAndAValidDefault(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings() {
		require.NotEmpty(t, s.Help, s.Name)
		require.False(t, seen[s.Name], "duplicate %s", s.Name)
		seen[s.Name] = true
	}
	for _, required := range []string{"APP_ENV", "HTTP_ADDR", "DATABASE_URL", "REDIS_URL", "SECRET_KEY",
		"WORKER_CONCURRENCY", "WORKER_QUEUES", "METRICS_ADDR", "LOG_LEVEL", "LOG_FORMAT", "PRICE_SOURCES"} {
		require.True(t, seen[required], required)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	cases := []struct{ name, value string }{
		{"APP_ENV", "staging"},
		{"HTTP_ADDR", "8080"},
		{"METRICS_ADDR", "localhost:99999"},
		{"DATABASE_URL", "mysql://x/y"},
		{"REDIS_URL", "localhost:6379"},
		{"LOG_LEVEL", "loud"},
		{"LOG_FORMAT", "xml"},
		{"WORKER_CONCURRENCY", "-1"},
		{"WORKER_CONCURRENCY", "many"},
		{"WORKER_QUEUES", "critical"},
		{"WORKER_QUEUES", "critical=0"},
		{"PREDICTION_TIMEOUT", "forever"},
		{"RECONCILE_INTERVAL", "1ms"},
		{"SUBMIT_RATE_LIMIT", "0"},
		{"MAX_UNFINISHED_JOBS", "0"},
		{"INTERACTIVE_JOBS_PER_USER", "none"},
		{"EVENT_STREAMS_PER_USER", "0"},
		{"EVENT_STREAMS_MAX", "-5"},
		{"DB_MAX_OPEN_CONNS", "0"},
		{"DB_MAX_IDLE_CONNS", "-1"},
		{"DB_CONN_MAX_LIFETIME", "forever"},
		{"PRICE_SOURCES", "yahoo,bloomberg"},
		{"PRICE_SOURCES", ""},
		{"PRICE_SOURCES", "sample,sample"},
		{"SENTIMENT_SOURCES", "twitter"},
		{"SENTIMENT_NUM_ARTICLES", "1000"},
		{"SENTIMENT_NUM_ARTICLES", "101"}, // one past sentiment.MaxNumArticles, the API's cap too
		{"UPSTREAM_TIMEOUT", "1ns"},
		{"UPSTREAM_MAX_RETRIES", "50"},
		{"UPSTREAM_URLS", "bloomberg=http://127.0.0.1:1"},
		{"UPSTREAM_URLS", "yahoo=127.0.0.1:1"},
		{"SESSION_LIFETIME", "1s"},
		{"SESSION_IDLE_TIMEOUT", "soon"},
		{"COOKIE_SECURE", "yes please"},
		{"LOGIN_RATE_LIMIT_IP", "0"},
		{"LOGIN_RATE_LIMIT_ACCOUNT", "-3"},
		{"TRUSTED_PROXIES", "10.0.0.1,proxy.local"},
		// The error names the variable but never echoes a password.
		{"REDIS_URL", "redis//bad:s3cr3t@x"},
		{"REDIS_URL", "localhost:s3cr3t@x"},
		{"REDIS_URL", "http://user:s3cr3t@x:6379/0"},
		{"DATABASE_URL", "mysql://augur:s3cr3t@db/augur"},
		{"DATABASE_URL", "postgres://augur:s3cr3t/x@db:5432/augur"},
		{"DATABASE_URL", "postgres:/db/augur?sslmode=disable&password=s3cr3t"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tc.name: tc.value}))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.name+"=")
			require.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestPoolSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"DB_MAX_OPEN_CONNS": "4", "DB_MAX_IDLE_CONNS": "2", "DB_CONN_MAX_LIFETIME": "0"}))
	require.NoError(t, err)
	require.Equal(t, DBPool{MaxOpen: 4, MaxIdle: 2, MaxLifetime: 0}, c.DBPool)

	// Unset, the idle count follows the open count, so that the pool
	// never closes a connection it will want again at the next burst.
	c, err = Load(env(map[string]string{"DB_MAX_OPEN_CONNS": "7"}))
	require.NoError(t, err)
	require.Equal(t, 7, c.DBPool.MaxIdle)
	c, err = Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, c.DBPool.MaxOpen, c.DBPool.MaxIdle)

	// database/sql would quietly lower the idle count; a setting that
	// cannot take effect as written is refused instead.
	_, err = Load(env(map[string]string{"DB_MAX_OPEN_CONNS": "4", "DB_MAX_IDLE_CONNS": "5"}))
	require.ErrorContains(t, err, "DB_MAX_IDLE_CONNS=5: must not exceed DB_MAX_OPEN_CONNS=4")
}

func TestSessionAndCookieSettings(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, 168*time.Hour, c.SessionLifetime)
	require.Equal(t, 24*time.Hour, c.SessionIdleTimeout)
	require.False(t, c.SecureCookies(), "plain HTTP works in development")
	require.Empty(t, c.TrustedProxies)

	c, err = Load(env(map[string]string{"COOKIE_SECURE": "true", "TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 "}))
	require.NoError(t, err)
	require.True(t, c.SecureCookies())
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.7"}, c.TrustedProxies)

	c, err = Load(env(map[string]string{"APP_ENV": Production, "SECRET_KEY": strings.Repeat("k", MinSecretKeyLen), "COOKIE_SECURE": "false"}))
	require.NoError(t, err)
	require.True(t, c.SecureCookies(), "production cookies are always Secure")

	c, err = Load(env(map[string]string{"TLS_CERT_FILE": "/tls/cert.pem", "TLS_KEY_FILE": "/tls/key.pem"}))
	require.NoError(t, err)
	require.True(t, c.SecureCookies(), "a site serving TLS itself is HTTPS only")
	for _, half := range []string{"TLS_CERT_FILE", "TLS_KEY_FILE"} {
		_, err = Load(env(map[string]string{half: "/tls/file.pem"}))
		require.ErrorContains(t, err, "TLS_CERT_FILE and TLS_KEY_FILE: set both or neither")
	}

	_, err = Load(env(map[string]string{"SESSION_LIFETIME": "1h", "SESSION_IDLE_TIMEOUT": "2h"}))
	require.ErrorContains(t, err, "SESSION_IDLE_TIMEOUT: must not exceed SESSION_LIFETIME")
}

func TestRequire2FAForAdminsDefaultsToProductionOnly(t *testing.T) {
	strong := strings.Repeat("k", MinSecretKeyLen)
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"APP_ENV": Production, "SECRET_KEY": strong}, true},
		{map[string]string{"APP_ENV": Production, "SECRET_KEY": strong, "REQUIRE_2FA_FOR_ADMINS": "false"}, false},
		{map[string]string{"REQUIRE_2FA_FOR_ADMINS": "true"}, true},
	} {
		c, err := Load(env(tc.env))
		require.NoError(t, err)
		require.Equal(t, tc.want, c.RequireAdminSecondFactor(), "%v", tc.env)
	}
	_, err := Load(env(map[string]string{"REQUIRE_2FA_FOR_ADMINS": "yes"}))
	require.ErrorContains(t, err, "REQUIRE_2FA_FOR_ADMINS")
}

func TestWebAuthnOriginsDefaultToLocalhostAtTheListenPort(t *testing.T) {
	c, err := Load(env(map[string]string{"HTTP_ADDR": "127.0.0.1:8181"}))
	require.NoError(t, err)
	require.Equal(t, "localhost", c.WebAuthnRPID)
	require.Equal(t, []string{"http://localhost:8181"}, c.WebAuthnOrigins())
	c, err = Load(env(map[string]string{"HTTP_ADDR": "127.0.0.1:8443", "TLS_CERT_FILE": "/c.pem", "TLS_KEY_FILE": "/k.pem"}))
	require.NoError(t, err)
	require.Equal(t, []string{"https://localhost:8443"}, c.WebAuthnOrigins(), "web serving TLS itself is reached over https")

	c, err = Load(env(map[string]string{"WEBAUTHN_RP_ID": "augur.example.com", "WEBAUTHN_ORIGINS": "https://augur.example.com, https://www.augur.example.com:8443"}))
	require.NoError(t, err)
	require.Equal(t, []string{"https://augur.example.com", "https://www.augur.example.com:8443"}, c.WebAuthnOrigins())

	for _, kv := range [][2]string{{"WEBAUTHN_RP_ID", "https://augur.example.com"}, {"WEBAUTHN_ORIGINS", "augur.example.com"}, {"WEBAUTHN_ORIGINS", "https://augur.example.com/login"}} {
		_, err := Load(env(map[string]string{kv[0]: kv[1]}))
		require.ErrorContains(t, err, kv[0])
	}
}

func TestAllErrorsAreReportedTogether(t *testing.T) {
	_, err := Load(env(map[string]string{"APP_ENV": "x", "LOG_LEVEL": "y"}))
	require.Error(t, err)
	require.Contains(t, err.Error(), "APP_ENV")
	require.Contains(t, err.Error(), "LOG_LEVEL")
}

func TestProductionRefusesWeakSecretKey(t *testing.T) {
	for name, secret := range map[string]*string{
		"unset":   nil,
		"empty":   ptr(""),
		"default": ptr(DevSecretKey),
		"short":   ptr("too-short-secret"),
	} {
		t.Run(name, func(t *testing.T) {
			kv := map[string]string{"APP_ENV": Production}
			if secret != nil {
				kv["SECRET_KEY"] = *secret
			}
			_, err := Load(env(kv))
			require.Error(t, err)
			require.Contains(t, err.Error(), "SECRET_KEY")
		})
	}
}

func TestProductionAcceptsStrongSecretKey(t *testing.T) {
	c, err := Load(env(map[string]string{"APP_ENV": Production, "SECRET_KEY": strings.Repeat("k", MinSecretKeyLen)}))
	require.NoError(t, err)
	require.True(t, c.Production())
	require.Equal(t, "json", c.LogFormat)
}

func TestSourceListsAndKeys(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PRICE_SOURCES":         " Sample , csv ",
		"DATA_DIR":              "/srv/prices",
		"ALPHA_VANTAGE_API_KEY": "av",
		"UPSTREAM_MAX_RETRIES":  "0",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"sample", "csv"}, c.Market.Sources)
	require.Equal(t, "/srv/prices", c.Market.DataDir)
	require.Equal(t, "av", c.Market.AlphaVantageKey)
	require.Equal(t, "av", c.Sentiment.AlphaVantageKey)
	require.Negative(t, c.Market.HTTP.MaxRetries, "0 retries must reach upstream as 'disabled'")
	require.Nil(t, c.Sentiment.Sources)
}

func TestUpstreamURLsReplaceTheRealHosts(t *testing.T) {
	c, err := Load(env(map[string]string{
		"UPSTREAM_URLS": "yahoo=http://127.0.0.1:8001/, alphavantage=http://127.0.0.1:8002,google=https://mirror.example/news",
	}))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8001", c.Market.YahooURL)
	require.Equal(t, "http://127.0.0.1:8002", c.Market.AlphaVantageURL)
	require.Equal(t, "http://127.0.0.1:8002", c.Sentiment.AlphaVantageURL)
	require.Equal(t, "https://mirror.example/news", c.Sentiment.GoogleNewsURL)
	require.Empty(t, c.Market.StooqURL)
}

func ptr(s string) *string { return &s }

// The README's configuration table must list every setting with its
// default, so operators can trust it.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, s := range Settings() {
		def := "(empty)"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		require.Contains(t, string(readme), "| `"+s.Name+"` | "+def+" |", "README row of %s", s.Name)
	}
}

// Issue 21: TEST_DATABASE_URL was read by the tests and documented
// nowhere. Every variable the code reads itself, outside this package's
// table, is in the README's table of test variables (PATH excepted: the
// tests pass it on to the servers they start).
func TestREADMEDocumentsEveryOtherVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	read := regexp.MustCompile(`os\.(?:Getenv|LookupEnv)\("([A-Z0-9_]+)"\)`)
	found := map[string]bool{}
	require.NoError(t, filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go"):
			return nil
		}
		src, err := os.ReadFile(path)
		for _, m := range read.FindAllSubmatch(src, -1) {
			found[string(m[1])] = true
		}
		return err
	}))
	delete(found, "PATH")
	require.Contains(t, found, "TEST_DATABASE_URL", "the walk reads the tests")
	for name := range found {
		require.Contains(t, string(readme), "| `"+name+"` |", "README row of %s", name)
	}
}

func TestRedactHidesSecretsAndCredentials(t *testing.T) {
	setting := func(name string) Setting {
		for _, s := range Settings() {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("no setting %s", name)
		return Setting{}
	}
	cases := []struct{ name, value, want string }{
		{"DATABASE_URL", "postgres://augur:s3cr3t@db:5432/augur?sslmode=disable", "postgres://xxxxx@db:5432/augur?sslmode=disable"},
		{"DATABASE_URL", "postgres://db/augur?password=s3cr3t&sslmode=disable", "postgres://db/augur?password=xxxxx&sslmode=disable"},
		{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/augur", "postgres://xxxxx@127.0.0.1:5432/augur"},
		{"REDIS_URL", "redis://:s3cr3t@cache:6379/0", "redis://xxxxx@cache:6379/0"},
		{"REDIS_URL", "redis//bad:s3cr3t@x", "redis//xxxxx@x"},
		{"REDIS_URL", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"SECRET_KEY", "s3cr3t", "(set, hidden)"},
		{"FINNHUB_API_KEY", "s3cr3t", "(set, hidden)"},
		{"FINNHUB_API_KEY", "", ""},
		{"HTTP_ADDR", ":8080", ":8080"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, setting(tc.name).Redact(tc.value), "%s=%s", tc.name, tc.value)
	}
}

func TestWorkerTaskCheckInterval(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, 50*time.Millisecond, c.TaskCheckInterval)

	for value, want := range map[string]time.Duration{"10ms": 10 * time.Millisecond, "1s": time.Second, "10s": 10 * time.Second} {
		c, err := Load(env(map[string]string{"WORKER_TASK_CHECK_INTERVAL": value}))
		require.NoError(t, err, value)
		require.Equal(t, want, c.TaskCheckInterval, value)
	}
	// Below 10 ms an idle worker would run Redis scripts hundreds of
	// times a second for nothing; 0 would be asynq's own 1 s in disguise.
	for _, value := range []string{"0", "9ms", "11s", "-50ms", "50", "soon", ""} {
		_, err := Load(env(map[string]string{"WORKER_TASK_CHECK_INTERVAL": value}))
		require.ErrorContains(t, err, "WORKER_TASK_CHECK_INTERVAL", "%q", value)
	}
}
