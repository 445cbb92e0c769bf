package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
)

// Accounts configures browser sign-in.
type Accounts struct {
	// Store keeps the sessions; store.DB.SessionStore gives PostgreSQL's.
	Store scs.Store
	// Lifetime is the longest a session lasts; IdleTimeout ends it sooner
	// after that long without a request.
	Lifetime, IdleTimeout time.Duration
	// SecureCookie sends the session cookie over HTTPS only.
	SecureCookie bool
	// SecretKey keys the HMAC that names the sign-in rate-limit counters.
	SecretKey string
	// LoginPerMinutePerIP and LoginPerHourPerAccount bound sign-in attempts.
	LoginPerMinutePerIP, LoginPerHourPerAccount int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []string
}

// SessionCookie is the name of the browser's session cookie.
const SessionCookie = "augur_session"

// Session keys. The epoch is the user's session epoch at sign-in: the
// session counts only while it still matches (see store.User.SessionEpoch).
const (
	sessionUserID = "user_id"
	sessionEpoch  = "epoch"
	sessionFlash  = "flash"
)

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

// withSessions loads and saves the browser session around every request
// except static files, the icon and health checks, which need none: with an idle
// timeout, loading a session also writes it back. An API request with an
// Authorization header needs none either: it is judged by the header alone
// (authenticate), and no API handler reads or writes the session.
func (s *Server) withSessions(next http.Handler) http.Handler {
	withSession := s.sessions.LoadAndSave(next)
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

// sessionUser returns the user signed in to this request's session, or nil.
// A session whose user is gone, deactivated, or has changed password since
// (a new epoch) is destroyed: it signs in nobody.
func (s *Server) sessionUser(c *gin.Context) (*store.User, error) {
	ctx := c.Request.Context()
	id := s.sessions.GetInt64(ctx, sessionUserID)
	if id == 0 {
		return nil, nil
	}
	user, err := s.db.UserByID(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil || !user.Active || user.SessionEpoch != s.sessions.GetInt64(ctx, sessionEpoch) {
		return nil, s.sessions.Destroy(ctx)
	}
	return user, nil
}

// signIn starts a signed-in session for user under a new token, so a token
// planted before sign-in (session fixation) never becomes a signed-in one.
func (s *Server) signIn(c *gin.Context, user *store.User) error {
	ctx := c.Request.Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserID, user.ID)
	s.sessions.Put(ctx, sessionEpoch, user.SessionEpoch)
	return nil
}

// flash leaves a one-line message for the next page this browser renders.
func (s *Server) flash(c *gin.Context, msg string) {
	s.sessions.Put(c.Request.Context(), sessionFlash, msg)
}

// identify attaches the session's user, if any, to the request: the pages
// show who is signed in, even those open to everyone.
func (s *Server) identify(c *gin.Context) {
	user, err := s.sessionUser(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	if user != nil {
		c.Set(userKey, user)
	}
	c.Next()
}

// pageUser is the signed-in user of a page request, or nil.
func pageUser(c *gin.Context) *store.User {
	if u, ok := c.Get(userKey); ok {
		return u.(*store.User)
	}
	return nil
}

// requireUser sends an anonymous visitor to /login, to come back here after.
func (s *Server) requireUser(c *gin.Context) {
	if pageUser(c) == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	c.Next()
}

// requireAdmin lets only admins through; it follows requireUser. A user is
// told no with 403: the page exists, it is not theirs.
func (s *Server) requireAdmin(c *gin.Context) {
	if pageUser(c).Role != store.RoleAdmin {
		s.errorPage(c, http.StatusForbidden, "Not allowed", "This page is for administrators.")
		c.Abort()
		return
	}
	c.Next()
}

// localPath returns next when it is a path on this site, else "/": a
// sign-in link must not be able to send anyone elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// crossOrigin refuses unsafe requests that a browser sent from another
// origin (Go's CrossOriginProtection: Sec-Fetch-Site, else Origin against
// Host). That is the CSRF defence of every form and of the API when a
// session cookie authenticates it; see the README for why no token is
// needed beside it.
func (s *Server) crossOrigin(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			abortWith(c, &apiError{Status: http.StatusForbidden, Code: "cross_origin",
				Message: "cross-origin request refused: call the API from this site's pages or without a browser"})
			return
		}
		s.errorPage(c, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused. Go back to the page on this site and try again.")
		c.Abort()
		return
	}
	c.Next()
}

// accountKey names the rate-limit counter of a sign-in email: an HMAC
// under SECRET_KEY, so Redis holds no email address and its keys cannot be
// matched against a list of addresses without the secret.
func (s *Server) accountKey(email string) string {
	mac := hmac.New(sha256.New, s.rateKey)
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "augur:ratelimit:login:account:" + hex.EncodeToString(mac.Sum(nil))
}
