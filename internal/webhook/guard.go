package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefusedAddress means a delivery would reach an address the guard
// refuses: loopback, private, link-local (the cloud metadata service at
// 169.254.169.254 among them), shared (CGNAT), unspecified, multicast or
// reserved, and not in the operator's allow-list.
var ErrRefusedAddress = errors.New("address not allowed for webhooks")

// refusedPrefixes are the ranges netip's predicates do not name.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: would reach any IPv4 address, private ones too
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/32"),      // Teredo: embeds an IPv4 address
}

// Guard decides which addresses webhooks may reach. Its zero value
// refuses every private address; Allowed opens networks again (tests'
// receivers on 127.0.0.1, a private deployment's own hosts).
type Guard struct {
	// Allowed networks are reachable whatever the rules say.
	Allowed []netip.Prefix
}

// CheckAddr returns ErrRefusedAddress, wrapped with the address, when ip
// must not be reached. An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is
// judged as the IPv4 address it is.
func (g Guard) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	for _, p := range g.Allowed {
		if p.Contains(ip) {
			return nil
		}
	}
	bad := !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast()
	for _, p := range refusedPrefixes {
		bad = bad || p.Contains(ip)
	}
	if bad {
		return fmt.Errorf("%w: %s", ErrRefusedAddress, ip)
	}
	return nil
}

// maxURLLen bounds an endpoint's URL.
const maxURLLen = 2048

// CheckURL validates an endpoint URL at registration: absolute http or
// https, a host, no user info, at most 2048 characters, and a host that,
// when it is a literal IP address, the guard allows. A host name is judged
// only when a delivery connects (see Client), because what it resolves to
// then is what counts.
func (g Guard) CheckURL(raw string) error {
	if len(raw) > maxURLLen {
		return fmt.Errorf("must be at most %d characters", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an http or https URL")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return errors.New("must name a host")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return g.CheckAddr(ip)
	}
	return nil
}

// Timeouts of one delivery attempt.
const (
	connectTimeout = 5 * time.Second
	requestTimeout = 10 * time.Second
)

// Client returns the HTTP client deliveries go through. The guard judges
// each connection's address in the dialer's Control hook, after DNS
// resolution and just before connect, so a name that resolves to a public
// address when checked and a private one when used (DNS rebinding) cannot
// slip through, on any attempt. No proxy is used (it would connect in the
// guard's place), and redirects are not followed: the 3xx is the answer,
// and is retried like any other non-2xx.
func (g Guard) Client() *http.Client {
	dialer := &net.Dialer{
		Timeout: connectTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			return g.CheckAddr(ap.Addr())
		},
	}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			TLSHandshakeTimeout:   connectTimeout,
			ResponseHeaderTimeout: requestTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
