package app

import (
	"testing"
	"time"

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
	for _, vp := range []viewport{
		{name: "desktop", width: 1280, height: 900},
		{name: "phone", width: 390, height: 844, mobile: true},
	} {
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
	b.open(base, "/register", "register")
	b.do("register",
		fill(`input[name="email"]`, email),
		fill(`input[name="username"]`, user),
		fill(`input[name="password"]`, browserPassword),
		fill(`input[name="confirm"]`, browserPassword),
		follow(`form[action="/register"] button[type="submit"]`),
		waitPage("index"),
	)

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
