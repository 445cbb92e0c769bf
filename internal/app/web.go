package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/upstream"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/jobs"
)

func webCommands() []command {
	return append([]command{
		{name: "serve", summary: "serve the web pages and the JSON API", parse: withoutFlags(serveWeb)},
		{name: "migrate", synopsis: "[--create-db]", summary: "apply pending database migrations", parse: withFlags(func(fs *flag.FlagSet) action {
			createDB := fs.Bool("create-db", false, "create the database first if it does not exist")
			return func(ctx context.Context, env *runtimeEnv) error { return migrate(ctx, env, *createDB) }
		})},
		{name: "create-user", synopsis: "--email E --username U [--admin]", summary: "create a user and print an API token", parse: withFlags(func(fs *flag.FlagSet) action {
			email := fs.String("email", "", "email address (required)")
			username := fs.String("username", "", "username (required)")
			admin := fs.Bool("admin", false, "give the user the admin role")
			return func(ctx context.Context, env *runtimeEnv) error {
				return createUser(ctx, env, *email, *username, *admin)
			}
		})},
		{name: "demo-user", summary: "development only: make sure a demo user, the demo companies and two brokers exist, and print a fresh token", parse: withoutFlags(demoUser)},
		{name: "config", summary: "print every setting with its current value (secrets hidden), then check them", parse: withoutFlags(printConfig), anyConfig: true},
	}, append(operatorWebCommands(), backupCommands()...)...)
}

func jobTimeouts(cfg *config.Config) jobs.Timeouts {
	return jobs.Timeouts{Prediction: cfg.PredictionTimeout, Sentiment: cfg.SentimentTimeout}
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
	handler, err := newWebHandler(cfg, db, rdb, logger, reg)
	if err != nil {
		return err
	}
	serveMetrics(ctx, cfg.MetricsAddr, reg, dependencies{db, rdb}, logger)

	// No WriteTimeout: job event streams stay open for as long as a job runs.
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() {
		logger.Info("web listening", "addr", cfg.HTTPAddr, "env", cfg.Env)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("web server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down web server", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down web server: %w", err)
	}
	return nil
}

// newWebHandler builds the web server's handler.
func newWebHandler(cfg *config.Config, db *store.DB, rdb *redis.Client, logger *slog.Logger, reg prometheus.Registerer) (http.Handler, error) {
	// Trades are priced at the latest close, so the web server loads
	// prices too, through the same chain and cache as the worker.
	marketCfg := cfg.Market
	marketCfg.HTTP.Metrics = upstream.NewMetrics(reg)
	prices, err := market.NewLoader(marketCfg, db, rdb, logger)
	if err != nil {
		return nil, err
	}
	queue := jobs.NewQueue(rdb, jobTimeouts(cfg))
	reg.MustRegister(dependencies{db, rdb}, queue.ServersCollector())
	return web.New(web.Deps{
		DB:                     db,
		Redis:                  rdb,
		Queue:                  queue,
		Events:                 jobs.NewEvents(rdb),
		Prices:                 portfolio.NewMarketPrices(prices),
		Logger:                 logger,
		Registry:               reg,
		KnownModel:             registry.Known,
		Presets:                sentiment.PresetNames(),
		SubmitPerMinute:        cfg.SubmitRateLimit,
		MaxUnfinishedJobs:      cfg.MaxUnfinishedJobs,
		InteractiveJobsPerUser: cfg.InteractiveJobsPerUser,
		StreamsPerUser:         cfg.EventStreamsPerUser,
		StreamsMax:             cfg.EventStreamsMax,
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

func createUser(ctx context.Context, env *runtimeEnv, email, username string, admin bool) error {
	if !strings.Contains(email, "@") || strings.TrimSpace(username) == "" {
		return usageError{errors.New("--email with an @ and a non-empty --username are required")}
	}
	role := store.RoleUser
	if admin {
		role = store.RoleAdmin
	}
	db, err := openDB(ctx, env.cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	user, err := newUser(ctx, db, email, username, role)
	if err != nil {
		return err
	}
	_, err = printToken(ctx, env, db, user, "cli")
	return err
}

// newUser creates an account with a random password: API users need only
// their token. The password is random and never shown: no page signs in
// with it yet.
func newUser(ctx context.Context, db *store.DB, email, username, role string) (*store.User, error) {
	password, err := auth.RandomPassword()
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	return db.CreateUser(ctx, strings.TrimSpace(email), strings.TrimSpace(username), hash, role)
}

func printToken(ctx context.Context, env *runtimeEnv, db *store.DB, user *store.User, name string) (string, error) {
	token, digest, err := auth.NewToken()
	if err != nil {
		return "", err
	}
	if err := db.CreateAPIToken(ctx, user.ID, digest, name); err != nil {
		return "", err
	}
	fmt.Fprintf(env.stdout, "user %s (%s, %s): API token (shown once, keep it safe):\n%s\n", user.Username, user.Email, user.Role, token)
	return token, nil
}

// demoUsername is the account `make run` creates in development.
const demoUsername = "demo"

func demoUser(ctx context.Context, env *runtimeEnv) error {
	if env.cfg.Production() {
		return errors.New("demo-user is for development only")
	}
	db, err := openDB(ctx, env.cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	user, err := db.UserByUsername(ctx, demoUsername)
	if errors.Is(err, store.ErrNotFound) {
		user, err = newUser(ctx, db, "demo@example.com", demoUsername, store.RoleUser)
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
	_, port, _ := net.SplitHostPort(env.cfg.HTTPAddr)
	fmt.Fprintf(env.stdout, "\nexport TOKEN=%s\nbrowser: http://localhost:%s/#token=%s\n", token, port, token)
	return nil
}

// printConfig prints every setting, then fails if the settings do not load,
// so that one command shows both what is set and what is wrong.
func printConfig(_ context.Context, env *runtimeEnv) error {
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVALUE\tDEFAULT")
	for _, s := range config.Settings() {
		value, set := env.lookup(s.Name)
		if !set {
			value = s.Default
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", s.Name, s.Redact(value), s.Redact(s.Default))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := config.Load(env.lookup)
	return err
}
