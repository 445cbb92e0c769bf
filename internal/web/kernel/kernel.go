// Package kernel is what the HTTP face's parts share: the one API error
// shape and its mapping of domain errors, strict JSON decoding, the
// middleware (request ids, metrics, recovery, security headers, sign-in by
// API token or session), sessions, the API token cache, the event hub of
// job streams, page rendering, and the few operations that the API and the
// pages both offer (cancelling a job, valuing a portfolio, trading,
// webhook endpoints and replays). The
// JSON API, the pages and admin each build on it, never on each other.
package kernel

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/ratelimit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/webhook"
	"github.com/augurhq/augur/jobs"
)

// Config is what the kernel needs.
type Config struct {
	DB     *store.DB
	Redis  *redis.Client
	Queue  *jobs.Queue
	Events *jobs.Events
	// Keyspace names the deployment's channels and keys in Redis; the
	// zero value is the default prefix on database 0.
	Keyspace keyspace.Space
	// Prices gives the latest close that trades and valuations use.
	Prices   portfolio.Prices
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Audit records the audit trail.
	Audit *audit.Log
	// Accounts configures sessions and sign-in.
	Accounts Accounts
	// StreamsPerUser and StreamsMax cap the open event streams of one user
	// and of this process.
	StreamsPerUser int
	StreamsMax     int
	// WebhookGuard judges the URLs of webhook endpoints.
	WebhookGuard webhook.Guard
}

// Kernel holds what every handler of the API, the pages and admin uses.
// They embed it, so its fields and methods read as their own.
type Kernel struct {
	DB     *store.DB
	Redis  *redis.Client
	Queue  *jobs.Queue
	Events *jobs.Events
	Prices portfolio.Prices
	Logger *slog.Logger
	// Limiter counts the rate limits kept in Redis.
	Limiter *ratelimit.Limiter
	// Hub shares one Redis subscription among the job event streams.
	Hub *StreamHub
	// Sessions are the browser sessions.
	Sessions *scs.SessionManager
	// Secrets seals the TOTP secrets kept in PostgreSQL.
	Secrets *auth.SecretBox
	// WebAuthn runs the passkey ceremonies; nil when passkeys are not
	// configured.
	WebAuthn *webauthn.WebAuthn
	// Hashing runs every password hash of a request, within its bound.
	Hashing *auth.Hashing
	// Audit records the audit trail; actor, IP and request id come from
	// the request's context (Observe and the sign-in middleware put them
	// there).
	Audit *audit.Log
	// Webhooks registers endpoints and replays deliveries.
	Webhooks *Webhooks

	tokens   *tokenCache
	space    keyspace.Space
	metrics  *httpMetrics
	draining atomic.Bool
	pages    pages
	assets   *staticAssets
	cop      *http.CrossOriginProtection

	requireAdminSecondFactor bool
}

// New builds the kernel: it parses the pages and hashes the static files,
// so a broken template stops the server at start-up.
func New(c Config) (*Kernel, error) {
	assets, err := loadStaticAssets()
	if err != nil {
		return nil, err
	}
	pg, err := parsePages(assets)
	if err != nil {
		return nil, err
	}
	secrets, err := auth.NewSecretBox(c.Accounts.SecretKey)
	if err != nil {
		return nil, err
	}
	var wa *webauthn.WebAuthn
	if c.Accounts.WebAuthnRPID != "" {
		wa, err = webauthn.New(&webauthn.Config{RPID: c.Accounts.WebAuthnRPID, RPDisplayName: "Augur", RPOrigins: c.Accounts.WebAuthnOrigins})
		if err != nil {
			return nil, fmt.Errorf("passkeys: %w", err)
		}
	}
	sealer, err := webhook.NewSealer(c.Accounts.SecretKey)
	if err != nil {
		return nil, err
	}
	return &Kernel{
		DB:       c.DB,
		Redis:    c.Redis,
		Queue:    c.Queue,
		Events:   c.Events,
		Prices:   c.Prices,
		Logger:   c.Logger,
		Limiter:  ratelimit.New(c.Redis),
		Hub:      newStreamHub(c.Events, c.Logger, c.StreamsPerUser, c.StreamsMax),
		Sessions: newSessionManager(c.Accounts, c.Logger),
		Hashing:  c.Accounts.Hashing,
		Audit:    c.Audit,
		Webhooks: &Webhooks{db: c.DB, queue: c.Queue, guard: c.WebhookGuard, sealer: sealer, logger: c.Logger},
		tokens:   newTokenCache(c.Redis, c.Keyspace, c.Logger),
		space:    c.Keyspace,
		metrics:  newHTTPMetrics(c.Registry),
		pages:    pg,
		assets:   assets,
		cop:      http.NewCrossOriginProtection(),
		Secrets:  secrets,
		WebAuthn: wa,

		requireAdminSecondFactor: c.Accounts.RequireAdminSecondFactor,
	}, nil
}

// StartBackground starts what runs beside the requests and returns what
// stops it: the subscription that keeps the API token cache honest.
// Without a Redis client (tests of the routes alone) nothing runs, and the
// token cache is never live.
func (k *Kernel) StartBackground() (stop func()) {
	if k.Redis == nil {
		return func() {}
	}
	return k.tokens.start()
}

// Drain marks the process as shutting down (see Draining) and ends the
// event streams.
func (k *Kernel) Drain() {
	k.draining.Store(true)
	k.Hub.Drain()
}

// Draining reports whether the process is shutting down: readiness fails,
// so no new traffic is sent here, and requests are still served.
func (k *Kernel) Draining() bool { return k.draining.Load() }

// TokenCacheLive reports whether the API token cache is live (its
// invalidation subscription confirmed), for tests that wait for it.
func (k *Kernel) TokenCacheLive() bool { return k.tokens.isLive() }

// RedisCallTimeout bounds a Redis call on a request's path. Redis answers
// in about a millisecond; without the bound, go-redis's retries keep a
// request (and, for the limiter, the user's row lock and a PostgreSQL
// connection) waiting over a second per call while Redis is down, and each
// of these calls has a fallback: the limiter lets the submission through,
// the reconciler enqueues the job, and streams poll.
const RedisCallTimeout = 300 * time.Millisecond
