package dbtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/pgcluster"
	"github.com/augurhq/augur/internal/store"
)

// PgBouncer starts a private PgBouncer in transaction pooling mode in
// front of db's database, as deployments that pool connections run it, and
// returns the URL that reaches the database through it. It stops when the
// test ends. Its server pool is small (2), so that clients share server
// connections as they would under load.
//
// PgBouncer before 1.21 does not carry named prepared statements across
// server connections, so only code that prepares nothing (or a PgBouncer
// with max_prepared_statements) works through it.
func PgBouncer(t testing.TB, db *store.DB) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		unavailable(t, "pgbouncer", err)
		return ""
	}
	// PgBouncer refuses to run as root: it runs as PostgreSQL's account,
	// in a folder it owns.
	cred, err := pgcluster.ServerAccount()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "augur-pgbouncer-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	server, err := url.Parse(URLOf(t, db))
	if err != nil {
		t.Fatal(err)
	}
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`[databases]
* = host=%s port=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, server.Hostname(), server.Port(), port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	user := server.User.Username()
	for name, content := range map[string]string{"pgbouncer.ini": conf, "users.txt": strconv.Quote(user) + ` ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("pgbouncer did not listen within 10 s")
		}
	}
	through := *server
	through.Host = addr
	return through.String()
}
