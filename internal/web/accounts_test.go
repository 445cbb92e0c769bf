package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/kernel"
)

// browser is a client that behaves like one: it keeps cookies, does not
// follow redirects (the tests look at them), and sends the headers a
// browser sends with a same-origin form.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	// ip is the client address the server sees (X-Forwarded-For from the
	// trusted loopback proxy); empty means loopback itself.
	ip string
}

// page is a fully read response.
type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (h *harness) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: h.url, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	require.NoError(b.t, err)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

// post sends a form as a page of this site would.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	return b.postFrom(b.base, "same-origin", path, form)
}

// postFrom sends a form as a page at origin would, with the Sec-Fetch-Site
// a browser would give it.
func (b *browser) postFrom(origin, fetchSite, path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", fetchSite)
	return b.do(req)
}

// session is the browser's session cookie value, "" if it has none.
func (b *browser) session() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == web.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// withCookie is a new browser holding only the given session cookie: a
// copy of the token taken from elsewhere.
func (h *harness) withCookie(t *testing.T, token string) *browser {
	b := h.browser(t)
	u, _ := url.Parse(h.url)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: token, Path: "/"}})
	return b
}

func (b *browser) login(email, password string) *page {
	b.t.Helper()
	return b.post("/login", url.Values{"email": {email}, "password": {password}})
}

// testPassword is every test account's password; hashing it once keeps
// argon2id's deliberate cost out of each test.
const testPassword = "violet-harbour-trombone"

var testPasswordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

var accountSeq atomic.Int64

// account creates a user who signs in with testPassword.
func (h *harness) account(t *testing.T, role string) *store.User {
	t.Helper()
	name := fmt.Sprintf("member%d", accountSeq.Add(1))
	u, err := h.db.CreateUser(context.Background(), name+"@example.com", name, testPasswordHash(), role)
	require.NoError(t, err)
	return u
}

// signedIn is a browser signed in as a new user with role.
func (h *harness) signedIn(t *testing.T, role string) *browser {
	t.Helper()
	u := h.account(t, role)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	return b
}

// formError is the text of a page's form error.
var formErrorRE = regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)

func formError(t *testing.T, p *page) string {
	t.Helper()
	m := formErrorRE.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no form error on the page:\n%s", p.body)
	return m[1]
}

func TestRegisterSignsInAndRefusesDuplicatesAndWeakPasswords(t *testing.T) {
	h := newHarness(t, 100)
	b := h.browser(t)
	form := func(email, username, password, confirm string) url.Values {
		return url.Values{"email": {email}, "username": {username}, "password": {password}, "confirm": {confirm}}
	}
	done := b.post("/register", form("Ann@Example.com", "Ann", testPassword, testPassword))
	require.Equal(t, http.StatusSeeOther, done.status, done.body)
	require.Equal(t, "/", done.location)
	home := b.get("/")
	require.Equal(t, http.StatusOK, home.status)
	require.Contains(t, home.body, "Welcome to Augur, Ann.")
	require.Contains(t, home.body, `<a href="/account" title="Your account">Ann</a>`)

	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"same email in another case", form("ann@EXAMPLE.com", "someone", testPassword, testPassword), "An account with this email already exists"},
		{"same username in another case", form("other@example.com", "aNN", testPassword, testPassword), "This username is taken"},
		{"too short", form("new@example.com", "newbie", "short-pw", "short-pw"), "at least 10 characters"},
		{"common", form("new@example.com", "newbie", "1234567890", "1234567890"), "one of the most common"},
		{"common in capitals", form("new@example.com", "newbie", "QWERTYUIOP", "QWERTYUIOP"), "one of the most common"},
		{"the username itself", form("new@example.com", "newbie-account", "newbie-account", "newbie-account"), "must not be your email address or username"},
		{"confirmation differs", form("new@example.com", "newbie", testPassword, testPassword+"!"), "The two passwords differ"},
		{"bad email", form("not-an-email", "newbie", testPassword, testPassword), "enter an email address"},
		{"bad username", form("new@example.com", "a b", testPassword, testPassword), "a username is 3 to 32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			anon := h.browser(t)
			p := anon.post("/register", tc.form)
			require.Equal(t, http.StatusUnprocessableEntity, p.status)
			require.Contains(t, strings.ToLower(formError(t, p)), strings.ToLower(tc.want))
			require.Contains(t, p.body, `value="`+tc.form.Get("email")+`"`, "the form keeps what was typed")
			require.NotRegexp(t, `type="password"[^>]*value=`, p.body, "but never a password")
			require.Empty(t, anon.session(), "a refused registration signs in nobody")
		})
	}
}

