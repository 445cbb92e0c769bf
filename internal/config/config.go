// Package config reads every Augur setting from the environment. All
// settings live in one table with their default, help text and validation,
// so the README, `web config` and start-up checks cannot drift apart.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// DevSecretKey is the development default of SECRET_KEY. Production refuses it.
const DevSecretKey = "augur-development-secret-change-me"

// MinSecretKeyLen is the shortest SECRET_KEY production accepts.
const MinSecretKeyLen = 32

// Config is the validated configuration of both programs.
type Config struct {
	Env      string
	HTTPAddr string
	// TLSCertFile and TLSKeyFile, when set, make web serve HTTPS (and
	// HTTP/2) itself, for setups without a TLS-terminating proxy.
	TLSCertFile string
	TLSKeyFile  string
	MetricsAddr string
	// MetricsQueueCollector makes the worker export asynq's queue metrics.
	MetricsQueueCollector bool
	DatabaseURL           string
	RedisURL              string
	// RedisPrefix names this deployment's pub/sub channels and keys in
	// Redis (see keyspace).
	RedisPrefix string
	// RedisSentinelAddrs, when set, make Redis a Sentinel-watched master
	// named RedisSentinelMaster.
	RedisSentinelAddrs  []string
	RedisSentinelMaster string
	SecretKey           string
	// SessionLifetime is the longest a browser session lasts; it ends
	// sooner after SessionIdleTimeout without a request.
	SessionLifetime    time.Duration
	SessionIdleTimeout time.Duration
	// CookieSecure marks the session cookie Secure outside production too;
	// production always does (see SecureCookies).
	CookieSecure bool
	// LoginPerMinutePerIP and LoginPerHourPerAccount bound sign-in attempts.
	LoginPerMinutePerIP    int
	LoginPerHourPerAccount int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []string
	// Require2FAForAdmins is auto, true or false; see RequireAdminSecondFactor.
	Require2FAForAdmins string
	// WebAuthnRPID is the passkeys' relying party id (a domain); see
	// WebAuthnOrigins for the origins allowed to use them.
	WebAuthnRPID    string
	webAuthnOrigins []string
	// PasswordHashConcurrency bounds the password hashes web runs at once;
	// a request waits at most PasswordHashWait for a turn, then gets 503.
	PasswordHashConcurrency int
	PasswordHashWait        time.Duration
	// AuditRetention is how long audit rows are kept; 0 keeps them forever.
	AuditRetention time.Duration
	// AuditStdout also writes every audit row to stdout as a JSON line.
	AuditStdout bool
	LogLevel    slog.Level
	// LogFormat is json or text.
	LogFormat string

	WorkerConcurrency int
	WorkerQueues      map[string]int
	// TaskCheckInterval paces an idle worker's looks for new tasks
	// (asynq.Config.TaskCheckInterval).
	TaskCheckInterval time.Duration
	PredictionTimeout time.Duration
	SentimentTimeout  time.Duration
	ReconcileInterval time.Duration
	// JobLease is how long a running job stays held by its worker without
	// a heartbeat.
	JobLease        time.Duration
	ShutdownTimeout time.Duration
	// ShutdownDrain is how long web serves on after SIGTERM with its
	// readiness failing, before it stops listening.
	ShutdownDrain time.Duration
	// JobRetention is how long a finished job is kept.
	JobRetention time.Duration
	// SubmitRateLimit is how many jobs one user may submit per minute.
	SubmitRateLimit int
	// MaxUnfinishedJobs caps one user's queued and running jobs.
	MaxUnfinishedJobs int
	// InteractiveJobsPerUser is how many of one user's unfinished jobs may
	// be on the critical queue.
	InteractiveJobsPerUser int
	// DispatchedJobsPerUser is how many of one user's unfinished jobs may
	// be in Redis (or running) before the rest wait in PostgreSQL for the
	// user's turn; 0 takes no turns.
	DispatchedJobsPerUser int
	// EventStreamsPerUser and EventStreamsMax cap the open event streams of
	// one user and of one web process.
	EventStreamsPerUser int
	EventStreamsMax     int
	// WebhookAllowedNetworks are the networks webhooks may reach although
	// they are private (internal/webhook.Guard).
	WebhookAllowedNetworks []netip.Prefix

	// DBPool sizes each process's PostgreSQL connection pool.
	DBPool DBPool

	Market    market.Config
	Sentiment sentiment.Config
}

