package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/pgcluster"
	"github.com/augurhq/augur/internal/store"
)

// cluster is a private Augur deployment: a PostgreSQL cluster, a
// redis-server, and web and worker built from this repository, all on
// loopback ports of their own, in one temporary folder.
type cluster struct {
	*procs
	clock clock

	pgPort, redisPort, webPort int
	pg, redis, web, worker     *child
	secretKey                  string

	db     *store.DB // the augur database, for the bench's own reads
	tokens []string  // one API token per user
}

// startPostgres creates and starts a private PostgreSQL cluster with the
// server's default durability (fsync and synchronous_commit on: every
// commit waits for its WAL flush, as in production). Only initdb itself
// skips its final sync, which no measured commit depends on.
func (c *cluster) startPostgres(ctx context.Context) error {
	cred, err := pgcluster.ServerAccount()
	if err != nil {
		return err
	}
	initdb, err := pgcluster.Bin("initdb")
	if err != nil {
		return err
	}
	postgres, err := pgcluster.Bin("postgres")
	if err != nil {
		return err
	}
	data, sock := filepath.Join(c.dir, "pgdata"), filepath.Join(c.dir, "pgsock")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if cred != nil {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	cmd := exec.CommandContext(ctx, initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale")
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if c.pgPort, err = loopback.FreePort(); err != nil {
		return err
	}
	c.pg, err = c.start("postgres", cred, env, postgres, "-D", data, "-p", strconv.Itoa(c.pgPort),
		"-k", sock, "-c", "listen_addresses=127.0.0.1")
	if err != nil {
		return err
	}
	if err := awaitPort(ctx, c.pg, c.pgPort); err != nil {
		return err
	}
	// The port opens before recovery ends ("the database system is
	// starting up"): ready means a query answers.
	return await(ctx, "PostgreSQL to accept queries", func() (bool, error) {
		if c.pg.exited() {
			return false, errors.New("postgres exited at start")
		}
		db, err := store.Open(ctx, c.databaseURL("postgres"))
		if err != nil {
			return false, nil
		}
		return true, db.Close()
	})
}

// databaseURL is the URL of one database of the private cluster.
func (c *cluster) databaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.pgPort, name)
}

// startRedis starts an empty redis-server without persistence.
func (c *cluster) startRedis(ctx context.Context) error {
	var err error
	if c.redisPort, err = loopback.FreePort(); err != nil {
		return err
	}
	c.redis, err = c.start("redis", nil, []string{"PATH=" + os.Getenv("PATH")}, "redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(c.redisPort), "--save", "", "--appendonly", "no", "--dir", c.dir)
	if err != nil {
		return err
	}
	return awaitPort(ctx, c.redis, c.redisPort)
}

// redisAddr is the private redis-server's address.
func (c *cluster) redisAddr() string { return "127.0.0.1:" + strconv.Itoa(c.redisPort) }

// build compiles web and worker from this repository into the run's
// folder, as `make build` does.
func (c *cluster) build(ctx context.Context) error {
	for _, prog := range []string{"web", "worker"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", c.bin(prog), "github.com/augurhq/augur/cmd/"+prog)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", prog, err, out)
		}
	}
	return nil
}

func (c *cluster) bin(prog string) string { return filepath.Join(c.dir, "bin", prog) }

// Settings of the bench that differ from Augur's defaults. The per-user
// limits are raised so that 64 users can submit thousands of jobs in
// seconds; the limiter, the unfinished-jobs count, the token lookup and
// the idempotency check still run on every submission.
const (
	submitRateLimit   = 100000 // per user per minute (default 30; 100000 is the most allowed)
	maxUnfinishedJobs = 100000 // per user (default 20)
)

// env is the whole environment of web and worker: nothing is inherited
// from the shell, so a DATABASE_URL or WORKER_CONCURRENCY there cannot
// change what is measured. Production mode, prices from the bundled
// sample (offline), no metrics listener, and Augur's defaults for
// everything else (the database pool included).
func (c *cluster) env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.dir,
		"APP_ENV=production",
		"SECRET_KEY=" + c.secretKey,
		"DATABASE_URL=" + c.databaseURL("augur"),
		"REDIS_URL=redis://" + c.redisAddr() + "/0",
		"PRICE_SOURCES=sample",
		"METRICS_ADDR=",
		"SUBMIT_RATE_LIMIT=" + strconv.Itoa(submitRateLimit),
		"MAX_UNFINISHED_JOBS=" + strconv.Itoa(maxUnfinishedJobs),
	}, extra...)
}

