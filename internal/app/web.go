package app

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/upstream"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/api"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/internal/webhook"
	"github.com/augurhq/augur/jobs"
)

func webCommands() []command {
	return append([]command{
		{name: "serve", summary: "serve the web pages and the JSON API", parse: withoutFlags(serveWeb)},
		{name: "migrate", synopsis: "[--create-db]", summary: "apply pending database migrations", parse: withFlags(func(fs *flag.FlagSet) action {
			createDB := fs.Bool("create-db", false, "create the database first if it does not exist")
			return func(ctx context.Context, env *runtimeEnv) error { return migrate(ctx, env, *createDB) }
		})},
		{name: "create-user", synopsis: "--email E --username U [--admin] [--password-stdin]", summary: "create a user with a password to sign in with, and print an API token", parse: withFlags(func(fs *flag.FlagSet) action {
			email := fs.String("email", "", "email address (required)")
			username := fs.String("username", "", "username (required)")
			admin := fs.Bool("admin", false, "give the user the admin role")
			passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input; without it, a random one is printed once")
			return func(ctx context.Context, env *runtimeEnv) error {
				return createUser(ctx, env, *email, *username, *admin, *passwordStdin)
			}
		})},
		{name: "demo-user", summary: "development only: make sure a demo user, the demo companies and two brokers exist, and print a fresh password and token", parse: withoutFlags(demoUser)},
		{name: "config", summary: "print every setting with its current value (secrets hidden), then check them", parse: withoutFlags(printConfig), anyConfig: true},
	}, append(operatorWebCommands(), backupCommands()...)...)
}

// newQueue is the job queue on rdb with the configured timeouts, in the
// deployment's keyspace.
func newQueue(cfg *config.Config, rdb *redis.Client) *jobs.Queue {
	return jobs.NewQueue(rdb, jobs.Timeouts{Prediction: cfg.PredictionTimeout, Sentiment: cfg.SentimentTimeout}).
		InKeyspace(keyspace.Of(cfg.RedisPrefix, rdb))
}

func serveWeb(ctx context.Context, env *runtimeEnv) error {
	cfg, logger := env.cfg, env.logger
	db, rdb, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	defer rdb.Close()
	reg := newRegistry()
	// Expired sessions are never read; the cleanup only frees their rows.
	sessions := db.SessionStore(5 * time.Minute)
	defer sessions.StopCleanup()
	handler, err := newWebHandler(cfg, db, sessions, rdb, logger, reg)
	if err != nil {
		return err
	}
	defer handler.Close()
	serveMetrics(ctx, cfg.MetricsAddr, reg, dependencies{db, rdb}, logger)

	srv, err := newHTTPServer(cfg, handler, logger)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		logger.Info("web listening", "addr", cfg.HTTPAddr, "env", cfg.Env, "tls", srv.TLSConfig != nil)
		if srv.TLSConfig != nil {
			errc <- srv.ListenAndServeTLS("", "")
			return
		}
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("web server: %w", err)
	case <-ctx.Done():
	}
	return drainAndShutDown(srv, handler, cfg, logger, errc)
}

// The web server's own limits, whatever proxy is or is not in front.
// Event streams are excepted from writeTimeout: each event moves the
// deadline on (see api.jobEvents).
const (
	// readHeaderTimeout bounds a client that is slow to send its headers
	// (slowloris).
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request; bodies are at most 64 KiB.
	readTimeout = 30 * time.Second
	// writeTimeout bounds the time from the end of a request's headers to
	// the end of its answer; the slowest page or export takes a second.
	writeTimeout = time.Minute
	// idleTimeout closes a kept-alive connection after that long unused.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers; a session cookie and a
	// bearer token need under 1 KiB, and Go's default is 1 MiB.
	maxHeaderBytes = 64 << 10
)

// newHTTPServer is web's server with its limits, serving TLS (and with it
// HTTP/2) itself when TLS_CERT_FILE is set.
func newHTTPServer(cfg *config.Config, handler http.Handler, logger *slog.Logger) (*http.Server, error) {
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Failed handshakes and malformed requests are the client's
		// problem: a warning, in the one log, not stderr.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCertFile == "" {
		return srv, nil
	}
	certs, err := loadCertificateFiles(cfg.TLSCertFile, cfg.TLSKeyFile, certRecheck, logger)
	if err != nil {
		return nil, err
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.getCertificate}
	return srv, nil
}