// DBPool is the connection pool of one process. Every web and worker
// replica opens one, so DB_MAX_OPEN_CONNS times the replicas must stay
// under PostgreSQL's max_connections.
type DBPool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
}

// idleAsOpen stands for an unset DB_MAX_IDLE_CONNS until Load gives it
// DB_MAX_OPEN_CONNS's value.
const idleAsOpen = -1

// Production reports whether APP_ENV is production.
// redisPrefix is REDIS_PREFIX's shape: safe inside a channel pattern (no
// glob characters) and a key.
var redisPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

func (c *Config) Production() bool { return c.Env == Production }

// SecureCookies reports whether the site is HTTPS only: always in
// production, elsewhere when web serves TLS itself or COOKIE_SECURE says
// so. Cookies are then Secure and pages carry HSTS.
func (c *Config) SecureCookies() bool {
	return c.Production() || c.CookieSecure || c.TLSCertFile != ""
}

// WebAuthnOrigins are the origins (scheme, host, port) whose pages may
// register and use passkeys: WEBAUTHN_ORIGINS, or else localhost at
// HTTP_ADDR's port, so that `make run` works as served: https when web
// serves TLS itself (TLS_CERT_FILE), http otherwise.
func (c *Config) WebAuthnOrigins() []string {
	if len(c.webAuthnOrigins) > 0 {
		return c.webAuthnOrigins
	}
	_, port, _ := net.SplitHostPort(c.HTTPAddr)
	scheme := "http"
	if c.TLSCertFile != "" {
		scheme = "https"
	}
	return []string{scheme + "://localhost:" + port}
}

// RequireAdminSecondFactor reports whether an admin without a second
// factor may sign in only to set one up: REQUIRE_2FA_FOR_ADMINS, whose
// auto means in production only.
func (c *Config) RequireAdminSecondFactor() bool {
	return c.Require2FAForAdmins == "true" || (c.Require2FAForAdmins == "auto" && c.Production())
}

// Setting is one environment variable.
type Setting struct {
	Name    string
	Default string
	Help    string
	apply   func(c *Config, value string) error
}

// Redact returns value as it may be printed: in `web config` and in error
// messages. Keys and secrets are hidden, and a URL's user and password are
// masked, even in a URL too malformed to parse.
func (s Setting) Redact(value string) string {
	switch {
	case value == "":
		return ""
	case s.Name == "SECRET_KEY" || strings.HasSuffix(s.Name, "_API_KEY"):
		return "(set, hidden)"
	case strings.HasSuffix(s.Name, "_URL"):
		return redactURL(value)
	}
	return value
}

// masked stands in for a secret in printed values.
const masked = "xxxxx"

// urlPassword matches a password given as a query parameter, which
// PostgreSQL URLs allow (password=, sslpassword=).
var urlPassword = regexp.MustCompile(`(?i)(password=)[^&#]*`)

// redactURL masks everything between the scheme's "//" (or the start) and
// the last "@", rather than parsing: a URL that fails to parse is the one
// most likely to be echoed in an error, and its "@" still marks the end of
// the credentials.
func redactURL(v string) string {
	if at := strings.LastIndex(v, "@"); at >= 0 {
		start := 0
		if i := strings.Index(v, "//"); i >= 0 && i < at {
			start = i + len("//")
		}
		v = v[:start] + masked + v[at:]
	}
	return urlPassword.ReplaceAllString(v, "${1}"+masked)
}

// Settings returns the table of every environment variable, in the order
// the README documents them.
func Settings() []Setting { return settings }

