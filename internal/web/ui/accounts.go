package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// badLogin is the one answer to a wrong email and to a wrong password, so
// that the form never tells which emails have accounts.
const badLogin = "Wrong email or password."

func (s *Server) loginPage(c *gin.Context) {
	if kernel.PageUser(c) != nil {
		c.Redirect(http.StatusSeeOther, localPath(c.Query("next")))
		return
	}
	s.Render(c, http.StatusOK, kernel.PageData{Title: "Sign in", Page: "login", Next: localPath(c.Query("next"))})
}

// login signs a user in by email and password. Attempts are limited per
// client IP and per email, counted before the password is checked, and an
// unknown email costs the same hashing as a known one.
func (s *Server) login(c *gin.Context) {
	email, password := strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	data := kernel.PageData{Title: "Sign in", Page: "login", Next: localPath(c.PostForm("next")), Form: map[string]string{"email": email}}

	if s.refuseLimited(c, email, s.limitLogin, func(status int, msg string) {
		data.Error = msg
		s.Render(c, status, data)
	}) {
		return
	}

	ctx := c.Request.Context()
	user, err := s.DB.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := s.Hashing.VerifyNobody(ctx, password); err != nil {
			s.PageFailed(c, err)
			return
		}
	case err != nil:
		s.FailPage(c, err)
		return
	default:
		err := s.Hashing.VerifyPassword(ctx, user.PasswordHash, password)
		switch {
		case errors.Is(err, auth.ErrBusy), errors.Is(err, context.Canceled):
			s.PageFailed(c, err)
			return
		case err != nil && !errors.Is(err, auth.ErrMismatch):
			s.Logger.ErrorContext(ctx, "password hash unreadable", "user", user.ID, "err", err)
		}
		if err != nil {
			user = nil
		}
	}
	if user == nil || !user.Active {
		// The email as typed is the actor: who was tried, known or not.
		s.Audit.Record(ctx, audit.Event{Action: audit.SignInFailed, Outcome: audit.Failure, Actor: &audit.Actor{Name: email}})
		data.Error = badLogin
		s.Render(c, http.StatusUnprocessableEntity, data)
		return
	}
	factors, err := s.DB.UserSecondFactors(c.Request.Context(), user.ID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if factors.Any() {
		if err := s.BeginSecondStep(c, user); err != nil {
			s.FailPage(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/login/two-factor?next="+url.QueryEscape(data.Next))
		return
	}
	if err := s.SignIn(c, user); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(ctx, audit.Event{Action: audit.SignIn, Target: audit.UserTarget(user.ID)})
	c.Redirect(http.StatusSeeOther, data.Next)
}

// logout ends the sign-in: the session moves to a new token without its
// user, so the old cookie, wherever it was copied, signs in nobody.
func (s *Server) logout(c *gin.Context) {
	if user := kernel.PageUser(c); user != nil {
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignOut, Target: audit.UserTarget(user.ID)})
	}
	if err := s.SignOut(c); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Flash(c, "You have signed out.")
	c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) registerPage(c *gin.Context) {
	if kernel.PageUser(c) != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.Render(c, http.StatusOK, kernel.PageData{Title: "Create an account", Page: "register"})
}

// register creates an account and signs it in.
func (s *Server) register(c *gin.Context) {
	data := kernel.PageData{Title: "Create an account", Page: "register", Form: map[string]string{
		"email": strings.TrimSpace(c.PostForm("email")), "username": strings.TrimSpace(c.PostForm("username")),
	}}
	refuse := func(msg string) {
		data.Error = msg
		s.Render(c, http.StatusUnprocessableEntity, data)
	}
	email, err := auth.CheckEmail(c.PostForm("email"))
	if err != nil {
		refuse(capitalise(err.Error()) + ".")
		return
	}
	username, err := auth.CheckUsername(c.PostForm("username"))
	if err != nil {
		refuse(capitalise(err.Error()) + ".")
		return
	}
	password := c.PostForm("password")
	if password != c.PostForm("confirm") {
		refuse("The two passwords differ.")
		return
	}
	if err := auth.CheckPassword(password, email, username); err != nil {
		refuse(capitalise(err.Error()) + ".")
		return
	}
	hash, err := s.Hashing.HashPassword(c.Request.Context(), password)
	if err != nil {
		s.PageFailed(c, err)
		return
	}
	user, err := s.DB.CreateUser(c.Request.Context(), email, username, hash, store.RoleUser)
	switch {
	case errors.Is(err, store.ErrEmailTaken):
		refuse("An account with this email already exists. Sign in instead?")
		return
	case errors.Is(err, store.ErrUsernameTaken):
		refuse("This username is taken. Choose another.")
		return
	case err != nil:
		s.FailPage(c, err)
		return
	}
	if err := s.SignIn(c, user); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.Registered, Target: audit.UserTarget(user.ID)})
	s.Flash(c, "Welcome to Augur, "+user.Username+".")
	c.Redirect(http.StatusSeeOther, "/")
}