func TestWrongEmailAndWrongPasswordGetTheSameAnswer(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	wrongPassword := h.browser(t).login(u.Email, "not-"+testPassword)
	unknownEmail := h.browser(t).login("nobody@example.com", testPassword)
	for _, p := range []*page{wrongPassword, unknownEmail} {
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Equal(t, "Wrong email or password.", formError(t, p))
		require.Empty(t, p.header.Values("Set-Cookie"))
	}

	b := h.browser(t)
	p := b.post("/login", url.Values{"email": {strings.ToUpper(u.Email)}, "password": {testPassword}, "next": {"/account"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/account", p.location, "back to the page that asked for sign-in")
	require.Equal(t, http.StatusOK, b.get("/account").status)

	// next never leads off the site.
	for _, next := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`, "/\t/evil.example"} {
		p := h.browser(t).post("/login", url.Values{"email": {u.Email}, "password": {testPassword}, "next": {next}})
		require.Equal(t, "/", p.location, next)
	}
}

func TestSessionCookieIsRenewedAtSignInAndSignOut(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	b := h.browser(t)
	in := b.login(u.Email, testPassword)
	require.Equal(t, http.StatusSeeOther, in.status)
	first := b.session()
	require.NotEmpty(t, first)
	cookie := setCookie(in)
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.False(t, cookie.Secure, "plain HTTP in development")

	out := b.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, out.status)
	require.Equal(t, "/login", out.location)
	anonymous := b.session()
	require.NotEmpty(t, anonymous)
	require.NotEqual(t, first, anonymous, "sign-out renews the token")
	require.Contains(t, b.get("/login").body, "You have signed out.")
	require.Equal(t, http.StatusSeeOther, b.get("/account").status, "signed out")
	require.Equal(t, http.StatusSeeOther, h.withCookie(t, first).get("/account").status, "the old token signs in nobody")

	// Someone who planted this anonymous token in the browser gains
	// nothing when the owner signs in: the token changes.
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	require.NotEqual(t, anonymous, b.session(), "sign-in renews the token")
	require.Equal(t, http.StatusOK, b.get("/account").status)
	planted := h.withCookie(t, anonymous).get("/account")
	require.Equal(t, http.StatusSeeOther, planted.status)
	require.Equal(t, "/login?next=%2Faccount", planted.location)
}

// setCookie is the session cookie a response sets, or nil.
func setCookie(p *page) *http.Cookie {
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == web.SessionCookie {
			return c
		}
	}
	return nil
}

func TestAnonymousVisitorsAreSentToSignIn(t *testing.T) {
	h := newHarness(t, 100)
	anon := h.browser(t)
	for path, next := range map[string]string{
		"/":        "%2F",
		"/account": "%2Faccount",
		"/admin":   "%2Fadmin",
		"/jobs/6f1c1c56-3a55-4a56-9d7c-2d0e4a1f0c11": "%2Fjobs%2F6f1c1c56-3a55-4a56-9d7c-2d0e4a1f0c11",
	} {
		p := anon.get(path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.Equal(t, "/login?next="+next, p.location, path)
	}
	for _, path := range []string{"/login", "/register"} {
		require.Equal(t, http.StatusOK, anon.get(path).status, path)
	}
	p := anon.post("/account/tokens", url.Values{"name": {"x"}})
	require.Equal(t, http.StatusSeeOther, p.status)
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	for _, from := range []struct{ origin, site string }{
		{"https://evil.example", "cross-site"},
		{"https://evil.example", ""},                                         // an older browser: Origin only
		{"https://sub." + strings.TrimPrefix(h.url, "http://"), "same-site"}, // a sibling subdomain
	} {
		for _, path := range []string{"/account/tokens", "/account/password", "/logout", "/login", "/register"} {
			p := b.postFrom(from.origin, from.site, path, url.Values{"name": {"stolen"}})
			require.Equal(t, http.StatusForbidden, p.status, "%s from %s", path, from.origin)
			require.Contains(t, p.body, "sent from another site")
		}
	}
	require.Equal(t, http.StatusOK, b.get("/account").status, "still signed in: the logout was refused")
	require.Contains(t, b.get("/account").body, "No tokens yet.")

	// The API too, when a session cookie authenticates it: refused from
	// another site, accepted from this one.
	cookie := web.SessionCookie + "=" + b.session()
	api := h.api.As("")
	body := `{"texts":["a quiet day"]}`
	refused := api.Do(http.MethodPost, "/api/v1/sentiment", body, "Cookie", cookie, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, refused.Status)
	require.Equal(t, "cross_origin", refused.Map(t)["error"].(map[string]any)["code"])
	accepted := api.Do(http.MethodPost, "/api/v1/sentiment", body, "Cookie", cookie, "Origin", h.url, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusAccepted, accepted.Status, "%s", accepted.Body)
	list := api.Do(http.MethodGet, "/api/v1/jobs", nil, "Cookie", cookie)
	require.Len(t, list.Map(t)["jobs"], 1, "only the same-origin submission made a job")
}

func TestThePagesUseTheSessionForTheAPIAndItsEvents(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	cookie := web.SessionCookie + "=" + b.session()
	api := h.api.As("")
	job := api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["record profits"]}`, "Cookie", cookie, "Origin", h.url)
	require.Equal(t, http.StatusAccepted, job.Status, "%s", job.Body)
	id := job.Map(t)["id"].(string)
	require.Equal(t, http.StatusOK, api.Do(http.MethodPost, "/api/v1/jobs/"+id+"/cancel", nil, "Cookie", cookie, "Origin", h.url).Status)

	// What a plain EventSource sends: the cookie and no header of its own.
	// The job is final, so the stream ends after its one event. (apitest
	// cannot check an event stream against openapi.yaml.)
	events := b.get("/api/v1/jobs/" + id + "/events")
	require.Equal(t, http.StatusOK, events.status, events.body)
	require.Equal(t, "text/event-stream", events.header.Get("Content-Type"))
	require.Contains(t, events.body, "event: job\ndata: {")
	require.Contains(t, events.body, `"status":"canceled"`)

	// Signed out, the same cookie opens nothing.
	require.Equal(t, http.StatusSeeOther, b.post("/logout", nil).status)
	require.Equal(t, http.StatusUnauthorized, api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil, "Cookie", cookie).Status)
}

func TestSignInIsRateLimitedPerAccountAndPerIP(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{tune: func(a *kernel.Accounts) {
		a.LoginPerHourPerAccount = 3
		a.LoginPerMinutePerIP = 5
	}})
	u := h.account(t, store.RoleUser)

	// Per account: three attempts from three addresses, then a 429, the
	// same for an email with an account and one without.
	answers := map[string]*page{}
	for _, email := range []string{u.Email, "nobody@example.com"} {
		for i := range 3 {
			b := h.browser(t)
			b.ip = fmt.Sprintf("198.51.100.%d", i+1)
			require.Equal(t, http.StatusUnprocessableEntity, b.login(email, "wrong-password-guess").status)
		}
		b := h.browser(t)
		b.ip = "198.51.100.99"
		p := b.login(email, testPassword)
		require.Equal(t, http.StatusTooManyRequests, p.status, email)
		secs, err := strconv.Atoi(p.header.Get("Retry-After"))
		require.NoError(t, err)
		require.Positive(t, secs)
		answers[email] = p
	}
	// The wait may differ by the second the two took apart; nothing else.
	digits := regexp.MustCompile(`[0-9]+`)
	require.Equal(t, digits.ReplaceAllString(formError(t, answers[u.Email]), "N"), digits.ReplaceAllString(formError(t, answers["nobody@example.com"]), "N"),
		"a limited account and a missing one read the same")
	require.Contains(t, formError(t, answers[u.Email]), "Too many sign-in attempts")
	require.Empty(t, answers[u.Email].header.Values("Set-Cookie"), "even the right password waits")

	// Per IP: five attempts at five accounts, then a 429 for a sixth.
	b := h.browser(t)
	b.ip = "203.0.113.7"
	for i := range 5 {
		require.Equal(t, http.StatusUnprocessableEntity, b.login(fmt.Sprintf("guess%d@example.com", i), "wrong-password-guess").status)
	}
	p := b.login("guess5@example.com", "wrong-password-guess")
	require.Equal(t, http.StatusTooManyRequests, p.status)
	// "5 a minute" is at most 5 in any minute: the next attempt waits for
	// the first to be a minute old, not the 12 s a token bucket refilling
	// 5 a minute would ask (which let 39 of "20 a minute" through).
	secs, err := strconv.Atoi(p.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, secs, 30, "the window, not one refill, must pass")

	// Another address is not held back by that one.
	other := h.browser(t)
	other.ip = "203.0.113.8"
	require.Equal(t, http.StatusUnprocessableEntity, other.login("guess6@example.com", "wrong-password-guess").status)
}

