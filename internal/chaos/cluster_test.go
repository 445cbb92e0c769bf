package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the harness reads the jobs table directly

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/pgcluster"
)

// programs are the web and worker programs, built once for the run, on
// first use: a run whose tests start no cluster (-run, or TestSoak without
// SOAK) builds nothing, and newCluster starts the build while PostgreSQL
// sets up.
var programs struct {
	once sync.Once
	dir  string
	err  error
}

// buildPrograms builds web and worker into a temporary folder, once.
func buildPrograms() {
	programs.once.Do(func() {
		dir, err := os.MkdirTemp("", "augur-chaos-bin-")
		if err != nil {
			programs.err = err
			return
		}
		programs.dir = dir
		// One go build for both: they share loading and link in parallel.
		// No symbol table or DWARF (-s -w): nobody debugs these programs,
		// stack traces keep their names, and linking costs a third less.
		build := exec.Command("go", "build", "-ldflags=-s -w", "-o", dir+string(filepath.Separator),
			"github.com/augurhq/augur/cmd/web", "github.com/augurhq/augur/cmd/worker")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			programs.err = fmt.Errorf("build web and worker: %w\n%s", err, out)
		}
	})
}

// program returns the path of web or worker, waiting for the build.
func program(t testing.TB, name string) string {
	t.Helper()
	buildPrograms()
	if programs.err != nil {
		t.Fatal(programs.err)
	}
	return filepath.Join(programs.dir, name)
}

// TestMain runs the tests, then removes the programs if a test built them.
func TestMain(m *testing.M) {
	code := m.Run()
	// Waits for a build still running, so its folder can go.
	programs.once.Do(func() {})
	if programs.dir != "" {
		os.RemoveAll(programs.dir)
	}
	os.Exit(code)
}

// pgBin is the path of one of PostgreSQL's programs (see pgcluster.Bin).
func pgBin(t testing.TB, prog string) string {
	t.Helper()
	path, err := pgcluster.Bin(prog)
	if err != nil {
		missing(t, "PostgreSQL's "+prog)
	}
	return path
}

// missing fails the test when CI is set, as a test without a service it
// needs does in this repository, and skips it otherwise.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI and is not installed", what)
	}
	t.Skipf("%s is not installed", what)
}

// process is one child program of the cluster. Its output goes to a log
// file that outlives restarts, so a scenario can read what every
// incarnation did.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
}

// kill sends sig and waits for the process to exit. SIGKILL goes to the
// whole process group, so PostgreSQL's backends die with the postmaster.
func (p *process) kill(sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	} else {
		_ = p.cmd.Process.Signal(sig)
	}
	<-p.done
}

// alive reports whether the process is still running.
func (p *process) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// options size a cluster.
type options struct {
	workers     int
	concurrency int
	metrics     bool     // give each worker a /metrics listener
	extraEnv    []string // settings for web and workers beyond the harness's own
}

// cluster is a private Augur deployment: PostgreSQL, Redis, web and workers.
type cluster struct {
	t    *testing.T
	dir  string
	opts options

	pgData, pgSock string
	pgPort         int
	pg             *process
	redisPort      int
	redis          *process
	webAddr        string
	web            *process

	mu      sync.Mutex
	workers []*worker // every worker started, dead ones included
	started int       // workers started so far, naming the next one

	db    *sqlx.DB
	token string
	http  *http.Client
}

// worker is one incarnation of a worker process.
type worker struct {
	*process
	metricsAddr string
	killedAt    time.Time // zero unless the scenario killed it
	// pg is the proxy between the worker and PostgreSQL, for a worker
	// started by startStallableWorker; nil when it connects directly.
	pg *dbtest.Switch
}

// newCluster starts a whole deployment and stops it when the test ends,
// whatever happens.
func newCluster(t *testing.T, opts options) *cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server")
	}
	dir, err := os.MkdirTemp("", "augur-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dir: dir, opts: opts, http: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(c.stop)
	go buildPrograms()
	// PostgreSQL runs as the postgres user, which must reach its folders.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.startPostgres(true)
	c.startRedis()
	c.migrate()
	c.startWeb()
	for range opts.workers {
		c.startWorker()
	}
	return c
}

// stop ends every process and removes the cluster's folder.
func (c *cluster) stop() {
	if c.db != nil {
		c.db.Close()
	}
	c.mu.Lock()
	workers := c.workers
	c.mu.Unlock()
	for _, w := range workers {
		w.kill(syscall.SIGKILL)
	}
	for _, p := range []*process{c.web, c.redis, c.pg} {
		if p != nil {
			p.kill(syscall.SIGKILL)
		}
	}
	if c.t.Failed() {
		c.logTails()
	}
	os.RemoveAll(c.dir)
}

