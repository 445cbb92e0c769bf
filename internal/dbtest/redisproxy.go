package dbtest

import (
	"net"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisProxy is a TCP proxy in front of this test binary's private Redis
// that a test can stall, as a network partition that drops packets would:
// while stalled, connections stay open and writes succeed, but nothing
// reaches the other side, so neither end learns anything from the socket.
// What was held back is delivered on Heal, as TCP retransmission would.
type RedisProxy struct {
	ln net.Listener

	mu      sync.Mutex
	stalled chan struct{} // closed by Heal; nil while not stalled
	conns   map[net.Conn]struct{}
}

// RedisBehindProxy returns a client of DB 0 of this binary's Redis (not
// flushed: use Redis(t) for that) reached through a RedisProxy.
func RedisBehindProxy(t testing.TB) (*redis.Client, *RedisProxy) {
	t.Helper()
	p := NewRedisProxy(t, RedisAddr(t))
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { c.Close() })
	return c, p
}

// NewRedisProxy starts a RedisProxy in front of the Redis at target
// (host:port), closed when the test ends.
func NewRedisProxy(t testing.TB, target string) *RedisProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start Redis proxy: %v", err)
	}
	p := &RedisProxy{ln: ln, conns: map[net.Conn]struct{}{}}
	go p.accept(target)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *RedisProxy) Addr() string { return p.ln.Addr().String() }

func (p *RedisProxy) accept(target string) {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// pipe copies src to dst, holding each read back while the proxy is
// stalled.
func (p *RedisProxy) pipe(dst, src net.Conn) {
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stalled := p.stalled
			p.mu.Unlock()
			if stalled != nil {
				<-stalled
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Stall stops every byte through the proxy, in both directions, with the
// connections left open. New connections are accepted, and stall too.
func (p *RedisProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

// Heal lets the bytes through again, those held back first.
func (p *RedisProxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
}

// close heals the proxy, so that no copy stays blocked, and closes it and
// every connection through it.
func (p *RedisProxy) close() {
	p.Heal()
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}
