// Package dbtest gives every test binary its own real PostgreSQL databases
// and its own Redis server, so test packages run in parallel and two runs of
// the suite on one machine never touch each other's data. It never mocks
// either service: a test that cannot reach one fails when CI is set, and is
// skipped otherwise.
//
// Why these two schemes:
//   - PostgreSQL: databases of the test binary's own, named
//     augur_test_<name>_<unix seconds>_<random>. The suffix makes them
//     private to this run; the timestamp lets a later run drop what a killed
//     run left behind (see sweepStale). One server, many databases, is
//     cheap; a private PostgreSQL cluster per run would cost seconds of
//     initdb. Each test gets a database of its own, from a pool: a copy of a
//     template migrated once, emptied and reused after a test ends (see
//     pool.go).
//   - Redis: a private redis-server per test binary on a free loopback port.
//     Redis DB numbers are a fixed space of 16 that two runs would have to
//     share, and FLUSHALL or a restart (which the fault tests need) would hit
//     the other run; a process of our own costs a few milliseconds and
//     isolates everything.
//
// A package that uses either must route its tests through Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// so that the databases are dropped and the server stopped when it ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/store"
)

// AdminURL is the maintenance connection used to create test databases.
// TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// staleAfter is the age past which a test database is taken to be left over
// by a run that was killed. It is far beyond the suite's whole run time.
const staleAfter = 2 * time.Hour

// pgPool is this binary's migrated template and the test databases made
// from it that are free for the next test.
type pgPool struct {
	template string    // migrated once, copied for each database the pool lacks
	state    *snapshot // the template's state, which release restores
	free     []string  // databases that finished tests handed back, emptied
}

// harness is the state of one test binary: what it created, so Main can
// remove it.
var harness struct {
	mu        sync.Mutex
	inMain    bool
	admin     *sqlx.DB             // the maintenance database, opened on first use
	pool      *pgPool              // made on first use
	databases map[string]*store.DB // open test databases by test and name
	names     map[*store.DB]string // database name of each open test database
	created   []string             // every database this binary created
	redis     *redisServer
}

