package app

import (
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// TestBrowserTwoFactorSignIn sets up two-factor sign-in on /account in
// headless Chromium, scanning nothing: it reads the key shown beside the
// QR code and plays the authenticator app with pquerna/otp. Then it signs
// out and in with the password and a code, at a desktop width and at a
// phone's. Screenshots as for TestBrowserWalkthrough.
func TestBrowserTwoFactorSignIn(t *testing.T) {
	chromium := findChromium(t)
	s := newStack(t)
	for _, vp := range browserViewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newBrowser(t, chromium, vp)
			b.twoFactor(s.url)
		})
	}
}

func (b *browser) twoFactor(base string) {
	t := b.t
	user := "second" + b.vp.name
	email := user + "@example.com"
	b.register(base, user, email)

	b.open(base, "/account", "account")
	b.do("set up two-factor sign-in",
		follow(`form[action="/account/two-factor/totp"] button`),
		waitPage("account"),
	)
	require.True(t, eval[bool](b, "see the QR code", `(() => { const i = document.querySelector("img.qr"); return i.complete && i.naturalWidth > 0; })()`))
	secret := b.text("#totp-secret")
	b.fitsTheWidth("the two-factor set-up")
	b.screenshot("totp-setup")
	code, err := totp.GenerateCode(secret, time.Now())
	require.NoError(t, err)
	b.do("confirm the first code",
		fill(`form[action="/account/two-factor/totp/confirm"] input[name="code"]`, code),
		follow(`form[action="/account/two-factor/totp/confirm"] button`),
		waitPage("account"),
	)
	codes := eval[[]string](b, "read the recovery codes", `[...document.querySelectorAll("#recovery-codes li")].map((e) => e.innerText.trim())`)
	require.Len(t, codes, 10)
	require.Contains(t, b.text("#two-factor"), "10 recovery codes left")
	b.fitsTheWidth("the recovery codes")
	b.screenshot("recovery-codes")

	b.openMenu()
	b.do("sign out", follow(`form[action="/logout"] button`), waitPage("login"))
	b.do("sign in with the password",
		fill(`input[name="email"]`, email),
		fill(`input[name="password"]`, browserPassword),
		follow(`form[action="/login"] button[type="submit"]`),
		waitPage("login_two_factor"),
	)
	b.fitsTheWidth("the second step")
	b.screenshot("second-step")
	// The step after the one that turned it on: that one is spent.
	next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	require.NoError(t, err)
	b.do("give the code",
		fill(`input[name="code"]`, next),
		follow(`form[action="/login/two-factor"] button[type="submit"]`),
		waitPage("index"),
	)
	require.Equal(t, user, b.text(`nav a[href="/account"]`))
	b.open(base, "/account", "account")
	require.Contains(t, b.text("#sessions"), "this browser")
	b.fitsTheWidth("the account page")
	b.screenshot("account")
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.problems)
}

// TestBrowserPasskeySignIn adds a passkey on /account through Chromium's
// virtual authenticator (the DevTools WebAuthn domain: a CTAP2 platform
// authenticator that keeps discoverable credentials and verifies the
// user), then signs in with it alone from /login, and as the second step
// after the password, at a desktop width and at a phone's.
func TestBrowserPasskeySignIn(t *testing.T) {
	chromium := findChromium(t)
	s := newStack(t)
	// Passkeys need a domain, so this server is reached as localhost, and
	// its origin is known before the handler is built.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := *s.cfg
	cfg.HTTPAddr = ln.Addr().String()
	handler, err := newWebHandler(&cfg, s.db, s.db.SessionStore(0), s.rdb, s.logger, newRegistry())
	require.NoError(t, err)
	t.Cleanup(handler.Close)
	srv := httptest.NewUnstartedServer(handler)
	require.NoError(t, srv.Listener.Close())
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	base := "http://localhost:" + port
	require.Equal(t, []string{base}, cfg.WebAuthnOrigins())

	for _, vp := range browserViewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newBrowser(t, chromium, vp)
			b.passkey(base)
		})
	}
}

func (b *browser) passkey(base string) {
	t := b.t
	_, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	require.NoError(t, err)

	user := "passkey" + b.vp.name
	email := user + "@example.com"
	b.register(base, user, email)
	b.open(base, "/account", "account")
	b.do("add a passkey",
		fill(`#passkey-register input[name="name"]`, "virtual "+b.vp.name),
		follow(`#passkey-register button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(".passkey-name")),
	)
	require.Equal(t, "virtual "+b.vp.name, b.text(".passkey-name"))
	b.fitsTheWidth("the passkeys")
	b.screenshot("passkey-added")

	// The passkey alone signs in.
	b.openMenu()
	b.do("sign out", follow(`form[action="/logout"] button`), waitPage("login"))
	b.do("sign in with the passkey",
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		follow("#passkey-signin"),
		waitPage("index"),
	)
	require.Equal(t, user, b.text(`nav a[href="/account"]`))
	b.screenshot("signed-in-by-passkey")

	// After the password, the passkey is the second step.
	b.openMenu()
	b.do("sign out again", follow(`form[action="/logout"] button`), waitPage("login"))
	b.do("sign in with the password",
		fill(`input[name="email"]`, email),
		fill(`input[name="password"]`, browserPassword),
		follow(`form[action="/login"] button[type="submit"]`),
		waitPage("login_two_factor"),
	)
	b.screenshot("second-step-passkey")
	b.do("use the passkey as the second step",
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		follow("#passkey-signin"),
		waitPage("index"),
	)
	require.Equal(t, user, b.text(`nav a[href="/account"]`))
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.problems)
}
