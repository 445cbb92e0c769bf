package ui

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// accountView is /account's two-factor and session state.
type accountView struct {
	Factors store.SecondFactors
	// Setup is the authenticator being set up, until its first code.
	Setup *totpSetupView
	// MustSetUp is true for an admin who must set up a second factor
	// before anything else (REQUIRE_2FA_FOR_ADMINS).
	MustSetUp bool
	Sessions  []sessionView
	// PasskeysOn is whether this server offers passkeys; Passkeys are
	// the user's.
	PasskeysOn bool
	Passkeys   []store.Passkey
}

type totpSetupView struct {
	Secret string
	// QR is a data: URI, which html/template would refuse in src unless
	// marked as a safe URL; it is built here from a PNG, never from input.
	QR template.URL
}

// sessionView is one of the user's sessions as /account lists it.
type sessionView struct {
	Device, IP string
	LastSeen   time.Time
	Current    bool
}

// accountState loads /account's two-factor and session state.
func (s *Server) accountState(c *gin.Context, user *store.User) (*accountView, error) {
	ctx := c.Request.Context()
	var v accountView
	var err error
	if v.Factors, err = s.DB.UserSecondFactors(ctx, user.ID); err != nil {
		return nil, err
	}
	if v.MustSetUp, err = s.MustSetUpSecondFactor(c, user); err != nil {
		return nil, err
	}
	rec, err := s.DB.UserTOTP(ctx, user.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case rec.ConfirmedAt == nil:
		secret, err := s.Secrets.Open(user.ID, rec.SecretSealed)
		if err != nil {
			return nil, err
		}
		setup, err := auth.NewTOTPSetup(string(secret), user.Email)
		if err != nil {
			return nil, err
		}
		// The QR code is a PNG this server drew; see totpSetupView.
		v.Setup = &totpSetupView{Secret: setup.Secret, QR: template.URL(setup.QR)}
	}
	v.PasskeysOn = s.WebAuthn != nil
	if v.Passkeys, err = s.DB.UserPasskeys(ctx, user.ID); err != nil {
		return nil, err
	}
	sessions, err := s.DB.UserSessions(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	current := s.CurrentSessionToken(c)
	for _, ss := range sessions {
		v.Sessions = append(v.Sessions, sessionView{Device: deviceName(ss.UserAgent), IP: ss.IP, LastSeen: ss.LastSeen, Current: ss.Token == current})
	}
	return &v, nil
}

// deviceName names the browser and system of a User-Agent, roughly: enough
// for a user to tell their sessions apart, never a fingerprint.
func deviceName(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = " on " + o.name
			break
		}
	}
	return browser + system
}

// loginTwoFactorPage asks for the second step of a sign-in that passed
// its password.
func (s *Server) loginTwoFactorPage(c *gin.Context) {
	next := localPath(c.Query("next"))
	if kernel.PageUser(c) != nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	if _, ok := s.pendingSignIn(c); !ok {
		return
	}
	s.Render(c, http.StatusOK, kernel.PageData{Title: "Two-factor sign-in", Page: "login_two_factor", Next: next})
}

// pendingSignIn returns the user whose sign-in awaits its second step, or
// answers and reports false: a browser with none (never had one, or it
// expired) goes back to the password.
func (s *Server) pendingSignIn(c *gin.Context) (*store.User, bool) {
	pending, err := s.PendingUser(c)
	if err != nil {
		s.FailPage(c, err)
		return nil, false
	}
	if pending == nil {
		s.Flash(c, "Sign in with your password first; a sign-in waits only a few minutes for its second step.")
		c.Redirect(http.StatusSeeOther, "/login")
		return nil, false
	}
	return pending, true
}

// loginTwoFactor completes a pending sign-in with a TOTP code or a
// recovery code. Attempts count against the same limits as passwords, per
// client IP and per account, so the six digits cannot be guessed faster
// than a password.
func (s *Server) loginTwoFactor(c *gin.Context) {
	data := kernel.PageData{Title: "Two-factor sign-in", Page: "login_two_factor", Next: localPath(c.PostForm("next"))}
	pending, ok := s.pendingSignIn(c)
	if !ok {
		return
	}
	if s.refuseLimited(c, pending.Email, s.limitLogin, func(status int, msg string) {
		data.Error = msg
		s.Render(c, status, data)
	}) {
		return
	}
	ok, err := s.checkSecondFactor(c, pending, c.PostForm("code"))
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if !ok {
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignInFailed, Outcome: audit.Failure,
			Actor: &audit.Actor{Name: pending.Email}, Details: map[string]string{"step": "second factor"}})
		data.Error = "That code is not right, or was used already. Codes change every 30 seconds; each works once."
		s.Render(c, http.StatusUnprocessableEntity, data)
		return
	}
	if err := s.SignIn(c, pending); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignIn, Target: audit.UserTarget(pending.ID),
		Details: map[string]string{"second_factor": "code"}})
	c.Redirect(http.StatusSeeOther, data.Next)
}

