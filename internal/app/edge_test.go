package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/loopback"
	"github.com/augurhq/augur/internal/store"
)

// shippedNginx is the site file an operator copies to /etc/nginx/conf.d.
const shippedNginx = "../../deploy/nginx/augur.conf"

// nginxEdge is a real nginx running the shipped site file, with only its
// "SET" lines pointed at the test's web, certificate and folders.
type nginxEdge struct {
	https, http string
}

func startNginx(t *testing.T, upstream, certFile, keyFile string) *nginxEdge {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, statErr := os.Stat(p); statErr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is required in CI (.ci/run installs Debian's nginx package)")
		}
		t.Skip("nginx not installed: apt-get install nginx to run the edge test")
	}
	dir := t.TempDir()
	ports := make([]int, 2)
	for i := range ports {
		ports[i], err = loopback.FreePort()
		require.NoError(t, err)
	}
	raw, err := os.ReadFile(shippedNginx)
	require.NoError(t, err)
	site := string(raw)
	for _, r := range []struct{ from, to string }{
		{"server 127.0.0.1:8080;", "server " + upstream + ";"},
		{"/var/cache/nginx/augur", filepath.Join(dir, "cache")},
		{"/etc/augur/tls/fullchain.pem", certFile},
		{"/etc/augur/tls/privkey.pem", keyFile},
		{"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", ports[0])},
		{"listen [::]:443 ssl http2;", ""},
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", ports[1])},
		{"listen [::]:80;", ""},
	} {
		require.Contains(t, site, r.from, "the shipped nginx site changed shape; update this test")
		site = strings.Replace(site, r.from, r.to, 1)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "augur.conf"), []byte(site), 0o644))
	// The main file an nginx package ships, cut to what the site needs:
	// one process as the test's user, every path in the test's folder.
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events {}
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/augur.conf;
}
`, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644))
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	edge := &nginxEdge{https: fmt.Sprintf("https://127.0.0.1:%d", ports[0]), http: fmt.Sprintf("http://127.0.0.1:%d", ports[1])}
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0]))
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "nginx never listened: %s", func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + string(log)
	}())
	return edge
}

// TestThroughNginx is issue 19 item 7: through a real nginx running the
// shipped site file with a self-signed certificate, a user signs in,
// submits, and follows the job's events to the end; the per-IP sign-in
// limit and the audit trail see the client's address, never one the client
// made up; plain
// HTTP is sent to HTTPS; and static files are cached at the edge.
func TestThroughNginx(t *testing.T) {
	s := newStack(t, "TRUSTED_PROXIES=127.0.0.1", "COOKIE_SECURE=true")
	s.startWorker()
	certFile, keyFile, pool := selfSigned(t, t.TempDir(), "augur-edge")
	upstream := strings.TrimPrefix(s.url, "http://")
	edge := startNginx(t, upstream, certFile, keyFile)
	const client = "127.0.0.2"
	browser := clientFrom(client, pool)

	// Sign in, claiming to be someone else in X-Forwarded-For.
	resp, session := signIn(t, browser, edge.https, s.db, "X-Forwarded-For", "203.0.113.9")
	require.Equal(t, 2, resp.ProtoMajor, "HTTP/2 at the edge")
	require.True(t, session.Secure)

	ctx := context.Background()
	counted, err := s.rdb.Exists(ctx, "augur:ratelimit:login:ip:"+client).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, counted, "the sign-in was counted against the client's own address")
	spoofed, err := s.rdb.Exists(ctx, "augur:ratelimit:login:ip:203.0.113.9").Result()
	require.NoError(t, err)
	require.Zero(t, spoofed, "an address the client made up is never believed")
	proxy, err := s.rdb.Exists(ctx, "augur:ratelimit:login:ip:127.0.0.1").Result()
	require.NoError(t, err)
	require.Zero(t, proxy, "nor is nginx's own")
	// The audit trail records the sign-in from the client's address, under
	// the request id nginx gave the request.
	signIns, err := s.db.AuditRows(ctx, store.AuditFilter{Action: string(audit.SignIn), Limit: 1})
	require.NoError(t, err)
	require.Len(t, signIns, 1)
	require.Equal(t, client, signIns[0].IP)
	require.Regexp(t, `^[0-9a-f]{32}$`, signIns[0].RequestID, "nginx's $request_id")

	// Submit with the session, and follow the job's events to the end.
	sessionHeader := func(r *http.Request) {
		r.AddCookie(session)
		r.Header.Set("Origin", edge.https)
	}
	req, err := http.NewRequest(http.MethodPost, edge.https+"/api/v1/predictions", strings.NewReader(`{"ticker":"MSFT","models":["linreg"]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	sessionHeader(req)
	resp, err = browser.Do(req)
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, id, body)

	req, err = http.NewRequest(http.MethodGet, edge.https+"/api/v1/jobs/"+id[1]+"/events", nil)
	require.NoError(t, err)
	sessionHeader(req)
	resp, err = browser.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readEvents(t, resp.Body)
	resp.Body.Close()
	require.NotEmpty(t, events)
	require.Contains(t, events[len(events)-1], `"status":"succeeded"`, "the stream ran to the job's end")

	// Plain HTTP only redirects.
	resp, err = browser.Get(edge.http + "/dashboard")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://"), resp.Header.Get("Location"))

	// Hashed static files are served from nginx's cache the second time.
	resp, err = browser.Get(edge.https + "/login")
	require.NoError(t, err)
	page := readAll(t, resp)
	css := regexp.MustCompile(`/static/app\.css\?v=[0-9a-f]+`).FindString(page)
	require.NotEmpty(t, css, "the page links its hashed stylesheet")
	for _, want := range []string{"MISS", "HIT"} {
		resp, err = browser.Get(edge.https + css)
		require.NoError(t, err)
		readAll(t, resp)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, want, resp.Header.Get("X-Cache-Status"))
	}
}

// signIn makes a user with a password and signs them in through the
// sign-in form at base, with the extra header name/value pairs; it returns
// the answer and the session cookie.
func signIn(t *testing.T, client *http.Client, base string, db *store.DB, header ...string) (*http.Response, *http.Cookie) {
	t.Helper()
	const password = "quartz-Lantern-harbour-57"
	hash, err := auth.HashPassword(password)
	require.NoError(t, err)
	name := fmt.Sprintf("signin%d", time.Now().UnixNano())
	user, err := db.CreateUser(context.Background(), name+"@example.com", name, hash, store.RoleUser)
	require.NoError(t, err)
	form := url.Values{"email": {user.Email}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed in")
	for _, c := range resp.Cookies() {
		if c.Name == "augur_session" {
			return resp, c
		}
	}
	t.Fatal("no session cookie after signing in")
	return nil, nil
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}
