package dbtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"sync"
	"testing"

	"github.com/augurhq/augur/internal/store"
)

// The fault tests need PostgreSQL and Redis to go down under a running
// program. Neither helper touches a service another test binary uses:
// PostgreSQL is cut at a proxy of the test's own, and Redis is this
// binary's private server.

// Switch is a TCP proxy in front of the test PostgreSQL server that a test
// turns off to simulate an outage: while off, its port is closed (new
// connections are refused) and every connection through it is cut.
type Switch struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// PostgresBehindSwitch returns the same database as Postgres(t, name), but
// reached through a Switch, so that the test can stop "PostgreSQL" for this
// connection pool alone.
func PostgresBehindSwitch(t testing.TB, name string) (*store.DB, *Switch) {
	t.Helper()
	direct := Postgres(t, name)
	harness.mu.Lock()
	dbName := harness.names[direct]
	harness.mu.Unlock()
	u, err := url.Parse(URL(dbName))
	if err != nil || u.Host == "" {
		t.Fatalf("test database URL has no host to proxy: %v", err)
	}
	sw := &Switch{target: u.Host, conns: map[net.Conn]struct{}{}}
	if err := sw.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("start PostgreSQL switch: %v", err)
	}
	t.Cleanup(sw.Off)
	u.Host = sw.addr
	db, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatalf("open test database through the switch: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, sw
}

func (s *Switch) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	go s.accept(ln)
	return nil
}

func (s *Switch) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", s.target)
		if err != nil {
			client.Close()
			continue
		}
		s.mu.Lock()
		if s.ln != ln { // turned off meanwhile
			s.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		s.conns[client], s.conns[server] = struct{}{}, struct{}{}
		s.mu.Unlock()
		go s.pipe(client, server)
		go s.pipe(server, client)
	}
}

func (s *Switch) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	s.mu.Lock()
	delete(s.conns, dst)
	delete(s.conns, src)
	s.mu.Unlock()
}

// Off closes the port and cuts every connection through it. It is safe to
// call when already off.
func (s *Switch) Off() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
		delete(s.conns, c)
	}
}

// On opens the port again, on the same address.
func (s *Switch) On(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	on := s.ln != nil
	s.mu.Unlock()
	if on {
		return
	}
	if err := s.listen(s.addr); err != nil {
		t.Fatalf("turn PostgreSQL switch back on: %v", err)
	}
}

// StopRedis stops this test binary's private Redis, as an outage would.
// It starts again, empty and on the same address, at StartRedis or when the
// test ends, so the package's later tests find it.
func StopRedis(t testing.TB) {
	t.Helper()
	RedisAddr(t)
	harness.mu.Lock()
	defer harness.mu.Unlock()
	if harness.redis.cmd.ProcessState == nil {
		_ = harness.redis.cmd.Process.Kill()
		_ = harness.redis.cmd.Wait()
	}
	t.Cleanup(func() { StartRedis(t) })
}

// StartRedis restarts the private Redis stopped by StopRedis, empty, on the
// same address. It does nothing when the server runs.
func StartRedis(t testing.TB) {
	t.Helper()
	harness.mu.Lock()
	defer harness.mu.Unlock()
	s := harness.redis
	if s == nil || s.cmd.ProcessState == nil {
		return
	}
	if err := s.restart(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
}

// restart runs the stopped server again with the arguments it had.
func (s *redisServer) restart() error {
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	cmd.SysProcAttr = s.cmd.SysProcAttr
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	if err := WaitForRedis(s.addr, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// Another process may have taken the port while it was free.
		return fmt.Errorf("redis-server did not come back on %s: %w", s.addr, err)
	}
	return nil
}