var settings = []Setting{
	{"APP_ENV", Development, "`development` or `production`. Production demands a strong SECRET_KEY and logs JSON.",
		func(c *Config, v string) error { return oneOf(&c.Env, v, Development, Production) }},
	{"HTTP_ADDR", ":8080", "Address the web server listens on.",
		func(c *Config, v string) error { return hostPort(&c.HTTPAddr, v) }},
	{"TLS_CERT_FILE", "", "PEM certificate chain: with TLS_KEY_FILE, web serves HTTPS and HTTP/2 on HTTP_ADDR itself, for setups without a TLS-terminating proxy. Both files are read again when they change (checked once a minute), so a renewed certificate needs no restart.",
		func(c *Config, v string) error { c.TLSCertFile = v; return nil }},
	{"TLS_KEY_FILE", "", "PEM private key of TLS_CERT_FILE.",
		func(c *Config, v string) error { c.TLSKeyFile = v; return nil }},
	{"METRICS_ADDR", ":9090", "Address of the Prometheus /metrics listener (web and worker each have one; give them different ports on one host, as `make run` does with the next port for the worker). Empty disables it.",
		func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			return hostPort(&c.MetricsAddr, v)
		}},
	{"METRICS_QUEUE_COLLECTOR", "true", "`true` makes the worker export asynq's queue series (`asynq_queue_size`, `asynq_queue_latency_seconds`, …), which scan Redis at each scrape, and the jobs held for their turn in PostgreSQL (`augur_jobs_held`, `augur_jobs_held_oldest_seconds`). Leave it on in one worker replica only; the others set `false`.",
		func(c *Config, v string) error { return boolean(&c.MetricsQueueCollector, v) }},
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/augur?sslmode=disable", "PostgreSQL connection URL.",
		func(c *Config, v string) error { return urlWithScheme(&c.DatabaseURL, v, "postgres", "postgresql") }},
	{"DB_MAX_OPEN_CONNS", "10", "PostgreSQL connections one process may open. Size it so that this × (web + worker replicas) + a few for migrations and psql stays under the server's max_connections (100 by default).",
		func(c *Config, v string) error { return intIn(&c.DBPool.MaxOpen, v, 1, 1000) }},
	{"DB_MAX_IDLE_CONNS", "", "PostgreSQL connections one process keeps open while idle (at most DB_MAX_OPEN_CONNS); empty means DB_MAX_OPEN_CONNS. Fewer makes the pool churn: after every burst that opens more than this, the extras are closed, and the next burst pays a new PostgreSQL session (a process fork, authentication, and re-preparing every statement) for each.",
		func(c *Config, v string) error {
			if v == "" {
				c.DBPool.MaxIdle = idleAsOpen
				return nil
			}
			return intIn(&c.DBPool.MaxIdle, v, 0, 1000)
		}},
	{"DB_CONN_MAX_LIFETIME", "30m", "Age at which a PostgreSQL connection is closed and replaced, so that connections spread again after a failover or a pooler restart; 0 keeps them forever.",
		func(c *Config, v string) error { return durationIn(&c.DBPool.MaxLifetime, v, 0, 24*time.Hour) }},
	{"REDIS_URL", "redis://127.0.0.1:6379/0", "Redis connection URL (asynq queues, locks, caches, live events).",
		func(c *Config, v string) error { return urlWithScheme(&c.RedisURL, v, "redis", "rediss") }},
	{"REDIS_PREFIX", "augur", "Prefix of this deployment's pub/sub channels in Redis (and of the keys replicas confirm on), 1 to 32 of a-z, 0-9, '_' and '-'. Channels also carry REDIS_URL's database number, since pub/sub ignores databases (keys live in the database already): deployments on two databases of one server never hear each other, and two on one database need two prefixes (and asynq, which has no prefix, cannot share a database at all).",
		func(c *Config, v string) error {
			if !redisPrefix.MatchString(v) {
				return fmt.Errorf("must be 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter or digit")
			}
			c.RedisPrefix = v
			return nil
		}},
	{"REDIS_SENTINEL_ADDRS", "", "Comma-separated host:port of Redis Sentinels. When set, both programs ask them for the master named REDIS_SENTINEL_MASTER and follow its failovers; REDIS_URL then gives only the password, database number and TLS. Redis Cluster is not supported.",
		func(c *Config, v string) error { return hostPortList(&c.RedisSentinelAddrs, v) }},
	{"REDIS_SENTINEL_MASTER", "", "Name of the master the Sentinels watch (their `sentinel monitor` name); required with REDIS_SENTINEL_ADDRS.",
		func(c *Config, v string) error { c.RedisSentinelMaster = v; return nil }},
	{"SECRET_KEY", DevSecretKey, "Server secret. It keys the HMAC that names the sign-in rate-limit counters in Redis, so Redis never holds an email address, and (through HKDF) the AES-GCM keys that seal TOTP secrets and webhook endpoint secrets in PostgreSQL, so changing it makes every stored TOTP secret unreadable (those users then sign in with a recovery code, or an admin resets their second factor) and every webhook secret too (rotate them); sessions need no signing (their tokens are random and live in PostgreSQL). Production refuses the default and anything shorter than 32 characters.",
		func(c *Config, v string) error { c.SecretKey = v; return nil }},
	{"SESSION_LIFETIME", "168h", "Longest a browser session lasts, however active; then the user signs in again.",
		func(c *Config, v string) error {
			return durationIn(&c.SessionLifetime, v, time.Minute, 90*24*time.Hour)
		}},
	{"SESSION_IDLE_TIMEOUT", "24h", "A browser session ends after this long without a request (at most SESSION_LIFETIME).",
		func(c *Config, v string) error {
			return durationIn(&c.SessionIdleTimeout, v, time.Minute, 90*24*time.Hour)
		}},
	{"COOKIE_SECURE", "false", "`true` makes the site HTTPS only: the session cookie is Secure and pages carry `Strict-Transport-Security`. Production always does, and so does web serving TLS itself (TLS_CERT_FILE); set it in development behind an HTTPS proxy.",
		func(c *Config, v string) error { return boolean(&c.CookieSecure, v) }},
	{"LOGIN_RATE_LIMIT_IP", "20", "Sign-in attempts one client IP address may make in any 60 seconds (a sliding window, not a refilling bucket).",
		func(c *Config, v string) error { return intIn(&c.LoginPerMinutePerIP, v, 1, 100000) }},
	{"LOGIN_RATE_LIMIT_ACCOUNT", "20", "Sign-in attempts one email address may receive in any hour, from anywhere; unknown addresses count alike.",
		func(c *Config, v string) error { return intIn(&c.LoginPerHourPerAccount, v, 1, 100000) }},
	{"TRUSTED_PROXIES", "", "Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (the sign-in limit is per client IP). Empty: the connecting address is the client.",
		func(c *Config, v string) error { return proxyList(&c.TrustedProxies, v) }},
	{"REQUIRE_2FA_FOR_ADMINS", "auto", "`true`: an administrator without a second factor (TOTP) can sign in only to set one up; every other page leads to /account and the API, called from the browser session, answers 403 `second_factor_required`. API tokens are unaffected. `auto` means true in production, false otherwise.",
		func(c *Config, v string) error { return oneOf(&c.Require2FAForAdmins, v, "auto", "true", "false") }},
	{"WEBAUTHN_RP_ID", "localhost", "Passkeys' relying party id: the site's domain as browsers see it (`augur.example.com`, or a parent domain of it), never an IP address. Passkeys registered under one id do not work under another.",
		func(c *Config, v string) error {
			if v == "" || strings.ContainsAny(v, ":/ ") {
				return errors.New("must be a domain name, without scheme or port")
			}
			c.WebAuthnRPID = v
			return nil
		}},
	{"WEBAUTHN_ORIGINS", "", "Comma-separated origins (`https://augur.example.com`) whose pages may use passkeys; each must be on WEBAUTHN_RP_ID's domain. Empty: `http://localhost:` and HTTP_ADDR's port (`https://` when TLS_CERT_FILE is set).",
		func(c *Config, v string) error { return originList(&c.webAuthnOrigins, v) }},
	{"PASSWORD_HASH_CONCURRENCY", "0", "Password hashes (argon2id, 64 MiB each) web runs at once for sign-in, registration and password changes; later ones queue. 0 sizes it from GOMEMLIMIT (a quarter of it, at least 1), or 2 without GOMEMLIMIT.",
		func(c *Config, v string) error {
			if err := intIn(&c.PasswordHashConcurrency, v, 0, 64); err != nil {
				return err
			}
			if c.PasswordHashConcurrency == 0 {
				c.PasswordHashConcurrency = auth.HashConcurrencyFor(debug.SetMemoryLimit(-1))
			}
			return nil
		}},
	{"PASSWORD_HASH_WAIT", "5s", "Longest a sign-in, registration or password change waits for a password-hashing turn before it is answered 503 with Retry-After.",
		func(c *Config, v string) error { return durationIn(&c.PasswordHashWait, v, 0, time.Minute) }},
	{"AUDIT_RETENTION", "9600h", "How long audit rows are kept (default 400 days); a worker prunes older ones every hour, oldest first, so the hash chain still verifies from the oldest kept row. 0 keeps them forever.",
		func(c *Config, v string) error { return durationIn(&c.AuditRetention, v, 0, 100*365*24*time.Hour) }},
	{"AUDIT_STDOUT", "false", "`true` also writes every audit row to stdout as one JSON line (the shape of GET /api/v1/admin/audit), for a SIEM to collect.",
		func(c *Config, v string) error { return boolean(&c.AuditStdout, v) }},
	{"LOG_LEVEL", "info", "`debug`, `info`, `warn` or `error`.",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{"LOG_FORMAT", "auto", "`json`, `text`, or `auto` (JSON in production, text otherwise).",
		func(c *Config, v string) error { return oneOf(&c.LogFormat, v, "auto", "json", "text") }},
	{"WORKER_CONCURRENCY", "0", "Jobs one worker runs at once; 0 means one per CPU core. Models are CPU-bound, so more rarely helps.",
		func(c *Config, v string) error {
			if err := intIn(&c.WorkerConcurrency, v, 0, 256); err != nil {
				return err
			}
			if c.WorkerConcurrency == 0 {
				c.WorkerConcurrency = runtime.NumCPU()
			}
			return nil
		}},
	{"WORKER_QUEUES", "critical=6,default=3,low=1", "Queues a worker serves, with their weights.",
		func(c *Config, v string) error { return queueWeights(&c.WorkerQueues, v) }},
	{"WORKER_TASK_CHECK_INTERVAL", "50ms", "How often a worker whose queues are all empty looks for a new task: it waits between half and one and a half times this. A job submitted to an idle worker waits for the next look, so this bounds its start (about 60 ms at the 95th percentile at 50ms, 1.2 s at asynq's own 1s); each look runs one Redis script per queue in WORKER_QUEUES.",
		func(c *Config, v string) error {
			return durationIn(&c.TaskCheckInterval, v, 10*time.Millisecond, 10*time.Second)
		}},
	{"PREDICTION_TIMEOUT", "10m", "Longest one attempt of a prediction (or model leaderboard) job may run.",
		func(c *Config, v string) error { return durationIn(&c.PredictionTimeout, v, time.Second, 24*time.Hour) }},
	{"SENTIMENT_TIMEOUT", "2m", "Longest one attempt of a sentiment job may run.",
		func(c *Config, v string) error { return durationIn(&c.SentimentTimeout, v, time.Second, 24*time.Hour) }},
	{"RECONCILE_INTERVAL", "30s", "How often a worker looks for jobs missing from the queue, and for jobs whose worker died (their lease lapsed) to hand to another. A worker also looks at once when Redis answers again after an outage or comes back empty.",
		func(c *Config, v string) error { return durationIn(&c.ReconcileInterval, v, time.Second, time.Hour) }},
	{"JOB_LEASE", "30s", "How long a running job stays held by its worker, which renews it every third of that. Past it the job shows as worker lost, and may be enqueued and started again; a worker whose renewals do not reach PostgreSQL stops the job's work a tenth of the lease before it would lapse.",
		func(c *Config, v string) error { return durationIn(&c.JobLease, v, 3*time.Second, time.Hour) }},
	{"JOB_RETENTION", "720h", "How long a finished job (its parameters and result) is kept; a worker deletes older ones every hour. Queued and running jobs are never deleted. Idempotency-Keys are kept 24 h, the price bars of tickers nobody asked about 90 days.",
		func(c *Config, v string) error {
			return durationIn(&c.JobRetention, v, time.Hour, 100*365*24*time.Hour)
		}},
	{"SHUTDOWN_DRAIN", "5s", "How long web keeps serving after SIGTERM, its readiness failing, so that load balancers take it out of rotation before it stops listening; event streams are told to reconnect at once. 0 stops at once.",
		func(c *Config, v string) error { return durationIn(&c.ShutdownDrain, v, 0, 5*time.Minute) }},
	{"SHUTDOWN_TIMEOUT", "30s", "How long SIGTERM waits for running work before handing it back to the queue.",
		func(c *Config, v string) error { return durationIn(&c.ShutdownTimeout, v, time.Second, time.Hour) }},
	{"SUBMIT_RATE_LIMIT", "30", "Jobs one user may submit in any 60 seconds (a sliding window counted in Redis; while Redis is down it is not enforced, and MAX_UNFINISHED_JOBS still holds). Invalid requests and idempotent replays do not count.",
		func(c *Config, v string) error { return intIn(&c.SubmitRateLimit, v, 1, 100000) }},
	{"MAX_UNFINISHED_JOBS", "100", "Queued and running jobs one user may have at once, a batch's counted as its jobs; past it a submission is a 429 with Retry-After. With fair turns a user's backlog waits in PostgreSQL behind nobody else's work, so this bounds rows, not anyone's wait; it is 100 so that a daily watchlist of a few dozen tickers fits beside a user's own jobs. The worker counts a scheduled batch against it too, so web and worker must agree.",
		func(c *Config, v string) error { return intIn(&c.MaxUnfinishedJobs, v, 1, 100000) }},
	{"INTERACTIVE_JOBS_PER_USER", "3", "How many of one user's unfinished jobs may wait on the `critical` queue; later `interactive` submissions go to `default`, so one user's burst cannot delay everyone else's interactive work.",
		func(c *Config, v string) error { return intIn(&c.InteractiveJobsPerUser, v, 1, 100000) }},
	{"DISPATCHED_JOBS_PER_USER", "1", "Fair turns between users (docs/fairness.md): how many of one user's unfinished jobs are put in Redis (or run) while other users' jobs wait; the user's other jobs wait in PostgreSQL, still `queued`, and the workers take users in turn. A user alone still has every worker slot. `0` takes no turns: every job goes to Redis at once, in the order submitted. Web and worker must agree.",
		func(c *Config, v string) error { return intIn(&c.DispatchedJobsPerUser, v, 0, 100000) }},
	{"EVENT_STREAMS_PER_USER", "10", "Event streams (`/api/v1/jobs/{id}/events`) one user may hold open on one web process; past it, 429 with Retry-After.",
		func(c *Config, v string) error { return intIn(&c.EventStreamsPerUser, v, 1, 100000) }},
	{"EVENT_STREAMS_MAX", "1000", "Event streams one web process holds open in all (each costs a goroutine and a socket, not a Redis connection: they share one); past it, 503 with Retry-After.",
		func(c *Config, v string) error { return intIn(&c.EventStreamsMax, v, 1, 1000000) }},
	{"WEBHOOK_ALLOWED_NETWORKS", "", "Comma-separated CIDRs (or IPs) that webhook deliveries may reach although they are loopback, private, link-local or otherwise refused (SSRF guard): for tests and private deployments whose receivers live inside. Empty: only public addresses.",
		func(c *Config, v string) error { return prefixList(&c.WebhookAllowedNetworks, v) }},
	{"PRICE_SOURCES", strings.Join(market.DefaultSources(), ","), "Price providers in fallback order: " + strings.Join(market.SourceNames(), ", ") + ".",
		func(c *Config, v string) error { return sourceList(&c.Market.Sources, v, market.ParseSources, false) }},
	{"DATA_DIR", "", "Folder of `<TICKER>.csv` files for the `csv` price provider.",
		func(c *Config, v string) error { c.Market.DataDir = v; return nil }},
	{"PRICE_CACHE_TTL", "6h", "How long cached live prices count as fresh.",
		func(c *Config, v string) error { return durationIn(&c.Market.CacheTTL, v, 0, 30*24*time.Hour) }},
	{"SENTIMENT_SOURCES", "", "Sentiment sources in order; empty means the default priority: " + strings.Join(sentiment.SourceNames(), ", ") + ".",
		func(c *Config, v string) error {
			return sourceList(&c.Sentiment.Sources, v, sentiment.ParseSources, true)
		}},
	{"SENTIMENT_NUM_ARTICLES", "10", "Articles the sentiment chain collects before it stops.",
		func(c *Config, v string) error {
			return intIn(&c.Sentiment.NumArticles, v, 1, sentiment.MaxNumArticles)
		}},
	{"SENTIMENT_CACHE_TTL", "1h", "How long a source's articles for a ticker are cached in Redis, and so how long an identical prediction with sentiment may reuse a result.",
		func(c *Config, v string) error { return durationIn(&c.Sentiment.CacheTTL, v, 0, 7*24*time.Hour) }},
	{"UPSTREAM_TIMEOUT", "5s", "Timeout of one request to an outside API.",
		func(c *Config, v string) error {
			if err := durationIn(&c.Market.HTTP.Timeout, v, 100*time.Millisecond, 5*time.Minute); err != nil {
				return err
			}
			c.Sentiment.HTTP.Timeout = c.Market.HTTP.Timeout
			return nil
		}},
	{"UPSTREAM_MAX_RETRIES", "2", "Retries after a 5xx, 429 or timeout from an outside API (never after another 4xx).",
		func(c *Config, v string) error {
			if err := intIn(&c.Market.HTTP.MaxRetries, v, 0, 10); err != nil {
				return err
			}
			if c.Market.HTTP.MaxRetries == 0 {
				c.Market.HTTP.MaxRetries = -1 // upstream: negative disables retries
			}
			c.Sentiment.HTTP.MaxRetries = c.Market.HTTP.MaxRetries
			return nil
		}},
	{"UPSTREAM_URLS", "", "Base URLs that replace outside APIs' real ones, as `source=url` pairs separated by commas (sources: yahoo, stooq, alphavantage for prices and news, finviz, eodhd, tradestie, finnhub, stockgeist, google). For a mirror or a proxy, and for the fault suite's fake servers; empty uses the real hosts.",
		upstreamURLs},
	{"ALPHA_VANTAGE_API_KEY", "", "Alpha Vantage key (prices and news sentiment).",
		func(c *Config, v string) error {
			c.Market.AlphaVantageKey, c.Sentiment.AlphaVantageKey = v, v
			return nil
		}},
	{"STOOQ_API_KEY", "", "Stooq key (prices).",
		func(c *Config, v string) error { c.Market.StooqKey = v; return nil }},
	{"EODHD_API_KEY", "", "EODHD key (news sentiment).",
		func(c *Config, v string) error { c.Sentiment.EODHDKey = v; return nil }},
	{"FINNHUB_API_KEY", "", "Finnhub key (company news, social sentiment).",
		func(c *Config, v string) error { c.Sentiment.FinnhubKey = v; return nil }},
	{"STOCKGEIST_API_KEY", "", "StockGeist key (news sentiment).",
		func(c *Config, v string) error { c.Sentiment.StockGeistKey = v; return nil }},
}