// runWeb runs one of web's commands to completion and returns its output.
func (c *cluster) runWeb(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.bin("web"), args...)
	cmd.Env = c.env("HTTP_ADDR=127.0.0.1:0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("web %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// prepareAugur creates the augur database and schema, then users, each
// with an API token, through web's own commands, a few at a time.
func (c *cluster) prepareAugur(ctx context.Context, users int) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	c.secretKey = hex.EncodeToString(key)
	if _, err := c.runWeb(ctx, "migrate", "--create-db"); err != nil {
		return err
	}
	db, err := store.Open(ctx, c.databaseURL("augur"))
	if err != nil {
		return err
	}
	db.SetPool(store.Pool{MaxOpen: 4, MaxIdle: 4})
	c.db = db

	c.tokens = make([]string, users)
	errs := make([]error, users)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("load%03d", i)
			out, err := c.runWeb(ctx, "create-user", "--email", name+"@example.com", "--username", name)
			if err == nil {
				c.tokens[i], err = printedToken(out)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// printedToken finds the API token in `web create-user`'s output: the
// line after the one that announces it.
func printedToken(out string) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "API token") && sc.Scan() {
			return strings.TrimSpace(sc.Text()), nil
		}
	}
	return "", fmt.Errorf("web create-user printed no API token:\n%s", out)
}

// startWeb starts the web server and waits until it answers.
func (c *cluster) startWeb(ctx context.Context) error {
	var err error
	if c.webPort, err = loopback.FreePort(); err != nil {
		return err
	}
	c.web, err = c.start("web", nil, c.env("HTTP_ADDR=127.0.0.1:"+strconv.Itoa(c.webPort)), c.bin("web"))
	if err != nil {
		return err
	}
	return awaitPort(ctx, c.web, c.webPort)
}

// startWorker starts a worker running concurrency jobs at once (0: the
// worker's default, one per core). It stops the one before, if any.
func (c *cluster) startWorker(ctx context.Context, concurrency int) error {
	c.stopWorker()
	env := c.env("HTTP_ADDR=127.0.0.1:0")
	if concurrency > 0 {
		env = append(env, "WORKER_CONCURRENCY="+strconv.Itoa(concurrency))
	}
	var err error
	if c.worker, err = c.start("worker", nil, env, c.bin("worker"), "run"); err != nil {
		return err
	}
	// The worker is up once its asynq server has registered itself in
	// Redis under its pid.
	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: c.redisAddr()})
	defer inspector.Close()
	return await(ctx, "the worker to start", func() (bool, error) {
		if c.worker.exited() {
			return false, errors.New("the worker exited at start")
		}
		servers, err := inspector.Servers()
		if err != nil {
			return false, nil
		}
		for _, s := range servers {
			if s.PID == c.worker.pid() {
				return true, nil
			}
		}
		return false, nil
	})
}

// stopWorker shuts the worker down gracefully, if one runs.
func (c *cluster) stopWorker() {
	if c.worker != nil && !c.worker.exited() {
		c.worker.stop(30 * time.Second)
	}
	c.worker = nil
}

// cpu samples the CPU every role has used so far. The bench process is
// the generator; PostgreSQL is the postmaster and all its children.
func (c *cluster) cpu() cpuUse {
	use := cpuUse{}
	add := func(role string, ch *child, read func(int) (time.Duration, error)) {
		if ch == nil || ch.exited() {
			return
		}
		if d, err := read(ch.pid()); err == nil {
			use[role] = d
		}
	}
	add(roleWeb, c.web, c.clock.own)
	add(roleWorker, c.worker, c.clock.own)
	add(rolePostgres, c.pg, c.clock.tree)
	add(roleRedis, c.redis, c.clock.own)
	if d, err := c.clock.own(os.Getpid()); err == nil {
		use[roleGenerator] = d
	}
	return use
}