// drainAndShutDown stops the server the graceful way: readiness fails and
// streams end at once (handler.Drain), requests are served for
// SHUTDOWN_DRAIN while load balancers notice, and then the listener closes
// and the requests in flight get up to SHUTDOWN_TIMEOUT to finish.
func drainAndShutDown(srv *http.Server, handler *web.Handler, cfg *config.Config, logger *slog.Logger, errc <-chan error) error {
	logger.Info("draining web server: readiness fails, requests are still served", "drain", cfg.ShutdownDrain)
	handler.Drain()
	select {
	case err := <-errc:
		return fmt.Errorf("web server: %w", err)
	case <-time.After(cfg.ShutdownDrain):
	}
	logger.Info("shutting down web server", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down web server: %w", err)
	}
	logger.Info("web server stopped")
	return nil
}

// newWebHandler builds the web server's handler, its browser sessions kept
// in sessions.
func newWebHandler(cfg *config.Config, db *store.DB, sessions scs.Store, rdb *redis.Client, logger *slog.Logger, reg prometheus.Registerer) (*web.Handler, error) {
	// Trades are priced at the latest close, so the web server loads
	// prices too, through the same chain and cache as the worker.
	marketCfg := cfg.Market
	marketCfg.HTTP.Metrics = upstream.NewMetrics(reg)
	prices, err := market.NewLoader(marketCfg, db, rdb, logger)
	if err != nil {
		return nil, err
	}
	space := keyspace.Of(cfg.RedisPrefix, rdb)
	queue := newQueue(cfg, rdb)
	reg.MustRegister(dependencies{db, rdb}, queue.ServersCollector())
	return web.New(web.Deps{
		Kernel: kernel.Config{
			DB:             db,
			Redis:          rdb,
			Queue:          queue,
			Events:         jobs.NewEvents(rdb, space),
			Keyspace:       space,
			Prices:         portfolio.NewMarketPrices(prices),
			Logger:         logger,
			Registry:       reg,
			Audit:          newAuditLog(cfg, db, logger, os.Stdout),
			StreamsPerUser: cfg.EventStreamsPerUser,
			StreamsMax:     cfg.EventStreamsMax,
			WebhookGuard:   webhook.Guard{Allowed: cfg.WebhookAllowedNetworks},
			Accounts: kernel.Accounts{
				Store:                  sessions,
				Lifetime:               cfg.SessionLifetime,
				IdleTimeout:            cfg.SessionIdleTimeout,
				SecureCookie:           cfg.SecureCookies(),
				SecretKey:              cfg.SecretKey,
				LoginPerMinutePerIP:    cfg.LoginPerMinutePerIP,
				LoginPerHourPerAccount: cfg.LoginPerHourPerAccount,
				TrustedProxies:         cfg.TrustedProxies,

				RequireAdminSecondFactor: cfg.RequireAdminSecondFactor(),
				WebAuthnRPID:             cfg.WebAuthnRPID,
				WebAuthnOrigins:          cfg.WebAuthnOrigins(),
				Hashing:                  auth.NewHashing(cfg.PasswordHashConcurrency, cfg.PasswordHashWait),
			},
		},
		API: api.Config{
			KnownModel:             registry.Known,
			Presets:                sentiment.PresetNames(),
			SubmitPerMinute:        cfg.SubmitRateLimit,
			MaxUnfinishedJobs:      cfg.MaxUnfinishedJobs,
			InteractiveJobsPerUser: cfg.InteractiveJobsPerUser,
			DispatchedJobsPerUser:  cfg.DispatchedJobsPerUser,
		},
	})
}