// Load reads the configuration through lookup (os.LookupEnv in production).
// Every invalid value is reported, each naming its variable.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, s := range settings {
		v, ok := lookup(s.Name)
		if !ok {
			v = s.Default
		}
		v = strings.TrimSpace(v)
		if err := s.apply(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", s.Name, s.Redact(v), err))
		}
	}
	if c.DBPool.MaxIdle == idleAsOpen {
		c.DBPool.MaxIdle = c.DBPool.MaxOpen
	}
	if c.DBPool.MaxIdle > c.DBPool.MaxOpen {
		errs = append(errs, fmt.Errorf("DB_MAX_IDLE_CONNS=%d: must not exceed DB_MAX_OPEN_CONNS=%d", c.DBPool.MaxIdle, c.DBPool.MaxOpen))
	}
	if (c.TLSCertFile != "") != (c.TLSKeyFile != "") {
		errs = append(errs, errors.New("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither"))
	}
	if (len(c.RedisSentinelAddrs) > 0) != (c.RedisSentinelMaster != "") {
		errs = append(errs, errors.New("REDIS_SENTINEL_ADDRS and REDIS_SENTINEL_MASTER: set both or neither"))
	}
	if c.LogFormat == "auto" {
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json"
		}
	}
	if c.SessionIdleTimeout > c.SessionLifetime {
		errs = append(errs, errors.New("SESSION_IDLE_TIMEOUT: must not exceed SESSION_LIFETIME"))
	}
	if c.Production() {
		switch {
		case c.SecretKey == "":
			errs = append(errs, errors.New("SECRET_KEY: must be set in production"))
		case c.SecretKey == DevSecretKey:
			errs = append(errs, errors.New("SECRET_KEY: the development default is not allowed in production"))
		case len(c.SecretKey) < MinSecretKeyLen:
			errs = append(errs, fmt.Errorf("SECRET_KEY: must be at least %d characters in production", MinSecretKeyLen))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return c, nil
}

func oneOf(dst *string, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		*dst = v
		return nil
	}
	return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
}

