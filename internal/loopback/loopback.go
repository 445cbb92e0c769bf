// Package loopback finds free ports on 127.0.0.1 for the servers that tests
// and benches start as processes of their own (PostgreSQL, Redis,
// PgBouncer, web), so that two runs on one machine never collide.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a loopback TCP port nothing listens on, for a server
// that a test starts as a process of its own.
//
// The port is chosen below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range). A port from bind(0) lies in that range,
// and so does the source port of every outgoing connection: between the
// probe letting the port go and the child binding it, any client connection
// on the machine (the suite opens thousands) could take it, and the child
// would fail to start. Below the range only another test's probe can pick
// the same port, and the servers started here check that the one answering
// is theirs (see dbtest's redisServer.launch).
func FreePort() (int, error) {
	low := ephemeralLow()
	if low > 2048 {
		// The 12,000 ports under the ephemeral range, above the well-known ones.
		from := max(1024, low-12000)
		for range 100 {
			port := from + rand.IntN(low-from)
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
				l.Close()
				return port, nil
			}
		}
	}
	// No room below the range, or all of it busy: take the kernel's choice.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0 when
// it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return low
}
