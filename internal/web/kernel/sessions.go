package kernel

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
)

// Accounts configures browser sign-in.
type Accounts struct {
	// Store keeps the sessions; store.DB.SessionStore gives PostgreSQL'k.
	Store scs.Store
	// Lifetime is the longest a session lasts; IdleTimeout ends it sooner
	// after that long without a request.
	Lifetime, IdleTimeout time.Duration
	// SecureCookie marks the site HTTPS only: the session cookie is Secure
	// and pages carry HSTS (SecurityHeaders).
	SecureCookie bool
	// SecretKey keys the HMAC that names the sign-in rate-limit counters.
	SecretKey string
	// LoginPerMinutePerIP and LoginPerHourPerAccount bound sign-in attempts.
	LoginPerMinutePerIP, LoginPerHourPerAccount int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []string
	// RequireAdminSecondFactor lets an admin without a second factor sign
	// in only to set one up (REQUIRE_2FA_FOR_ADMINS).
	RequireAdminSecondFactor bool
	// WebAuthnRPID and WebAuthnOrigins configure passkeys; without an RP
	// id there are none (tests of the routes alone).
	WebAuthnRPID    string
	WebAuthnOrigins []string
	// Hashing bounds the password hashes of sign-in, registration and
	// password changes (see auth.Hashing).
	Hashing *auth.Hashing
}

// SessionCookie is the name of the browser's session cookie.
const SessionCookie = "augur_session"

// Session keys. The epoch is the user's session epoch at sign-in: the
// session counts only while it still matches (see store.User.SessionEpoch).
const (
	sessionUserID = "user_id"
	sessionEpoch  = "epoch"
	sessionFlash  = "flash"
	// The pending keys hold a sign-in that passed the password and awaits
	// its second step; they sign in nobody.
	sessionPendingUserID = "pending_user_id"
	sessionPendingEpoch  = "pending_epoch"
	sessionPendingUntil  = "pending_until"
)

// PendingSignInTTL is how long the second step of a sign-in may wait
// after the password: enough to open an authenticator app, short enough
// that a browser left at the step does not hold a half sign-in for long.
const PendingSignInTTL = 5 * time.Minute

func newSessionManager(a Accounts, logger *slog.Logger) *scs.SessionManager {
	sm := scs.New()
	sm.Store = a.Store
	sm.Lifetime = a.Lifetime
	sm.IdleTimeout = a.IdleTimeout
	sm.Cookie.Name = SessionCookie
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = a.SecureCookie
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		// The session store is PostgreSQL: an error here means it is not
		// answering, which is worth a retry, not a 500.
		logger.ErrorContext(r.Context(), "session store", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the service is unavailable for a moment; retry soon", http.StatusServiceUnavailable)
	}
	return sm
}

// WithSessions loads and saves the browser session around every request
// except static files, the icon and health checks, which need none: with an idle
// timeout, loading a session also writes it back. An API request with an
// Authorization header needs none either: it is judged by the header alone
// (Authenticate), and no API handler reads or writes the session.
func (k *Kernel) WithSessions(next http.Handler) http.Handler {
	withSession := k.Sessions.LoadAndSave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/static/"), p == "/favicon.ico", p == "/healthz", p == "/readyz", p == "/openapi.yaml",
			strings.HasPrefix(p, "/api/") && r.Header.Get("Authorization") != "":
			next.ServeHTTP(w, r)
		default:
			withSession.ServeHTTP(w, r)
		}
	})
}

