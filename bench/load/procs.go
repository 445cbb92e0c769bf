package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a long-running program the bench started: a server or a
// worker. Its output goes to <name>.log in the run's folder.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill ends the child's whole process group at once (PostgreSQL's
// backends with the postmaster) and waits for it.
func (c *child) kill() {
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	<-c.done
}

// stop asks the child to shut down with SIGTERM and kills its group if it
// has not ended within grace.
func (c *child) stop(grace time.Duration) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
	}
	c.kill()
}

// procs starts children in a folder of logs and ends every one of them
// at the end of the run, whatever happened.
type procs struct {
	dir string

	mu       sync.Mutex
	children []*child
}

// start runs prog with exactly env (nothing inherited), as cred's user
// when cred is set. The child gets its own process group and SIGKILL when
// the bench dies (Pdeathsig), so a crashed or interrupted run leaves no
// server behind.
func (p *procs) start(name string, cred *syscall.Credential, env []string, prog string, args ...string) (*child, error) {
	out, err := os.OpenFile(filepath.Join(p.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env, cmd.Dir = out, out, env, p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(c.done)
	}()
	p.mu.Lock()
	p.children = append(p.children, c)
	p.mu.Unlock()
	return c, nil
}

// killAll ends every child still running, the last started first.
func (p *procs) killAll() {
	p.mu.Lock()
	children := p.children
	p.children = nil
	p.mu.Unlock()
	for i := len(children) - 1; i >= 0; i-- {
		children[i].kill()
	}
}

// logTail returns the last lines of a child's log, for an error report.
func (p *procs) logTail(name string, lines int) string {
	b, err := os.ReadFile(filepath.Join(p.dir, name+".log"))
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(len(all)-lines, 0):], "\n")
}

// awaitPort waits until something accepts connections on the loopback
// port, failing early if c exits first.
func awaitPort(ctx context.Context, c *child, port int) error {
	return await(ctx, c.name+" listening on port "+strconv.Itoa(port), func() (bool, error) {
		if c.exited() {
			return false, fmt.Errorf("%s exited before it listened", c.name)
		}
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
}

// awaitTimeout bounds every wait for a program to come up.
const awaitTimeout = time.Minute

// await polls cond every 20 ms until it holds, it fails, ctx ends or a
// minute passes.
func await(ctx context.Context, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, awaitTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("gave up waiting for %s", what)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// runDirPattern names the bench's temporary folders.
const runDirPattern = "augur-bench-load-"

// newRunDir makes the run's temporary folder, with the bench's pid in
// it, after removing the folders of runs that were killed (SIGKILL
// leaves no time to clean up; Pdeathsig has ended their servers).
func newRunDir() (string, error) {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPattern+"*"))
	for _, dir := range old {
		b, err := os.ReadFile(filepath.Join(dir, "pid"))
		if err != nil {
			continue // not ours, or still being made
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
	dir, err := os.MkdirTemp("", runDirPattern)
	if err != nil {
		return "", err
	}
	// PostgreSQL runs as the postgres user, which must reach its folders.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