// checkSecondFactor reports whether code is a valid, unused TOTP code or
// recovery code of user, and spends it: the time step is recorded, or the
// recovery code marked used, so it never works again.
func (s *Server) checkSecondFactor(c *gin.Context, user *store.User, code string) (bool, error) {
	ctx := c.Request.Context()
	code = strings.TrimSpace(code)
	if len(code) > 32 {
		return false, nil
	}
	if !isTOTPCode(code) {
		err := s.DB.UseRecoveryCode(ctx, user.ID, auth.RecoveryCodeDigest(code))
		if errors.Is(err, store.ErrReplay) {
			return false, nil
		}
		if err == nil {
			s.Audit.Record(ctx, audit.Event{Action: audit.RecoveryCodeUsed, Target: audit.UserTarget(user.ID),
				Actor: &audit.Actor{UserID: user.ID, Name: user.Email}})
		}
		return err == nil, err
	}
	rec, err := s.DB.UserTOTP(ctx, user.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.ConfirmedAt == nil {
		return false, nil
	}
	secret, err := s.Secrets.Open(user.ID, rec.SecretSealed)
	if err != nil {
		// SECRET_KEY changed since, or the row was tampered with: no code
		// can match, and a recovery code or an admin's reset still helps.
		s.Logger.ErrorContext(ctx, "totp secret unreadable", "user", user.ID, "err", err)
		return false, nil
	}
	step, ok := auth.MatchTOTP(string(secret), code, time.Now())
	if !ok {
		return false, nil
	}
	err = s.DB.AcceptTOTPStep(ctx, user.ID, step)
	if errors.Is(err, store.ErrReplay) {
		return false, nil
	}
	return err == nil, err
}

// isTOTPCode tells a six-digit authenticator code from a recovery code,
// which always has letters.
func isTOTPCode(code string) bool {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// beginTOTP makes a new authenticator secret for the user, kept sealed and
// unconfirmed: /account shows its QR code until a first code confirms it.
func (s *Server) beginTOTP(c *gin.Context) {
	user := kernel.PageUser(c)
	secret, err := auth.NewTOTPSecret(user.Email)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	sealed, err := s.Secrets.Seal(user.ID, []byte(secret))
	if err != nil {
		s.FailPage(c, err)
		return
	}
	err = s.DB.BeginTOTP(c.Request.Context(), user.ID, sealed)
	switch {
	case errors.Is(err, store.ErrConflict):
		s.renderAccount(c, http.StatusConflict, kernel.PageData{Error: "Two-factor sign-in is already on. Turn it off first to move it to another device."})
	case err != nil:
		s.FailPage(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/account#two-factor")
	}
}

// confirmTOTP turns the authenticator on once it gives a valid code, and
// shows the new recovery codes this once (rendered, not redirected with,
// so they are stored nowhere but as digests).
func (s *Server) confirmTOTP(c *gin.Context) {
	user := kernel.PageUser(c)
	ctx := c.Request.Context()
	rec, err := s.DB.UserTOTP(ctx, user.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.ConfirmedAt != nil) {
		s.renderAccount(c, http.StatusConflict, kernel.PageData{Error: "There is no authenticator being set up. Start again with “Set up two-factor sign-in”."})
		return
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	secret, err := s.Secrets.Open(user.ID, rec.SecretSealed)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	step, ok := auth.MatchTOTP(string(secret), c.PostForm("code"), time.Now())
	if !ok {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "That code is not right. Type the six digits your app shows now; check that the phone's clock is set automatically."})
		return
	}
	codes, digests, err := auth.NewRecoveryCodes()
	if err != nil {
		s.FailPage(c, err)
		return
	}
	err = s.DB.ConfirmTOTP(ctx, user.ID, step, digests)
	if errors.Is(err, store.ErrNotFound) {
		// Another request confirmed or dropped it meanwhile.
		c.Redirect(http.StatusSeeOther, "/account#two-factor")
		return
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(ctx, audit.Event{Action: audit.TwoFactorEnabled, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"factor": "totp"}})
	s.renderAccount(c, http.StatusOK, kernel.PageData{RecoveryCodes: codes})
}

// disableTOTP turns two-factor sign-in off, given the password or a
// current code: a session left open on a shared computer is not enough.
// Attempts count against the sign-in limits.
func (s *Server) disableTOTP(c *gin.Context) {
	user := kernel.PageUser(c)
	if s.refuseLimited(c, user.Email, s.limitLogin, func(status int, msg string) {
		s.renderAccount(c, status, kernel.PageData{Error: msg})
	}) {
		return
	}
	ok := false
	if password := c.PostForm("password"); password != "" {
		var answered bool
		if ok, answered = s.passwordMatches(c, user, password); answered {
			return
		}
	} else {
		var err error
		if ok, err = s.checkSecondFactor(c, user, c.PostForm("code")); err != nil {
			s.FailPage(c, err)
			return
		}
	}
	if !ok {
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.TwoFactorDisabled, Target: audit.UserTarget(user.ID),
			Outcome: audit.Refused, Details: map[string]string{"reason": "no password or current code"}})
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "Give your password or a current code to turn two-factor sign-in off."})
		return
	}
	if err := s.DB.RemoveSecondFactors(c.Request.Context(), user.ID, false, false); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.TwoFactorDisabled, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"factor": "totp"}})
	s.Flash(c, "The authenticator app is off, and the recovery codes no longer work. Your passkeys, if any, still work.")
	c.Redirect(http.StatusSeeOther, "/account")
}

// signOutOthers ends every session of the user but this one: the session
// epoch rises, which ends them all, and this one signs in again at the new
// epoch under a new token.
func (s *Server) signOutOthers(c *gin.Context) {
	user := kernel.PageUser(c)
	epoch, err := s.DB.EndOtherSessions(c.Request.Context(), user.ID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	user.SessionEpoch = epoch
	if err := s.SignIn(c, user); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SessionsRevoked, Target: audit.UserTarget(user.ID)})
	s.Flash(c, "Every other session is signed out.")
	c.Redirect(http.StatusSeeOther, "/account#sessions")
}
