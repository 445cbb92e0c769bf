package dbtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/store"
)

// The fault tests need PostgreSQL and Redis to go down under a running
// program. Neither helper touches a service another test binary uses:
// PostgreSQL is cut at a proxy of the test's own, and Redis is this
// binary's private server.

// Switch is a TCP proxy in front of a server (the test PostgreSQL, say)
// that a test uses to fault the connections through it, in two ways:
//   - Off is an outage: its port is closed (new connections are refused)
//     and every connection through it is cut. On opens it again.
//   - Stall is a partition: every connection stays open at both ends, and
//     new ones are accepted, but no byte crosses in either direction until
//     Heal, which forwards what was held back and lets traffic flow again.
//     Neither end sees an error: a client waits for answers as behind a
//     network that silently drops its packets, and the server sees an idle
//     client. (PostgreSQL closes a connection that sends no startup packet
//     within authentication_timeout, 60 s by default, so a connection
//     opened during a stall longer than that is cut when it heals.)
type Switch struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	// flowing is closed while bytes may cross; Stall replaces it with an
	// open channel, which Heal closes.
	flowing chan struct{}
}

// NewSwitch starts a Switch on a free loopback port that forwards to
// target (host:port). It is turned off when the test ends.
func NewSwitch(t testing.TB, target string) *Switch {
	t.Helper()
	flowing := make(chan struct{})
	close(flowing)
	sw := &Switch{target: target, conns: map[net.Conn]struct{}{}, flowing: flowing}
	if err := sw.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("start switch in front of %s: %v", target, err)
	}
	t.Cleanup(sw.Off)
	return sw
}

// RedisBehindSwitch returns a client of DB 0 of this binary's Redis (not
// flushed: use Redis(t) for that) reached through a Switch, for a test
// that partitions one client from Redis.
func RedisBehindSwitch(t testing.TB) (*redis.Client, *Switch) {
	t.Helper()
	sw := NewSwitch(t, RedisAddr(t))
	c := redis.NewClient(&redis.Options{Addr: sw.Addr()})
	t.Cleanup(func() { c.Close() })
	return c, sw
}

// Addr is the address (host:port) that reaches the target through the
// switch.
func (s *Switch) Addr() string { return s.addr }

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
	sw := NewSwitch(t, u.Host)
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

// pipe copies src to dst until either ends, holding each chunk read while
// the switch is stalled.
func (s *Switch) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-s.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	s.mu.Lock()
	delete(s.conns, dst)
	delete(s.conns, src)
	s.mu.Unlock()
}

// gate is closed while bytes may cross.
func (s *Switch) gate() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flowing
}

// Stall stops every byte through the switch, in both directions, keeping
// the connections open, until Heal. It is safe to call when stalled.
func (s *Switch) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.flowing:
		s.flowing = make(chan struct{})
	default: // already stalled
	}
}

// Heal ends a stall: what was held back is forwarded, and traffic flows
// again. It is safe to call when not stalled.
func (s *Switch) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heal()
}

func (s *Switch) heal() {
	select {
	case <-s.flowing:
	default:
		close(s.flowing)
	}
}

// Off closes the port and cuts every connection through it; it ends a
// stall too, so that nothing waits for a Heal. It is safe to call when
// already off.
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
	s.heal()
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
		t.Fatalf("turn switch back on: %v", err)
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