func capitalise(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

func (s *Server) accountPage(c *gin.Context) {
	s.renderAccount(c, http.StatusOK, kernel.PageData{})
}

// renderAccount renders /account with the user's tokens.
func (s *Server) renderAccount(c *gin.Context, status int, data kernel.PageData) {
	user := kernel.PageUser(c)
	tokens, err := s.DB.APITokens(c.Request.Context(), user.ID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	account, err := s.accountState(c, user)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data.Title, data.Page, data.Tokens, data.Account = "Your account", "account", tokens, account
	s.Render(c, status, data)
}

// passwordMatches checks password against the user's within the hashing
// bound (auth.Hashing). When the bound refuses (busy, or the client left)
// it has answered the request itself, and says so.
func (s *Server) passwordMatches(c *gin.Context, user *store.User, password string) (ok, answered bool) {
	err := s.Hashing.VerifyPassword(c.Request.Context(), user.PasswordHash, password)
	if errors.Is(err, auth.ErrBusy) || errors.Is(err, context.Canceled) {
		s.PageFailed(c, err)
		return false, true
	}
	return err == nil, false
}

// changePassword sets a new password and ends every other session of the
// user: raising the session epoch ends them all, and this one goes on under
// a new token at the new epoch.
func (s *Server) changePassword(c *gin.Context) {
	user := kernel.PageUser(c)
	ok, answered := s.passwordMatches(c, user, c.PostForm("current"))
	if answered {
		return
	}
	if !ok {
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.PasswordChanged, Target: audit.UserTarget(user.ID),
			Outcome: audit.Refused, Details: map[string]string{"reason": "wrong current password"}})
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "Your current password is not right."})
		return
	}
	password := c.PostForm("password")
	if password != c.PostForm("confirm") {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "The two new passwords differ."})
		return
	}
	if err := auth.CheckPassword(password, user.Email, user.Username); err != nil {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: capitalise(err.Error()) + "."})
		return
	}
	hash, err := s.Hashing.HashPassword(c.Request.Context(), password)
	if err != nil {
		s.PageFailed(c, err)
		return
	}
	epoch, err := s.DB.SetPassword(c.Request.Context(), user.ID, hash)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	// Cached token lookups hold the user as it was.
	s.Invalidate(c.Request.Context(), user.ID)
	user.SessionEpoch = epoch
	if err := s.SignIn(c, user); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.PasswordChanged, Target: audit.UserTarget(user.ID)})
	s.Flash(c, "Your password is changed. Every other session has been signed out.")
	c.Redirect(http.StatusSeeOther, "/account")
}

// maxTokenName bounds a token's name, which only helps its owner tell
// tokens apart.
const maxTokenName = 64

// createToken makes an API token and shows it in the answer, this once. It
// is rendered, not redirected with, so the token is never stored anywhere
// but in its owner's hands (the session would keep it in PostgreSQL).
func (s *Server) createToken(c *gin.Context) {
	name, err := kernel.CheckText("name", c.PostForm("name"), true, maxTokenName)
	if err != nil {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "Give the token a name of 1 to 64 characters, such as the machine that will use it, without control characters or bidirectional overrides."})
		return
	}
	token, digest, err := auth.NewToken()
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if err := s.DB.CreateAPIToken(c.Request.Context(), kernel.PageUser(c).ID, digest, name); err != nil {
		s.FailPage(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.TokenCreated, Target: audit.UserTarget(kernel.PageUser(c).ID),
		Details: map[string]string{"name": name}})
	s.renderAccount(c, http.StatusCreated, kernel.PageData{NewToken: token})
}

// revokeToken deletes one of the user's tokens; another user's is a 404.
func (s *Server) revokeToken(c *gin.Context) {
	s.deleteOwn(c, s.DB.RevokeOwnAPIToken, audit.TokenRevoked, "token", "/account", "The token is revoked; it no longer works.",
		"No such token", "That token does not exist, or is already revoked.")
}

// deleteOwn deletes the user's thing named by :id with del, records action
// on it (targetKind:id) in the audit trail, and goes back with done;
// another user's thing, or none, is a 404 page saying missing.
func (s *Server) deleteOwn(c *gin.Context, del func(ctx context.Context, userID, id int64) error, action audit.Action,
	targetKind, back, done, missingTitle, missing string) {
	user := kernel.PageUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil {
		err = del(c.Request.Context(), user.ID, id)
	}
	switch {
	case err == nil:
		s.Audit.Record(c.Request.Context(), audit.Event{Action: action, Target: targetKind + ":" + strconv.FormatInt(id, 10)})
		// Cached token lookups may hold what was deleted.
		s.Invalidate(c.Request.Context(), user.ID)
		s.Flash(c, done)
		c.Redirect(http.StatusSeeOther, back)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, strconv.ErrSyntax), errors.Is(err, strconv.ErrRange):
		s.ErrorPage(c, http.StatusNotFound, missingTitle, missing)
	default:
		s.FailPage(c, err)
	}
}

// setTimeZone sets the clock the user reads times on: an IANA zone, or
// none for the browser's own.
func (s *Server) setTimeZone(c *gin.Context) {
	user := kernel.PageUser(c)
	zone := strings.TrimSpace(c.PostForm("time_zone"))
	if _, err := time.LoadLocation(zone); err != nil || strings.EqualFold(zone, "local") || len(zone) > 64 {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "That is not a time zone: give a name such as America/New_York or Europe/Paris, or leave it empty for your browser's."})
		return
	}
	if err := s.DB.SetUserTimeZone(c.Request.Context(), user.ID, zone); err != nil {
		s.FailPage(c, err)
		return
	}
	if zone == "" {
		s.Flash(c, "Times are shown on your browser's clock.")
	} else {
		s.Flash(c, "Times are shown on the clock of "+zone+".")
	}
	c.Redirect(http.StatusSeeOther, "/account#time-zone")
}