// Main runs the package's tests, then drops every database they created and
// stops the private Redis server. Call it from TestMain.
//
// It also makes password hashing cheap for the whole binary
// (auth.UseTestCost): these tests sign in, they do not test argon2id, which
// internal/auth tests at its production cost.
func Main(m *testing.M) {
	harness.mu.Lock()
	harness.inMain = true
	harness.mu.Unlock()
	auth.UseTestCost()
	code := m.Run()
	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest cleanup:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func cleanup() error {
	harness.mu.Lock()
	defer harness.mu.Unlock()
	// Databases are closed by their tests' cleanups; the drops below use
	// WITH (FORCE) for any connection a test leaked.
	harness.pool = nil
	if harness.redis != nil {
		harness.redis.stop()
		harness.redis = nil
	}
	admin := harness.admin
	harness.admin = nil
	if len(harness.created) == 0 {
		if admin != nil {
			admin.Close()
		}
		return nil
	}
	if admin == nil {
		var err error
		if admin, err = openAdmin(context.Background()); err != nil {
			return err
		}
	}
	defer admin.Close()
	// Each DROP DATABASE waits for a checkpoint of the whole server, which
	// the other test binaries keep busy; drops running together share one.
	errs := make([]error, len(harness.created))
	var wg sync.WaitGroup
	for i, name := range harness.created {
		wg.Go(func() { errs[i] = dropDatabase(context.Background(), admin, name) })
	}
	wg.Wait()
	harness.created = nil
	return errors.Join(errs...)
}

func requireMain(t testing.TB) {
	t.Helper()
	if !harness.inMain {
		t.Fatal("this package's tests must run through dbtest.Main: add func TestMain(m *testing.M) { dbtest.Main(m) }")
	}
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s not reachable: %v", what, err)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]`)

// UniqueName returns a database name that no other test run uses, and
// records it so Main drops it. The database itself is not created.
func UniqueName(t testing.TB, name string) string {
	t.Helper()
	requireMain(t)
	harness.mu.Lock()
	defer harness.mu.Unlock()
	return uniqueName(name)
}

// uniqueName is UniqueName for a caller that holds harness.mu.
func uniqueName(name string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	short := unsafeName.ReplaceAllString(strings.ToLower(name), "_")
	if len(short) > 24 {
		short = short[:24]
	}
	dbName := fmt.Sprintf("augur_test_%s_%d_%s", short, time.Now().Unix(), hex.EncodeToString(b[:]))
	harness.created = append(harness.created, dbName)
	return dbName
}

// errUnreachable marks a failure to reach the PostgreSQL server.
var errUnreachable = errors.New("PostgreSQL not reachable")

// Postgres returns a migrated database of the test's own, with empty tables
// as migrations left them: a copy of a template that this binary migrated
// once, or one that an earlier test used and that was emptied and checked
// since (see pool.go). Each test starting from empty tables is what lets a
// test count rows (the reconciler's live jobs, say) without seeing what an
// earlier test, or an earlier -count pass, left. Calls with the same name
// inside one test share the database; the database goes back to the pool
// when the test ends, so nothing may use it after that.
func Postgres(t testing.TB, name string) *store.DB {
	t.Helper()
	requireMain(t)
	ctx := context.Background()
	key := t.Name() + "\x00" + name
	harness.mu.Lock()
	db := harness.databases[key]
	harness.mu.Unlock()
	if db != nil {
		return db
	}
	dbName, pool, err := takeDatabase(ctx, name)
	if errors.Is(err, errUnreachable) {
		unavailable(t, "PostgreSQL", err)
		return nil
	}
	if err != nil {
		t.Fatalf("test database: %v", err)
	}
	db, err = store.Open(ctx, URL(dbName))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	harness.mu.Lock()
	if harness.databases == nil {
		harness.databases = map[string]*store.DB{}
		harness.names = map[*store.DB]string{}
	}
	harness.databases[key] = db
	harness.names[db] = dbName
	admin := harness.admin
	harness.mu.Unlock()
	t.Cleanup(func() {
		harness.mu.Lock()
		delete(harness.databases, key)
		delete(harness.names, db)
		harness.mu.Unlock()
		db.Close()
		if err := pool.state.release(ctx, admin, dbName); err != nil {
			// Left as it is, for Main to drop.
			t.Logf("dbtest: database %s %v", dbName, err)
			return
		}
		harness.mu.Lock()
		pool.free = append(pool.free, dbName)
		harness.mu.Unlock()
	})
	return db
}

// takeDatabase returns an emptied database from the pool, or else a new
// copy of the template named after name.
func takeDatabase(ctx context.Context, name string) (string, *pgPool, error) {
	harness.mu.Lock()
	defer harness.mu.Unlock()
	if harness.admin == nil {
		admin, err := openAdmin(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", errUnreachable, err)
		}
		harness.admin = admin
	}
	if harness.pool == nil {
		pool, err := newPool(ctx, harness.admin)
		if err != nil {
			return "", nil, fmt.Errorf("template: %w", err)
		}
		harness.pool = pool
	}
	pool := harness.pool
	if n := len(pool.free); n > 0 {
		dbName := pool.free[n-1]
		pool.free = pool.free[:n-1]
		return dbName, pool, nil
	}
	dbName := uniqueName(name)
	// Identifiers cannot be bound as parameters; QuoteIdentifier makes the
	// names safe to splice.
	_, err := harness.admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(dbName)+` TEMPLATE `+pq.QuoteIdentifier(pool.template))
	if err != nil {
		return "", nil, fmt.Errorf("create %s: %w", dbName, err)
	}
	return dbName, pool, nil
}

// URLOf returns the connection URL of a test database from Postgres, for
// code under test that opens its own connections from a DATABASE_URL.
func URLOf(t testing.TB, db *store.DB) string {
	t.Helper()
	harness.mu.Lock()
	name, ok := harness.names[db]
	harness.mu.Unlock()
	if !ok {
		t.Fatal("dbtest.URLOf: not an open database from dbtest.Postgres")
	}
	return URL(name)
}

// Exec runs SQL on a test database from Postgres over a connection of its
// own. It is for faults the store rightly offers no method for, such as a
// trigger that makes writes fail the way a server shutting down does.
func Exec(t testing.TB, db *store.DB, sql string) {
	t.Helper()
	harness.mu.Lock()
	name, ok := harness.names[db]
	harness.mu.Unlock()
	if !ok {
		t.Fatal("dbtest.Exec: not an open database from dbtest.Postgres")
	}
	conn, err := sqlx.Open("postgres", URL(name))
	if err != nil {
		t.Fatalf("dbtest.Exec: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Exec(sql); err != nil {
		t.Fatalf("dbtest.Exec: %v", err)
	}
}

// newPool migrates this binary's template and reads its state. The caller
// holds harness.mu.
func newPool(ctx context.Context, admin *sqlx.DB) (*pgPool, error) {
	sweepStale(ctx, admin)
	tmpl := uniqueName("tmpl")
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(tmpl)); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, URL(tmpl))
	if err != nil {
		return nil, err
	}
	// A template must have no open connections when it is copied.
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	conn, err := sqlx.Open("postgres", URL(tmpl))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	state, err := takeSnapshot(ctx, conn)
	if err != nil {
		return nil, err
	}
	return &pgPool{template: tmpl, state: state}, nil
}

