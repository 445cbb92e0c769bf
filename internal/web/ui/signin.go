package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/ratelimit"
)

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

// accountKey names the rate-limit counter of a sign-in email: an HMAC
// under SECRET_KEY, so Redis holds no email address and its keys cannot be
// matched against a list of addresses without the secret.
func (s *Server) accountKey(email string) string {
	mac := hmac.New(sha256.New, s.rateKey)
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "augur:ratelimit:login:account:" + hex.EncodeToString(mac.Sum(nil))
}

// limitLogin counts one sign-in attempt against the client's IP and the
// email's account, and returns how long to wait when either is spent. The
// account counter is keyed by the email as typed, known or not, so the
// limit behaves the same for an address with no account.
func (s *Server) limitLogin(c *gin.Context, email string) (time.Duration, error) {
	wait, err := s.limitIPOnly(c, email)
	if err != nil || wait > 0 {
		return wait, err
	}
	return s.limitAccountOnly(c, email)
}

// limitIPOnly counts a sign-in attempt against the client's IP alone: a
// passkey sign-in names no account until its signature is checked.
func (s *Server) limitIPOnly(c *gin.Context, _ string) (time.Duration, error) {
	return s.allow(c, "augur:ratelimit:login:ip:"+c.ClientIP(), s.loginIPRate)
}

// limitAccountOnly counts a sign-in attempt against the email's account.
func (s *Server) limitAccountOnly(c *gin.Context, email string) (time.Duration, error) {
	return s.allow(c, s.accountKey(email), s.loginAccountRate)
}

func (s *Server) allow(c *gin.Context, key string, limit ratelimit.Limit) (time.Duration, error) {
	res, err := s.Limiter.Allow(c.Request.Context(), key, limit)
	if err != nil || res.Allowed {
		return 0, err
	}
	return res.RetryAfter, nil
}

// refuseLimited counts a sign-in attempt with limit and, when it may not
// go on, answers through refuse with the status and the reason: 429 with
// Retry-After when a limit is spent, 503 when the limiter is unavailable.
// It reports whether it refused.
func (s *Server) refuseLimited(c *gin.Context, email string, limit func(*gin.Context, string) (time.Duration, error),
	refuse func(status int, msg string)) bool {
	retryAfter, err := limit(c, email)
	if err != nil {
		s.Logger.ErrorContext(c.Request.Context(), "sign-in rate limiter unavailable", "err", err)
		// Without the limiter, sign-in would be open to guessing: refuse
		// for a moment rather than go unguarded.
		c.Header("Retry-After", "5")
		refuse(http.StatusServiceUnavailable, "Signing in is unavailable for a moment. Try again soon.")
		return true
	}
	if retryAfter > 0 {
		secs := int(math.Ceil(retryAfter.Seconds()))
		c.Header("Retry-After", strconv.Itoa(secs))
		wait := plural(secs, "second")
		if secs > 90 {
			wait = plural((secs+59)/60, "minute")
		}
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignInLocked, Outcome: audit.Refused,
			Actor: &audit.Actor{Name: email}, Details: map[string]string{"retry_after": strconv.Itoa(secs) + "s"}})
		refuse(http.StatusTooManyRequests, "Too many sign-in attempts. Try again in "+wait+".")
		return true
	}
	return false
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
