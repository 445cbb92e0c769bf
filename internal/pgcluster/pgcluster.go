// Package pgcluster runs a private PostgreSQL cluster (initdb, then the
// postgres server) in a folder of its own, for tests and benches that must
// own the server: stop it, destroy its data, restore it from a backup.
// When the process runs as root, as CI does, the cluster runs as the
// postgres account, since initdb and postgres refuse root.
package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver for Ready

	"github.com/augurhq/augur/internal/loopback"
)

// ErrNotFound means a program the cluster needs is not on this machine.
var ErrNotFound = errors.New("program not found")

// Cluster is one private PostgreSQL cluster.
type Cluster struct {
	// Data is the data directory, Socket the folder of its Unix socket.
	Data, Socket string
	// Port is its TCP port on 127.0.0.1.
	Port int
	// Env is the environment of the server and of Run; add to it before
	// Start, so that programs the server runs, such as an
	// archive_command, see it too.
	Env []string

	dir      string
	cred     *syscall.Credential
	settings []string
	server   *exec.Cmd
	exited   chan struct{}
}

// Bin returns the path of one of PostgreSQL's programs, which Debian keeps
// under /usr/lib/postgresql/<version>/bin, off the PATH, or of any other
// program on the PATH.
func Bin(prog string) (string, error) {
	if matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + prog); len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	if path, err := exec.LookPath(prog); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%w: %s (looked in /usr/lib/postgresql/*/bin and the PATH)", ErrNotFound, prog)
}

// Init creates a cluster in dir with initdb, on a free port. settings are
// the server's -c options (name=value) on every start.
func Init(ctx context.Context, dir string, settings ...string) (*Cluster, error) {
	cred, err := ServerAccount()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Data: filepath.Join(dir, "pgdata"), Socket: filepath.Join(dir, "pgsock"), dir: dir, cred: cred,
		Env: []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}, settings: settings}
	for _, d := range []string{dir, c.Data, c.Socket} {
		if err := c.MkdirOwned(d); err != nil {
			return nil, err
		}
	}
	if out, err := c.Run(ctx, "initdb", "-D", c.Data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if c.Port, err = loopback.FreePort(); err != nil {
		return nil, err
	}
	return c, nil
}

// ServerAccount is the account PostgreSQL must run as when this process
// is root, since initdb and postgres refuse root; nil (this process's
// own) otherwise.
func ServerAccount() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres account for a private PostgreSQL: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// MkdirOwned makes dir (mode 0700, as PostgreSQL wants its data) owned by
// the cluster's account; a dir that exists is only given to it.
func (c *Cluster) MkdirOwned(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if c.cred == nil {
		return nil
	}
	return os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid))
}

// Run runs prog (a PostgreSQL program, or any other on the PATH) as the
// cluster's account with the cluster's environment, and returns what it
// printed.
func (c *Cluster) Run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path, err := Bin(prog)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = c.dir
	cmd.Env = c.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: c.cred}
	return cmd.CombinedOutput()
}

// Start starts the server and waits until it answers queries outside
// recovery: after a restore, that is once the WAL is replayed and the
// server promoted. Its log goes to server.log in the cluster's folder.
func (c *Cluster) Start(ctx context.Context) error {
	postgres, err := Bin("postgres")
	if err != nil {
		return err
	}
	args := []string{"-D", c.Data, "-p", strconv.Itoa(c.Port), "-k", c.Socket, "-c", "listen_addresses=127.0.0.1"}
	for _, s := range c.settings {
		args = append(args, "-c", s)
	}
	log, err := os.OpenFile(filepath.Join(c.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	c.server = exec.Command(postgres, args...)
	c.server.Env = c.Env
	c.server.Stdout, c.server.Stderr = log, log
	// Its own process group, so a kill reaches the backends too; and it
	// dies with this process rather than outlive a crashed test.
	c.server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: c.cred}
	if err := c.server.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	c.exited = make(chan struct{})
	go func() {
		_ = c.server.Wait()
		log.Close()
		close(c.exited)
	}()
	return c.awaitReady(ctx)
}

func (c *Cluster) awaitReady(ctx context.Context) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var inRecovery bool
		if err := db.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err == nil && !inRecovery {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited at start; see %s", filepath.Join(c.dir, "server.log"))
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop shuts the server down: fast (SIGINT), as an operator would, or, if
// crash is set, at once (SIGKILL to the whole group), as a lost machine
// would. It waits for the server to be gone.
func (c *Cluster) Stop(crash bool) {
	if c.server == nil {
		return
	}
	if crash {
		_ = syscall.Kill(-c.server.Process.Pid, syscall.SIGKILL)
	} else {
		_ = c.server.Process.Signal(syscall.SIGINT)
	}
	<-c.exited
	c.server = nil
}

// URL is the URL of one database of the cluster, as the superuser.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, database)
}

// Log returns what the server has logged so far, for a failing test.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}