// SessionUser returns the user signed in to this request's session, or nil.
// A session whose user is gone, deactivated, or has changed password since
// (a new epoch) is destroyed: it signs in nobody.
func (k *Kernel) SessionUser(c *gin.Context) (*store.User, error) {
	ctx := c.Request.Context()
	id := k.Sessions.GetInt64(ctx, sessionUserID)
	if id == 0 {
		return nil, nil
	}
	user, err := k.DB.UserByID(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil || !user.Active || user.SessionEpoch != k.Sessions.GetInt64(ctx, sessionEpoch) {
		k.forgetSession(c)
		return nil, k.Sessions.Destroy(ctx)
	}
	return user, nil
}

// BeginSecondStep starts the second step of user's sign-in: the session,
// under a new token, holds the user as pending for PendingSignInTTL, and
// signs in nobody until CompleteSignIn.
func (k *Kernel) BeginSecondStep(c *gin.Context, user *store.User) error {
	ctx := c.Request.Context()
	if err := k.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	k.Sessions.Put(ctx, sessionPendingUserID, user.ID)
	k.Sessions.Put(ctx, sessionPendingEpoch, user.SessionEpoch)
	k.Sessions.Put(ctx, sessionPendingUntil, time.Now().Add(PendingSignInTTL).Unix())
	return nil
}

// PendingUser returns the user whose sign-in awaits its second step in
// this session, or nil when there is none, it has expired, or the user has
// since been deactivated or had the sessions ended.
func (k *Kernel) PendingUser(c *gin.Context) (*store.User, error) {
	ctx := c.Request.Context()
	id := k.Sessions.GetInt64(ctx, sessionPendingUserID)
	if id == 0 {
		return nil, nil
	}
	if time.Now().Unix() > k.Sessions.GetInt64(ctx, sessionPendingUntil) {
		k.clearPending(c)
		return nil, nil
	}
	user, err := k.DB.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		k.clearPending(c)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !user.Active || user.SessionEpoch != k.Sessions.GetInt64(ctx, sessionPendingEpoch) {
		k.clearPending(c)
		return nil, nil
	}
	return user, nil
}

func (k *Kernel) clearPending(c *gin.Context) {
	ctx := c.Request.Context()
	k.Sessions.Remove(ctx, sessionPendingUserID)
	k.Sessions.Remove(ctx, sessionPendingEpoch)
	k.Sessions.Remove(ctx, sessionPendingUntil)
}

// forgetSession drops the note of this session's user (store.RecordSession).
// A failure only leaves a note that the next listing prunes.
func (k *Kernel) forgetSession(c *gin.Context) {
	if err := k.DB.ForgetSession(c.Request.Context(), k.Sessions.Token(c.Request.Context())); err != nil {
		k.Logger.WarnContext(c.Request.Context(), "forget session", "err", err)
	}
}

// CurrentSessionToken is the token of this request's session, to mark it
// in the list of the user's sessions.
func (k *Kernel) CurrentSessionToken(c *gin.Context) string {
	return k.Sessions.Token(c.Request.Context())
}

// SignIn starts a signed-in session for user under a new token, so a token
// planted before sign-in (session fixation) never becomes a signed-in one.
// It ends a pending second step, and notes the session for the user's list
// of sessions.
func (k *Kernel) SignIn(c *gin.Context, user *store.User) error {
	ctx := c.Request.Context()
	k.forgetSession(c)
	if err := k.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	k.clearPending(c)
	k.Sessions.Put(ctx, sessionUserID, user.ID)
	k.Sessions.Put(ctx, sessionEpoch, user.SessionEpoch)
	setUser(c, user)
	return k.DB.RecordSession(ctx, k.Sessions.Token(ctx), user.ID, user.SessionEpoch, c.Request.UserAgent(), c.ClientIP())
}

// SignOut ends the sign-in: the session moves to a new token without its
// user, so the old cookie, wherever it was copied, signs in nobody.
func (k *Kernel) SignOut(c *gin.Context) error {
	ctx := c.Request.Context()
	k.forgetSession(c)
	k.clearPending(c)
	if err := k.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	k.Sessions.Remove(ctx, sessionUserID)
	k.Sessions.Remove(ctx, sessionEpoch)
	return nil
}

// Flash leaves a one-line message for the next page this browser renders.
func (k *Kernel) Flash(c *gin.Context, msg string) {
	k.Sessions.Put(c.Request.Context(), sessionFlash, msg)
}

// Identify attaches the session's user, if any, to the request: the pages
// show who is signed in, even those open to everyone.
func (k *Kernel) Identify(c *gin.Context) {
	user, err := k.SessionUser(c)
	if err != nil {
		k.FailPage(c, err)
		return
	}
	if user != nil {
		setUser(c, user)
		if err := k.DB.TouchSession(c.Request.Context(), k.Sessions.Token(c.Request.Context()), c.ClientIP()); err != nil {
			k.Logger.WarnContext(c.Request.Context(), "touch session", "err", err)
		}
	}
	c.Next()
}

// secondFactorSetUpPath reports the pages an admin who must set up a second
// factor may still use: the account page and its two-factor forms.
func secondFactorSetUpPath(path string) bool {
	return path == "/account" || strings.HasPrefix(path, "/account/two-factor/")
}

// MustSetUpSecondFactor reports whether user is an admin who has no second
// factor while REQUIRE_2FA_FOR_ADMINS is on: signed in only to set one up.
func (k *Kernel) MustSetUpSecondFactor(c *gin.Context, user *store.User) (bool, error) {
	if !k.requireAdminSecondFactor || user.Role != store.RoleAdmin {
		return false, nil
	}
	f, err := k.DB.UserSecondFactors(c.Request.Context(), user.ID)
	if err != nil {
		return false, err
	}
	return !f.Any(), nil
}

// RequireSecondFactorSetUp follows RequireUser: an admin who must set up a
// second factor is sent to /account for every other page.
func (k *Kernel) RequireSecondFactorSetUp(c *gin.Context) {
	must, err := k.MustSetUpSecondFactor(c, PageUser(c))
	if err != nil {
		k.FailPage(c, err)
		return
	}
	if must && !secondFactorSetUpPath(c.Request.URL.Path) {
		k.Flash(c, "Administrators must set up two-factor sign-in before anything else.")
		c.Redirect(http.StatusSeeOther, "/account#two-factor")
		c.Abort()
		return
	}
	c.Next()
}

// PageUser is the signed-in user of a page request, or nil.
func PageUser(c *gin.Context) *store.User {
	if u, ok := c.Get(userKey); ok {
		return u.(*store.User)
	}
	return nil
}

// RequireUser sends an anonymous visitor to /login, to come back here after.
func (k *Kernel) RequireUser(c *gin.Context) {
	if PageUser(c) == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	c.Next()
}

// RequireAdmin lets only admins through; it follows RequireUser. A user is
// told no with 403: the page exists, it is not theirs.
func (k *Kernel) RequireAdmin(c *gin.Context) {
	if PageUser(c).Role != store.RoleAdmin {
		k.ErrorPage(c, http.StatusForbidden, "Not allowed", "This page is for administrators.")
		c.Abort()
		return
	}
	c.Next()
}

// RequireAdminAPI lets only admins through; it follows Authenticate. A
// user's token is valid, it is only not allowed here: 403, not 401.
func (k *Kernel) RequireAdminAPI(c *gin.Context) {
	if CurrentUser(c).Role != store.RoleAdmin {
		Abort(c, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this endpoint is for administrators"})
		return
	}
	c.Next()
}

// CrossOrigin refuses unsafe requests that a browser sent from another
// origin (Go's CrossOriginProtection: Sec-Fetch-Site, else Origin against
// Host). That is the CSRF defence of every form and of the API when a
// session cookie authenticates it; see the README for why no token is
// needed beside it.
func (k *Kernel) CrossOrigin(c *gin.Context) {
	if err := k.cop.Check(c.Request); err != nil {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			Abort(c, &Error{Status: http.StatusForbidden, Code: "cross_origin",
				Message: "cross-origin request refused: call the API from this site's pages or without a browser"})
			return
		}
		k.ErrorPage(c, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused. Go back to the page on this site and try again.")
		c.Abort()
		return
	}
	c.Next()
}