func migrate(ctx context.Context, env *runtimeEnv, createDB bool) error {
	if createDB {
		created, err := store.CreateDatabase(ctx, env.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		if created {
			env.logger.Info("database created")
		}
	}
	db, err := openDB(ctx, env.cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	version, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	env.logger.Info("database migrated", "version", version)
	return nil
}

func createUser(ctx context.Context, env *runtimeEnv, email, username string, admin, passwordStdin bool) error {
	email, err := auth.CheckEmail(email)
	if err != nil {
		return usageError{fmt.Errorf("--email: %w", err)}
	}
	if username, err = auth.CheckUsername(username); err != nil {
		return usageError{fmt.Errorf("--username: %w", err)}
	}
	role := store.RoleUser
	if admin {
		role = store.RoleAdmin
	}
	password, generated := "", true
	if passwordStdin {
		if password, err = readPassword(env.stdin); err != nil {
			return err
		}
		if err := auth.CheckPassword(password, email, username); err != nil {
			return usageError{fmt.Errorf("--password-stdin: %w", err)}
		}
		generated = false
	} else if password, err = auth.RandomPassword(); err != nil {
		return err
	}
	db, err := openDB(ctx, env.cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	user, err := newUser(ctx, db, email, username, password, role)
	if err != nil {
		return err
	}
	recordCLI(ctx, env, db, audit.Event{Action: audit.UserCreated, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"role": role}})
	if generated {
		fmt.Fprintf(env.stdout, "user %s: password to sign in with (shown once):\n%s\n", user.Username, password)
	}
	_, err = printToken(ctx, env, db, user, "cli")
	return err
}

// newAuditLog is the audit trail on db, written also to siem as JSON
// lines when AUDIT_STDOUT is on.
func newAuditLog(cfg *config.Config, db *store.DB, logger *slog.Logger, siem io.Writer) *audit.Log {
	if !cfg.AuditStdout {
		siem = nil
	}
	return audit.New(db, logger, siem)
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// newUser creates an account that signs in with password.
func newUser(ctx context.Context, db *store.DB, email, username, password, role string) (*store.User, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	return db.CreateUser(ctx, email, username, hash, role)
}

func printToken(ctx context.Context, env *runtimeEnv, db *store.DB, user *store.User, name string) (string, error) {
	token, digest, err := auth.NewToken()
	if err != nil {
		return "", err
	}
	if err := db.CreateAPIToken(ctx, user.ID, digest, name); err != nil {
		return "", err
	}
	recordCLI(ctx, env, db, audit.Event{Action: audit.TokenCreated, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"name": name}})
	fmt.Fprintf(env.stdout, "user %s (%s, %s): API token (shown once, keep it safe):\n%s\n", user.Username, user.Email, user.Role, token)
	return token, nil
}

// The account `make run` creates in development.
const (
	demoUsername = "demo"
	demoEmail    = "demo@example.com"
)

// setPassword gives a user a new password, ending their browser sessions.
func setPassword(ctx context.Context, db *store.DB, userID int64, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = db.SetPassword(ctx, userID, hash)
	return err
}

func demoUser(ctx context.Context, env *runtimeEnv) error {
	if env.cfg.Production() {
		return errors.New("demo-user is for development only")
	}
	db, err := openDB(ctx, env.cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	// Only a hash of the password is kept, so each run sets a fresh one
	// to print (which signs out the demo user's browsers).
	password, err := auth.RandomPassword()
	if err != nil {
		return err
	}
	user, err := db.UserByUsername(ctx, demoUsername)
	switch {
	case errors.Is(err, store.ErrNotFound):
		user, err = newUser(ctx, db, demoEmail, demoUsername, password, store.RoleUser)
	case err == nil:
		err = setPassword(ctx, db, user.ID, password)
	}
	if err != nil {
		return err
	}
	token, err := printToken(ctx, env, db, user, "make run")
	if err != nil {
		return err
	}
	if err := seedDemoMarket(ctx, env, db); err != nil {
		return err
	}
	base := localURL(env.cfg.HTTPAddr)
	fmt.Fprintf(env.stdout, "\nexport TOKEN=%s\nbrowser: %s/login as %s, password %s\n", token, base, user.Email, password)
	fmt.Fprintf(env.stdout, "then: curl -H \"Authorization: Bearer $TOKEN\" -H \"Content-Type: application/json\" -d '{\"ticker\":\"MSFT\",\"models\":[\"linreg\"]}' %s/api/v1/predictions\n", base)
	return nil
}

// localURL is where a browser or curl on this host reaches a server
// listening on addr (HTTP_ADDR): the address itself, but localhost for
// one that listens on every interface (":8080", "0.0.0.0:8080"), which is
// no address to connect to.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr // config.Load has checked it already
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printConfig prints every setting, then fails if the settings do not load,
// so that one command shows both what is set and what is wrong.
//
// Each setting is a block: its name, value and default on one line, then
// what it does, as the README's configuration table says it, wrapped.
func printConfig(_ context.Context, env *runtimeEnv) error {
	w := bufio.NewWriter(env.stdout)
	for _, s := range config.Settings() {
		value, set := env.lookup(s.Name)
		origin := "default"
		if !set {
			value = s.Default
		} else {
			origin = "default " + quoteEmpty(s.Redact(s.Default))
		}
		fmt.Fprintf(w, "%s=%s  (%s)\n", s.Name, s.Redact(value), origin)
		for _, line := range wrap(s.Help, 76) {
			fmt.Fprintf(w, "    %s\n", line)
		}
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := config.Load(env.lookup)
	return err
}

// quoteEmpty shows an empty default as "" rather than as nothing.
func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// wrap breaks text into lines of at most width bytes at spaces (a longer
// word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