func hostPort(dst *string, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("must be host:port: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("port must be a number from 0 to 65535")
	}
	*dst = v
	return nil
}

func urlWithScheme(dst *string, v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("not a valid URL")
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("must be a %s:// URL with a host", schemes[0])
}

func intIn(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return errors.New("must be a whole number")
	}
	if n < lo || n > hi {
		return fmt.Errorf("must be between %d and %d", lo, hi)
	}
	*dst = n
	return nil
}

func durationIn(dst *time.Duration, v string, lo, hi time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("must be a duration such as 30s or 5m")
	}
	if d < lo || d > hi {
		return fmt.Errorf("must be between %v and %v", lo, hi)
	}
	*dst = d
	return nil
}

func boolean(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("must be true or false")
	}
	*dst = b
	return nil
}

// proxyList parses a comma-separated list of IP addresses and CIDR ranges.
// originList parses comma-separated origins: scheme and host, an optional
// port, nothing else.
func originList(dst *[]string, v string) error {
	*dst = nil
	for o := range strings.SplitSeq(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%q is not an origin like https://augur.example.com", o)
		}
		*dst = append(*dst, o)
	}
	return nil
}

func proxyList(dst *[]string, v string) error {
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if net.ParseIP(part) == nil {
			if _, _, err := net.ParseCIDR(part); err != nil {
				return fmt.Errorf("%q is neither an IP address nor a CIDR range", part)
			}
		}
		out = append(out, part)
	}
	*dst = out
	return nil
}