// logTails copies the end of every program's log into the test's output,
// so a failure can be read after the cluster's folder is gone.
func (c *cluster) logTails() {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		c.t.Logf("last lines of %s:\n%s", filepath.Base(name), strings.Join(lines[max(len(lines)-30, 0):], "\n"))
	}
}

// start runs a program whose output is appended to dir/<log>.log. The
// child is killed if the test binary dies (Pdeathsig), so a crashed run
// leaves no server behind.
func (c *cluster) start(name, log string, cred *syscall.Credential, env []string, prog string, args ...string) *process {
	c.t.Helper()
	out, err := os.OpenFile(filepath.Join(c.dir, log+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		c.t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p
}

// postgresUser is the account PostgreSQL runs as (see
// pgcluster.ServerAccount).
func (c *cluster) postgresUser() *syscall.Credential {
	cred, err := pgcluster.ServerAccount()
	if err != nil {
		c.t.Fatal(err)
	}
	return cred
}

// startPostgres starts the private PostgreSQL, creating its cluster first
// when fresh is set; a restart keeps the data and the port.
func (c *cluster) startPostgres(fresh bool) {
	c.t.Helper()
	cred := c.postgresUser()
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	if fresh {
		c.pgData, c.pgSock = filepath.Join(c.dir, "pgdata"), filepath.Join(c.dir, "pgsock")
		for _, d := range []string{c.pgData, c.pgSock} {
			if err := os.Mkdir(d, 0o700); err != nil {
				c.t.Fatal(err)
			}
			if cred != nil {
				if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
					c.t.Fatal(err)
				}
			}
		}
		initdb := exec.Command(pgBin(c.t, "initdb"), "-D", c.pgData, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale")
		initdb.Env = env
		initdb.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			c.t.Fatalf("initdb: %v\n%s", err, out)
		}
		c.pgPort = freePort(c.t)
	}
	c.pg = c.start("postgres", "postgres", cred, env, pgBin(c.t, "postgres"), "-D", c.pgData,
		"-p", strconv.Itoa(c.pgPort), "-k", c.pgSock, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	c.await("PostgreSQL accepts connections", func() bool { return dialable(c.pgPort) })
}

// stopPostgres shuts PostgreSQL down as an operator would (fast shutdown:
// sessions are cut, work in flight is rolled back) and waits for it.
func (c *cluster) stopPostgres() { c.pg.kill(syscall.SIGINT) }

// startRedis starts an empty, non-persistent redis-server on the cluster's
// Redis port, choosing the port the first time.
func (c *cluster) startRedis() {
	c.t.Helper()
	if c.redisPort == 0 {
		c.redisPort = freePort(c.t)
	}
	c.redis = c.start("redis", "redis", nil, []string{"PATH=" + os.Getenv("PATH")}, "redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(c.redisPort), "--save", "", "--appendonly", "no", "--dir", c.dir)
	if err := dbtest.WaitForRedis("127.0.0.1:"+strconv.Itoa(c.redisPort), c.redis.cmd.Process.Pid); err != nil {
		c.t.Fatalf("start Redis: %v", err)
	}
}

// restartRedisEmpty kills Redis with SIGKILL and starts it again with no
// data, as a Redis without persistence comes back from a crash.
func (c *cluster) restartRedisEmpty() {
	c.redis.kill(syscall.SIGKILL)
	c.startRedis()
}

// env is the configuration of web and the workers.
func (c *cluster) env(extra ...string) []string {
	// The full run keeps the default lease; the short one takes the
	// shortest there is, so that a killed worker's job comes back soon.
	lease := time.Duration(size(3, 30)) * time.Second
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.dir,
		"APP_ENV=development",
		"LOG_FORMAT=json",
		"DATABASE_URL=" + c.databaseURL(),
		"REDIS_URL=redis://127.0.0.1:" + strconv.Itoa(c.redisPort) + "/0",
		"PRICE_SOURCES=sample",
		"SENTIMENT_SOURCES=google",
		"MAX_UNFINISHED_JOBS=100000",
		"SUBMIT_RATE_LIMIT=100000",
		"WORKER_CONCURRENCY=" + strconv.Itoa(max(c.opts.concurrency, 1)),
		"JOB_LEASE=" + lease.String(),
		"RECONCILE_INTERVAL=2s",
		"DB_MAX_OPEN_CONNS=20",
	}, append(slices.Clone(c.opts.extraEnv), extra...)...)
}

func (c *cluster) databaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/augur?sslmode=disable", c.pgPort)
}

