package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/kernel"
)

var (
	totpSecretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryCodeRE = regexp.MustCompile(`<li><code class="secret">([a-z0-9]{5}-[a-z0-9]{5})</code></li>`)
)

// totpCode is the authenticator's code for secret, offset steps from now.
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	code, err := auth.TOTPCode(secret, time.Now().Add(time.Duration(steps)*auth.TOTPPeriod))
	require.NoError(t, err)
	return code
}

// turnOnTOTP sets up two-factor sign-in for b's user through /account and
// returns the secret, the code that confirmed it and the recovery codes.
func turnOnTOTP(t *testing.T, b *browser) (secret, confirmed string, codes []string) {
	t.Helper()
	begun := b.post("/account/two-factor/totp", nil)
	require.Equal(t, http.StatusSeeOther, begun.status, begun.body)
	account := b.get("/account")
	require.Equal(t, http.StatusOK, account.status)
	require.Contains(t, account.body, `src="data:image/png;base64,`, "the QR code is drawn inline, by no outside service")
	m := totpSecretRE.FindStringSubmatch(account.body)
	require.NotNil(t, m, account.body)
	secret = m[1]

	wrong := b.post("/account/two-factor/totp/confirm", url.Values{"code": {"000000"}})
	if wrong.status != http.StatusOK { // 000000 is, once in a million, right
		require.Equal(t, http.StatusUnprocessableEntity, wrong.status)
		require.NotContains(t, b.get("/account").body, "recovery codes left", "a wrong first code leaves it off")
	}
	confirmed = totpCode(t, secret, 0)
	on := b.post("/account/two-factor/totp/confirm", url.Values{"code": {confirmed}})
	require.Equal(t, http.StatusOK, on.status, on.body)
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(on.body, -1) {
		codes = append(codes, m[1])
	}
	require.Len(t, codes, auth.RecoveryCodeCount)
	require.NotContains(t, b.get("/account").body, codes[0], "recovery codes are shown once")
	return secret, confirmed, codes
}

// passwordStep signs in with the password and expects the second step.
func passwordStep(t *testing.T, b *browser, email string) {
	t.Helper()
	p := b.login(email, testPassword)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/login/two-factor?next=%2F", p.location)
	home := b.get("/")
	require.Equal(t, http.StatusSeeOther, home.status, "a pending sign-in signs in nobody")
	require.True(t, strings.HasPrefix(home.location, "/login?next="), home.location)
	require.Equal(t, http.StatusOK, b.get("/login/two-factor").status)
}

func TestTOTPSignInRefusesAReplayedCode(t *testing.T) {
	h := newHarness(t, 100)
	u, _, b := h.member(t, store.RoleUser)
	secret, confirmed, _ := turnOnTOTP(t, b)
	require.Equal(t, http.StatusSeeOther, b.post("/logout", nil).status)

	b2 := h.browser(t)
	passwordStep(t, b2, u.Email)
	replay := b2.post("/login/two-factor", url.Values{"code": {confirmed}})
	require.Equal(t, http.StatusUnprocessableEntity, replay.status, "the code that turned it on is spent")
	require.Contains(t, formError(t, replay), "not right, or was used already")

	next := totpCode(t, secret, 1)
	ok := b2.post("/login/two-factor", url.Values{"code": {next}, "next": {"/account"}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	require.Equal(t, "/account", ok.location)
	require.Equal(t, http.StatusOK, b2.get("/").status)

	b3 := h.browser(t)
	passwordStep(t, b3, u.Email)
	again := b3.post("/login/two-factor", url.Values{"code": {next}})
	require.Equal(t, http.StatusUnprocessableEntity, again.status, "a code works once, even in another browser")
}

func TestARecoveryCodeWorksOnce(t *testing.T) {
	h := newHarness(t, 100)
	u, _, b := h.member(t, store.RoleUser)
	_, _, codes := turnOnTOTP(t, b)

	first := h.browser(t)
	passwordStep(t, first, u.Email)
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	ok := first.post("/login/two-factor", url.Values{"code": {typed}})
	require.Equal(t, http.StatusSeeOther, ok.status, "case and separators do not matter: %s", ok.body)
	require.Contains(t, first.get("/account").body, fmt.Sprintf("%d recovery codes left", auth.RecoveryCodeCount-1))

	second := h.browser(t)
	passwordStep(t, second, u.Email)
	spent := second.post("/login/two-factor", url.Values{"code": {codes[3]}})
	require.Equal(t, http.StatusUnprocessableEntity, spent.status)
	require.Equal(t, http.StatusSeeOther, second.post("/login/two-factor", url.Values{"code": {codes[4]}}).status)
}

func TestTheSecondStepCountsAgainstTheSignInLimit(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{tune: func(a *kernel.Accounts) { a.LoginPerHourPerAccount = 3 }})
	u := h.account(t, store.RoleUser)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status) // attempt 1
	secret, _, _ := turnOnTOTP(t, b)

	guesser := h.browser(t)
	passwordStep(t, guesser, u.Email)                                               // attempt 2
	wrong := guesser.post("/login/two-factor", url.Values{"code": {"aaaaa-aaaaa"}}) // attempt 3
	require.Equal(t, http.StatusUnprocessableEntity, wrong.status)
	limited := guesser.post("/login/two-factor", url.Values{"code": {totpCode(t, secret, 1)}})
	require.Equal(t, http.StatusTooManyRequests, limited.status, "even a right code waits once the limit is spent")
	require.NotEmpty(t, limited.header.Get("Retry-After"))
	require.Contains(t, formError(t, limited), "Too many sign-in attempts")
}