// prefixList reads a comma-separated list of CIDR ranges; a bare IP
// address is its own range.
func prefixList(dst *[]netip.Prefix, v string) error {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			ip, ipErr := netip.ParseAddr(part)
			if ipErr != nil {
				return fmt.Errorf("%q is neither an IP address nor a CIDR range", part)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		out = append(out, p.Masked())
	}
	*dst = out
	return nil
}

// hostPortList reads a comma-separated list of host:port addresses.
func hostPortList(dst *[]string, v string) error {
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		host, port, err := net.SplitHostPort(part)
		if err != nil || host == "" || port == "" {
			return fmt.Errorf("%q is not host:port", part)
		}
		out = append(out, part)
	}
	*dst = out
	return nil
}

func queueWeights(dst *map[string]int, v string) error {
	out := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(weight)
		if !ok || name == "" || err != nil || n < 1 {
			return fmt.Errorf("entry %q must be name=weight with a weight of at least 1", part)
		}
		out[name] = n
	}
	*dst = out
	return nil
}

// upstreamURLs parses UPSTREAM_URLS into the providers' base URLs.
func upstreamURLs(c *Config, v string) error {
	if v == "" {
		return nil
	}
	fields := map[string][]*string{
		"yahoo": {&c.Market.YahooURL}, "stooq": {&c.Market.StooqURL},
		"alphavantage": {&c.Market.AlphaVantageURL, &c.Sentiment.AlphaVantageURL},
		"finviz":       {&c.Sentiment.FinvizURL}, "eodhd": {&c.Sentiment.EODHDURL},
		"tradestie": {&c.Sentiment.TradestieURL}, "finnhub": {&c.Sentiment.FinnhubURL},
		"stockgeist": {&c.Sentiment.StockGeistURL}, "google": {&c.Sentiment.GoogleNewsURL},
	}
	for _, part := range strings.Split(v, ",") {
		name, raw, _ := strings.Cut(strings.TrimSpace(part), "=")
		dst, known := fields[name]
		u, err := url.Parse(raw)
		switch {
		case !known:
			return fmt.Errorf("entry %q names no known source", part)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("entry %q must be source=http(s)://host[/path]", part)
		}
		for _, f := range dst {
			*f = strings.TrimSuffix(raw, "/")
		}
	}
	return nil
}

// sourceList parses a comma-separated list of source names with parse, the
// rule of the package that owns the sources. An empty list is allowed only
// when emptyOK (it then means "the default").
func sourceList(dst *[]string, v string, parse func([]string) ([]string, error), emptyOK bool) error {
	if v == "" {
		if emptyOK {
			*dst = nil
			return nil
		}
		return errors.New("must name at least one source")
	}
	out, err := parse(strings.Split(v, ","))
	if err != nil {
		return err
	}
	*dst = out
	return nil
}