func TestChangingThePasswordEndsOtherSessions(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	here, there := h.browser(t), h.browser(t)
	for _, b := range []*browser{here, there} {
		require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	}
	thereCookie := web.SessionCookie + "=" + there.session()
	const newPassword = "saffron-lighthouse-quartet"
	change := func(current, password, confirm string) *page {
		return here.post("/account/password", url.Values{"current": {current}, "password": {password}, "confirm": {confirm}})
	}
	for _, tc := range []struct{ current, password, confirm, want string }{
		{"not-" + testPassword, newPassword, newPassword, "Your current password is not right."},
		{testPassword, newPassword, newPassword + "x", "The two new passwords differ."},
		{testPassword, "iloveyou123", "iloveyou123", "one of the most common"},
	} {
		p := change(tc.current, tc.password, tc.confirm)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, formError(t, p), tc.want)
	}
	require.Equal(t, http.StatusOK, there.get("/account").status, "a refused change ends nothing")

	before := here.session()
	p := change(testPassword, newPassword, newPassword)
	require.Equal(t, http.StatusSeeOther, p.status)
	require.NotEqual(t, before, here.session(), "this session goes on under a new token")
	mine := here.get("/account")
	require.Equal(t, http.StatusOK, mine.status)
	require.Contains(t, mine.body, "Every other session has been signed out.")

	require.Equal(t, http.StatusSeeOther, there.get("/account").status, "the other browser is signed out")
	require.Equal(t, http.StatusUnauthorized, h.api.As("").Do(http.MethodGet, "/api/v1/jobs", nil, "Cookie", thereCookie).Status)

	require.Equal(t, http.StatusUnprocessableEntity, h.browser(t).login(u.Email, testPassword).status, "the old password is gone")
	require.Equal(t, http.StatusSeeOther, h.browser(t).login(u.Email, newPassword).status)
}

