package app

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/dbtest"
)

// selfSigned writes a fresh self-signed certificate for 127.0.0.1 and
// localhost, named cn, into dir, and returns its files and a pool that
// trusts it.
func selfSigned(t *testing.T, dir, cn string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestWebServesTLSItself is issue 19 item 8: with TLS_CERT_FILE and
// TLS_KEY_FILE, web answers HTTPS over HTTP/2 on HTTP_ADDR, marks the
// session cookie Secure and sends HSTS, and no longer answers plain HTTP.
func TestWebServesTLSItself(t *testing.T) {
	db := dbtest.Postgres(t, "app")
	certFile, keyFile, pool := selfSigned(t, t.TempDir(), "augur-test")
	cfg, addr := webConfig(t, db, "SHUTDOWN_DRAIN=0s", "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile)
	env := &runtimeEnv{cfg: cfg, logger: newLogger(cfg, testLog{t}), stdout: io.Discard}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveWeb(ctx, env) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-served)
	})

	client := clientFrom("127.0.0.1", pool)
	require.Eventually(t, func() bool {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "web never answered HTTPS")
	resp, session := signIn(t, client, "https://"+addr, db)
	require.Equal(t, 2, resp.ProtoMajor, "HTTP/2 comes with TLS")
	require.Equal(t, "max-age=63072000", resp.Header.Get("Strict-Transport-Security"))
	require.True(t, session.Secure, "the session cookie of an HTTPS-only site is Secure")

	plain, err := http.Get("http://" + addr + "/login")
	if err == nil {
		defer plain.Body.Close()
		require.Equal(t, http.StatusBadRequest, plain.StatusCode, "Go's TLS server answers plain HTTP with 400")
	}
}

// A renewed certificate is served without a restart, and a renewal that
// cannot be read leaves the one in use in place.
func TestCertificateRenewalIsPickedUp(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "first")
	certs, err := loadCertificateFiles(certFile, keyFile, 0, newLogger(&config.Config{LogFormat: "text"}, testLog{t}))
	require.NoError(t, err)
	served := func() string {
		c, err := certs.getCertificate(nil)
		require.NoError(t, err)
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		require.NoError(t, err)
		return leaf.Subject.CommonName
	}
	require.Equal(t, "first", served())

	selfSigned(t, dir, "renewed")
	require.Equal(t, "renewed", served())

	require.NoError(t, os.WriteFile(keyFile, []byte("half-written"), 0o600))
	require.Equal(t, "renewed", served(), "an unreadable renewal keeps the pair in use")

	_, err = loadCertificateFiles(certFile, filepath.Join(dir, "missing.pem"), 0, nil)
	require.ErrorContains(t, err, "TLS_CERT_FILE and TLS_KEY_FILE")
}

// An event stream is excepted from the server's write timeout: each event
// moves the deadline on. Before, a stream died at the first write after
// the timeout, without its final event.
func TestEventStreamOutlivesTheWriteTimeout(t *testing.T) {
	s := newStack(t)
	srv, err := newHTTPServer(s.cfg, s.handler, s.logger)
	require.NoError(t, err)
	srv.WriteTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/jobs/"+id+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	first, err := events.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: job\n", first)

	// No worker runs, so nothing is written until the cancel, well past
	// the write timeout.
	time.Sleep(3 * srv.WriteTimeout)
	require.Equal(t, http.StatusOK, s.api.Do(http.MethodPost, "/api/v1/jobs/"+id+"/cancel", nil).Status)
	rest, err := io.ReadAll(events)
	require.NoError(t, err, "the stream was cut")
	require.Contains(t, string(rest), `"status":"canceled"`)
}

// clientFrom is an HTTPS client trusting pool whose connections come from
// the loopback address ip, so that a proxy on 127.0.0.1 and its clients
// have different addresses.
func clientFrom(ip string, pool *x509.CertPool) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       dialer.DialContext,
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// readEvents reads a Server-Sent Events body to its end and returns the
// data of its "job" events.
func readEvents(t *testing.T, body io.Reader) []string {
	t.Helper()
	var data []string
	sc := bufio.NewScanner(body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "job":
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	require.NoError(t, sc.Err())
	return data
}