// migrate creates the schema, the audit trail the checks read, and a user
// whose token the scenarios submit with.
func (c *cluster) migrate() {
	c.t.Helper()
	c.run("web", "migrate", "--create-db")
	out := c.run("web", "demo-user")
	for _, line := range strings.Split(out, "\n") {
		if token, ok := strings.CutPrefix(line, "export TOKEN="); ok {
			c.token = strings.TrimSpace(token)
		}
	}
	if c.token == "" {
		c.t.Fatalf("web demo-user printed no token:\n%s", out)
	}
	db, err := sqlx.Open("postgres", c.databaseURL())
	if err != nil {
		c.t.Fatal(err)
	}
	c.db = db
	c.exec(auditSQL)
}

// run runs one command of the cluster's programs and returns its output.
func (c *cluster) run(prog string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(program(c.t, prog), args...)
	cmd.Env = c.env("HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// exec runs SQL on the private database.
func (c *cluster) exec(query string, args ...any) {
	c.t.Helper()
	if _, err := c.db.Exec(query, args...); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
}

// startWeb starts web, on the same address when it is a restart.
func (c *cluster) startWeb() {
	c.t.Helper()
	if c.webAddr == "" {
		c.webAddr = "127.0.0.1:" + strconv.Itoa(freePort(c.t))
	}
	c.web = c.start("web", "web", nil, c.env("HTTP_ADDR="+c.webAddr, "METRICS_ADDR="), program(c.t, "web"))
	c.await("web answers /healthz", func() bool {
		resp, err := c.http.Get("http://" + c.webAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startWorker starts one more worker process. Its database connections
// carry its name as application_name, so the audit trail knows which
// process wrote what.
func (c *cluster) startWorker() *worker {
	c.t.Helper()
	return c.launchWorker(c.databaseURL(), nil)
}

// startStallableWorker starts one more worker whose connections to
// PostgreSQL go through a proxy of the harness's (worker.pg), which a
// scenario stalls, heals or cuts for this worker alone. extra are
// settings of this worker's own.
func (c *cluster) startStallableWorker(extra ...string) *worker {
	c.t.Helper()
	sw := dbtest.NewSwitch(c.t, "127.0.0.1:"+strconv.Itoa(c.pgPort))
	w := c.launchWorker(fmt.Sprintf("postgres://postgres@%s/augur?sslmode=disable", sw.Addr()), extra)
	w.pg = sw
	return w
}

// launchWorker starts a worker on the database at url.
func (c *cluster) launchWorker(url string, extra []string) *worker {
	c.t.Helper()
	c.mu.Lock()
	c.started++
	name := fmt.Sprintf("worker-%d", c.started)
	c.mu.Unlock()
	metrics := ""
	if c.opts.metrics {
		metrics = "127.0.0.1:" + strconv.Itoa(freePort(c.t))
	}
	env := c.env("HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR="+metrics)
	env = append(append(env, "DATABASE_URL="+url+"&application_name="+name), extra...)
	w := &worker{process: c.start(name, name, nil, env, program(c.t, "worker"), "run"), metricsAddr: metrics}
	c.mu.Lock()
	c.workers = append(c.workers, w)
	c.mu.Unlock()
	if metrics != "" {
		c.await(name+" serves /metrics", func() bool { return dialable(portOf(metrics)) })
	}
	return w
}

// killWorkerRunning kills, with SIGKILL, the worker that holds job id in
// the database (its worker_id ends in its pid) and returns it.
func (c *cluster) killWorkerRunning(ctx context.Context, id string) *worker {
	c.t.Helper()
	var holder string
	if err := c.db.GetContext(ctx, &holder, `SELECT worker_id FROM jobs WHERE id = $1`, id); err != nil {
		c.t.Fatal(err)
	}
	_, pidText, _ := strings.Cut(holder, ":")
	pid, _ := strconv.Atoi(pidText)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.workers {
		if w.cmd.Process.Pid == pid && w.alive() {
			w.killedAt = time.Now()
			w.kill(syscall.SIGKILL)
			return w
		}
	}
	c.t.Fatalf("job %s is held by %q, which is none of the live workers", id, holder)
	return nil
}

// await polls cond until it holds, failing the test after two minutes.
func (c *cluster) await(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("gave up waiting until %s", what)
		}
		<-tick.C
	}
}

// freePort finds a free loopback port (see dbtest.FreePort for where from).
func freePort(t testing.TB) int {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func dialable(port int) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// decodeJSON reads a response body into v.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