var tokenRE = regexp.MustCompile(`<code class="secret" id="new-token-value">(aug_[A-Za-z0-9_-]+)</code>`)

func TestAPITokensAreCreatedShownOnceAndRevoked(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	p := b.post("/account/tokens", url.Values{"name": {"laptop <script>"}})
	require.Equal(t, http.StatusCreated, p.status, p.body)
	m := tokenRE.FindStringSubmatch(p.body)
	require.NotNil(t, m, p.body)
	token := m[1]

	api := h.api.As(token)
	require.Equal(t, http.StatusOK, api.Do(http.MethodGet, "/api/v1/jobs", nil).Status)

	account := b.get("/account")
	require.Contains(t, account.body, "laptop &lt;script&gt;")
	require.NotContains(t, account.body, ">never<", "the call above used it")
	require.NotContains(t, account.body, token, "shown once, never again")

	require.Equal(t, http.StatusUnprocessableEntity, b.post("/account/tokens", url.Values{"name": {"  "}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/account/tokens", url.Values{"name": {"ci\u202Egnp.exe"}}).status,
		"a right-to-left override would make the name read otherwise on the page")

	u, err := h.db.UserByTokenDigest(context.Background(), auth.TokenDigest(token))
	require.NoError(t, err)
	tokens, err := h.db.APITokens(context.Background(), u.ID)
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	revoke := fmt.Sprintf("/account/tokens/%d/revoke", tokens[0].ID)

	other := h.signedIn(t, store.RoleUser)
	require.Equal(t, http.StatusNotFound, other.post(revoke, nil).status, "another user's token is not theirs to revoke")
	require.Equal(t, http.StatusOK, api.Do(http.MethodGet, "/api/v1/jobs", nil).Status)

	done := b.post(revoke, nil)
	require.Equal(t, http.StatusSeeOther, done.status)
	require.Contains(t, b.get("/account").body, "The token is revoked")
	require.Equal(t, http.StatusUnauthorized, api.Do(http.MethodGet, "/api/v1/jobs", nil).Status)
	require.Equal(t, http.StatusNotFound, b.post(revoke, nil).status)
	require.Equal(t, http.StatusNotFound, b.post("/account/tokens/abc/revoke", nil).status)
}

func TestOnlyAdminsReachTheAdminPage(t *testing.T) {
	h := newHarness(t, 100)
	user := h.signedIn(t, store.RoleUser)
	p := user.get("/admin")
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.body, "This page is for administrators.")
	require.NotContains(t, user.get("/").body, `href="/admin"`)

	admin := h.signedIn(t, store.RoleAdmin)
	p = admin.get("/admin")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "<h1>Administration</h1>")
	require.Contains(t, admin.get("/").body, `href="/admin"`)
}