func TestAPendingSignInExpires(t *testing.T) {
	h := newHarness(t, 100)
	anon := h.browser(t)
	p := anon.get("/login/two-factor")
	require.Equal(t, http.StatusSeeOther, p.status, "no password step, no second step")
	require.Equal(t, "/login", p.location)
	require.Equal(t, http.StatusSeeOther, anon.post("/login/two-factor", url.Values{"code": {"123456"}}).status)
}

func TestTurningTOTPOffNeedsThePasswordOrACode(t *testing.T) {
	h := newHarness(t, 100)
	u, _, b := h.member(t, store.RoleUser)
	secret, _, _ := turnOnTOTP(t, b)

	refused := b.post("/account/two-factor/totp/disable", url.Values{"password": {"wrong-password"}})
	require.Equal(t, http.StatusUnprocessableEntity, refused.status)
	require.Equal(t, http.StatusUnprocessableEntity, b.post("/account/two-factor/totp/disable", nil).status)
	require.Equal(t, http.StatusConflict, b.post("/account/two-factor/totp", nil).status, "setting up again would drop it")
	off := b.post("/account/two-factor/totp/disable", url.Values{"code": {totpCode(t, secret, 1)}})
	require.Equal(t, http.StatusSeeOther, off.status, off.body)
	f, err := h.db.UserSecondFactors(context.Background(), u.ID)
	require.NoError(t, err)
	require.False(t, f.Any())
	require.Zero(t, f.RecoveryCodesLeft)

	require.Equal(t, http.StatusSeeOther, b.post("/logout", nil).status)
	again := b.login(u.Email, testPassword)
	require.Equal(t, "/", again.location, "the password alone signs in again")
}

func TestAdminsMustSetUpASecondFactorFirst(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{tune: func(a *kernel.Accounts) { a.RequireAdminSecondFactor = true }})
	admin, adminToken, b := h.member(t, store.RoleAdmin)
	for _, path := range []string{"/", "/admin", "/dashboard"} {
		p := b.get(path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.Equal(t, "/account#two-factor", p.location, path)
	}
	tokens := b.post("/account/tokens", url.Values{"name": {"bypass"}})
	require.Equal(t, "/account#two-factor", tokens.location, "no API token without the second factor")
	account := b.get("/account")
	require.Equal(t, http.StatusOK, account.status)
	require.Contains(t, account.body, "you must set up two-factor sign-in")

	// Through the contract client, so the 403 is checked against openapi.yaml.
	viaSession := h.api.As("").Do(http.MethodGet, "/api/v1/jobs", nil, "Cookie", web.SessionCookie+"="+b.session())
	require.Equal(t, http.StatusForbidden, viaSession.Status)
	require.Equal(t, "second_factor_required", viaSession.Map(t)["error"].(map[string]any)["code"])
	viaToken := h.api.As(adminToken).Do(http.MethodGet, "/api/v1/jobs", nil)
	require.Equal(t, http.StatusOK, viaToken.Status, "API tokens are unchanged")

	user := h.signedIn(t, store.RoleUser)
	require.Equal(t, http.StatusOK, user.get("/").status, "the rule is for admins")

	turnOnTOTP(t, b)
	require.Equal(t, http.StatusOK, b.get("/admin").status)
	f, err := h.db.UserSecondFactors(context.Background(), admin.ID)
	require.NoError(t, err)
	require.True(t, f.TOTP)
}