func openAdmin(ctx context.Context) (*sqlx.DB, error) {
	admin, err := sqlx.Open("postgres", AdminURL())
	if err != nil {
		return nil, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	return admin, nil
}

func dropDatabase(ctx context.Context, admin *sqlx.DB, name string) error {
	_, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`)
	if err != nil {
		return fmt.Errorf("drop test database %s: %w", name, err)
	}
	return nil
}

var staleName = regexp.MustCompile(`^augur_test_.*_(\d{10,})_[0-9a-f]{8}$`)

// sweepStale drops test databases that a killed run left behind: only those
// whose timestamp is older than staleAfter, so a run in progress is never
// touched. Failures are ignored; the next run tries again.
func sweepStale(ctx context.Context, admin *sqlx.DB) {
	var names []string
	if err := admin.SelectContext(ctx, &names, `SELECT datname FROM pg_database WHERE datname LIKE 'augur\_test\_%'`); err != nil {
		return
	}
	for _, name := range names {
		m := staleName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		secs, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || time.Since(time.Unix(secs, 0)) < staleAfter {
			continue
		}
		_ = dropDatabase(ctx, admin, name)
	}
}

// URL returns the connection URL of the named database on the test server.
func URL(dbName string) string {
	u := AdminURL()
	i := strings.LastIndex(u, "/")
	q := ""
	if j := strings.Index(u[i:], "?"); j >= 0 {
		q = u[i+j:]
	}
	return u[:i+1] + dbName + q
}

// redisServer is this test binary's private redis-server.
type redisServer struct {
	cmd  *exec.Cmd
	addr string
	dir  string
}

func (s *redisServer) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// startRedis starts redis-server on a free loopback port. A port can be
// taken between our probe and the server's bind, so a failed start is tried
// again on another port.
func startRedis() (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "augur-test-redis-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		port, err := loopback.FreePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
		if lastErr = s.launch(bin); lastErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("start redis-server: %w", lastErr)
}

// launch runs redis-server on s's address, without persistence, and waits
// until it answers.
func (s *redisServer) launch(bin string) error {
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"))
	// The server dies with the test binary even when that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := WaitForRedis(s.addr, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	s.cmd = cmd
	return nil
}

// RestartRedis kills this test binary's Redis and starts an empty one on
// the same address: what a crash of a Redis without persistence does to
// the processes using it. Their clients keep the address and reconnect, and
// their open connections break as in production, while whatever they
// remember about Redis (asynq's registered queues, say) is now wrong.
func RestartRedis(t testing.TB) {
	t.Helper()
	RedisAddr(t)
	harness.mu.Lock()
	defer harness.mu.Unlock()
	s := harness.redis
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		err = s.launch(bin)
	}
	if err != nil {
		t.Fatalf("restart redis-server on %s: %v", s.addr, err)
	}
}

// WaitForRedis waits until the redis-server with process id pid answers
// on addr. A server that answers with another process id is someone else's,
// which took the port while ours was failing to bind it: an error, not a
// success that would have two test binaries share one Redis.
func WaitForRedis(addr string, pid int) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	var err error
	for range 250 {
		var info string
		if info, err = c.Info(context.Background(), "server").Result(); err == nil {
			if got := redisProcessID(info); got != pid {
				return fmt.Errorf("%s is served by redis-server process %d, not by ours (%d)", addr, got, pid)
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// redisProcessID reads process_id from the answer to INFO server.
func redisProcessID(info string) int {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}

// RedisAddr returns the host:port of this test binary's private Redis,
// starting it on first use.
func RedisAddr(t testing.TB) string {
	t.Helper()
	requireMain(t)
	harness.mu.Lock()
	defer harness.mu.Unlock()
	if harness.redis == nil {
		s, err := startRedis()
		if err != nil {
			unavailable(t, "Redis", err)
			return ""
		}
		harness.redis = s
	}
	return harness.redis.addr
}

// RedisURL returns a redis:// URL of DB 0 on this test binary's Redis.
func RedisURL(t testing.TB) string {
	t.Helper()
	return "redis://" + RedisAddr(t) + "/0"
}

// Redis returns a client on DB 0 of this test binary's private Redis,
// emptied first so every test starts clean.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr(t)})
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		c.Close()
		t.Fatalf("flush test redis: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var userSeq atomic.Int64

// User creates an account with a name unique in the test database.
func User(t testing.TB, db *store.DB) *store.User {
	t.Helper()
	name := fmt.Sprintf("user%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	u, err := db.CreateUser(context.Background(), name+"@example.com", name, "not-a-real-hash", store.RoleUser)
	if err != nil {
		t.Fatalf("create test user: %v", err)
	}
	return u
}

// Token creates an account and returns an API token for it.
func Token(t testing.TB, db *store.DB) string {
	t.Helper()
	u := User(t, db)
	token, digest, err := auth.NewToken()
	if err == nil {
		err = db.CreateAPIToken(context.Background(), u.ID, digest, "test")
	}
	if err != nil {
		t.Fatalf("create test token: %v", err)
	}
	return token
}