func TestAUsernameIsNeverMarkup(t *testing.T) {
	h := newHarness(t, 100)
	attack := `<script>alert(1)</script>`
	p := h.browser(t).post("/register", url.Values{"email": {"x@example.com"}, "username": {attack}, "password": {testPassword}, "confirm": {testPassword}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.NotContains(t, p.body, attack)

	// An account made before the username rule, or by hand, shows escaped.
	name := `<img src=x onerror=alert(1)>`
	u, err := h.db.CreateUser(context.Background(), "legacy@example.com", name, testPasswordHash(), store.RoleUser)
	require.NoError(t, err)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	for _, path := range []string{"/", "/account"} {
		page := b.get(path)
		require.Equal(t, http.StatusOK, page.status)
		require.Contains(t, page.body, "&lt;img src=x onerror=alert(1)&gt;", path)
		require.NotContains(t, page.body, name, path)
	}
}

// TestATimeZoneSetting: a user sets the clock the pages show times on;
// every page then names it for the script that converts the times, a bad
// zone is refused with what to type, and empty goes back to the browser's.
func TestATimeZoneSetting(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	require.Contains(t, b.get("/").body, `data-time-zone=""`, "the browser's own clock by default")

	saved := b.post("/account/time-zone", url.Values{"time_zone": {"America/New_York"}})
	require.Equal(t, http.StatusSeeOther, saved.status, saved.body)
	require.Contains(t, b.get("/account").body, "Times are shown on the clock of America/New_York.")
	require.Contains(t, b.get("/dashboard").body, `data-time-zone="America/New_York"`)

	for _, bad := range []string{"Mars/Olympus", "Local", "<script>"} {
		refused := b.post("/account/time-zone", url.Values{"time_zone": {bad}})
		require.Equal(t, http.StatusUnprocessableEntity, refused.status, bad)
		require.Contains(t, refused.body, "That is not a time zone")
	}
	require.Contains(t, b.get("/").body, `data-time-zone="America/New_York"`, "a refused zone changes nothing")

	require.Equal(t, http.StatusSeeOther, b.post("/account/time-zone", url.Values{"time_zone": {""}}).status)
	require.Contains(t, b.get("/").body, `data-time-zone=""`)
}