func TestAnAdminResetsASecondFactor(t *testing.T) {
	h := newHarness(t, 100)
	u, userToken, b := h.member(t, store.RoleUser)
	turnOnTOTP(t, b)
	_, adminToken, admin := h.member(t, store.RoleAdmin)

	path := fmt.Sprintf("/api/v1/admin/users/%d/two-factor", u.ID)
	require.Equal(t, http.StatusForbidden, h.api.As(userToken).Do(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNotFound, h.api.As(adminToken).Do(http.MethodDelete, "/api/v1/admin/users/999999999/two-factor", nil).Status)
	require.Equal(t, http.StatusNoContent, h.api.As(adminToken).Do(http.MethodDelete, path, nil).Status)

	require.Equal(t, http.StatusSeeOther, b.get("/").status, "the user's sessions end")
	require.Equal(t, "/", b.login(u.Email, testPassword).location, "the password alone signs in")

	// The users page does the same.
	turnOnTOTP(t, b)
	page := admin.post(fmt.Sprintf("/admin/users/%d/two-factor/reset", u.ID), nil)
	require.Equal(t, http.StatusSeeOther, page.status)
	require.Contains(t, admin.get("/admin/users").body, "two-factor sign-in is reset")
	f, err := h.db.UserSecondFactors(context.Background(), u.ID)
	require.NoError(t, err)
	require.False(t, f.Any())
}

func TestAUserSeesTheirSessionsAndSignsOutTheOthers(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	laptop, phone := h.browser(t), h.browser(t)
	phone.ip = "198.51.100.7"
	require.Equal(t, http.StatusSeeOther, laptop.login(u.Email, testPassword).status)
	require.Equal(t, http.StatusSeeOther, phone.login(u.Email, testPassword).status)
	other := h.signedIn(t, store.RoleUser)

	account := laptop.get("/account")
	require.Equal(t, 2, strings.Count(account.body, "<tr>\n        <td data-label=\"Device\">Unknown browser"), account.body)
	require.Equal(t, 1, strings.Count(account.body, "this browser"))
	require.Contains(t, account.body, "198.51.100.7")
	require.NotContains(t, other.get("/account").body, "198.51.100.7", "a user sees only their own sessions")

	done := laptop.post("/account/sessions/sign-out-others", nil)
	require.Equal(t, http.StatusSeeOther, done.status)
	require.Equal(t, http.StatusSeeOther, phone.get("/").status, "the phone is signed out")
	account = laptop.get("/account")
	require.Equal(t, http.StatusOK, account.status, "this browser goes on")
	require.NotContains(t, account.body, "198.51.100.7")
	require.Equal(t, 1, strings.Count(account.body, "this browser"))
	require.Equal(t, http.StatusOK, other.get("/").status, "another user's session is untouched")
}

func TestAPasskeyIsRemovedOnlyByItsOwner(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	owner, _, ob := h.member(t, store.RoleUser)
	_, _, other := h.member(t, store.RoleUser)
	require.NoError(t, h.db.AddPasskey(ctx, owner.ID, []byte("credential-1"), []byte(`{}`), "laptop"))
	keys, err := h.db.UserPasskeys(ctx, owner.ID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	f, err := h.db.UserSecondFactors(ctx, owner.ID)
	require.NoError(t, err)
	require.True(t, f.Any(), "a passkey is a second factor")
	path := fmt.Sprintf("/account/two-factor/passkeys/%d/delete", keys[0].ID)

	require.Equal(t, http.StatusNotFound, other.post(path, url.Values{"password": {testPassword}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, ob.post(path, url.Values{"password": {"wrong-password"}}).status)
	require.Equal(t, http.StatusSeeOther, ob.post(path, url.Values{"password": {testPassword}}).status)
	keys, err = h.db.UserPasskeys(ctx, owner.ID)
	require.NoError(t, err)
	require.Empty(t, keys)
}

func TestAPasskeySignInWithoutACeremonyIsRefused(t *testing.T) {
	h := newHarness(t, 100)
	b := h.browser(t)
	req, err := http.NewRequest(http.MethodPost, h.url+"/login/passkey/finish", strings.NewReader(`{"id":"x"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	p := b.do(req)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, `"code":"passkey_refused"`)
	require.Equal(t, http.StatusSeeOther, b.get("/").status, "nobody is signed in")
}

// TestTwoFactorEventsAreAudited walks a user through two-factor sign-in
// and its settings, and an admin through a reset, and finds each event's
// row: who, on whom, and how it ended.
func TestTwoFactorEventsAreAudited(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	u, _, b := h.member(t, store.RoleUser)
	target := audit.UserTarget(u.ID)
	find := func(action audit.Action, actor, outcome string) store.AuditEntry {
		t.Helper()
		rows := auditEntries(t, h, action, actor)
		for _, r := range rows {
			if r.Outcome == outcome {
				return r
			}
		}
		t.Fatalf("no %s %s row by %s among %d", outcome, action, actor, len(rows))
		return store.AuditEntry{}
	}

	secret, _, codes := turnOnTOTP(t, b)
	require.Equal(t, target, find(audit.TwoFactorEnabled, u.Email, audit.Success).Target)

	second := h.browser(t)
	passwordStep(t, second, u.Email)
	require.Equal(t, http.StatusUnprocessableEntity, second.post("/login/two-factor", url.Values{"code": {"not-a-code"}}).status)
	find(audit.SignInFailed, u.Email, audit.Failure)
	require.Equal(t, http.StatusSeeOther, second.post("/login/two-factor", url.Values{"code": {totpCode(t, secret, 1)}}).status)
	signIn := find(audit.SignIn, u.Email, audit.Success)
	require.Equal(t, target, signIn.Target)

	third := h.browser(t)
	passwordStep(t, third, u.Email)
	require.Equal(t, http.StatusSeeOther, third.post("/login/two-factor", url.Values{"code": {codes[0]}}).status)
	require.Equal(t, target, find(audit.RecoveryCodeUsed, u.Email, audit.Success).Target)

	require.Equal(t, http.StatusSeeOther, b.post("/account/sessions/sign-out-others", nil).status)
	require.Equal(t, target, find(audit.SessionsRevoked, u.Email, audit.Success).Target)

	require.Equal(t, http.StatusUnprocessableEntity, b.post("/account/two-factor/totp/disable", url.Values{"password": {"wrong-password"}}).status)
	find(audit.TwoFactorDisabled, u.Email, audit.Refused)
	require.Equal(t, http.StatusSeeOther, b.post("/account/two-factor/totp/disable", url.Values{"password": {testPassword}}).status)
	find(audit.TwoFactorDisabled, u.Email, audit.Success)

	require.NoError(t, h.db.AddPasskey(ctx, u.ID, []byte("credential-audit"), []byte(`{}`), "laptop"))
	keys, err := h.db.UserPasskeys(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, b.post(fmt.Sprintf("/account/two-factor/passkeys/%d/delete", keys[0].ID),
		url.Values{"password": {testPassword}}).status)
	require.Equal(t, fmt.Sprintf("passkey:%d", keys[0].ID), find(audit.PasskeyRemoved, u.Email, audit.Success).Target)

	admin, adminToken, _ := h.member(t, store.RoleAdmin)
	require.Equal(t, http.StatusNoContent, h.api.As(adminToken).Do(http.MethodDelete, fmt.Sprintf("/api/v1/admin/users/%d/two-factor", u.ID), nil).Status)
	require.Equal(t, target, find(audit.TwoFactorReset, admin.Email, audit.Success).Target)

	report, err := audit.Verify(ctx, h.db)
	require.NoError(t, err)
	require.Positive(t, report.Rows)
}
