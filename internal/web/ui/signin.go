package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
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
	ctx := c.Request.Context()
	res, err := s.Limiter.Allow(ctx, "augur:ratelimit:login:ip:"+c.ClientIP(), s.loginIPRate)
	if err != nil {
		return 0, err
	}
	if !res.Allowed {
		return res.RetryAfter, nil
	}
	res, err = s.Limiter.Allow(ctx, s.accountKey(email), s.loginAccountRate)
	if err != nil {
		return 0, err
	}
	if !res.Allowed {
		return res.RetryAfter, nil
	}
	return 0, nil
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
