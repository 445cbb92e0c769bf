package ui

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// Session keys of the passkey ceremonies in progress: the challenge the
// browser must sign, kept server-side between begin and finish.
const (
	sessionPasskeyRegistration = "passkey_registration"
	sessionPasskeyLogin        = "passkey_login"
)

// passkeyUser is a user as go-webauthn sees one.
type passkeyUser struct {
	user  *store.User
	creds []webauthn.Credential
	// ids are the store ids of creds, in the same order.
	ids []int64
}

// userHandle is the WebAuthn user handle of a user: the id, as 8 bytes.
// It is opaque to the browser, holds no personal data, and names the
// account of a discoverable credential.
func userHandle(userID int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(userID))
}

// WebAuthnID is the user handle.
func (u *passkeyUser) WebAuthnID() []byte { return userHandle(u.user.ID) }

// WebAuthnName is the account's email, which the browser shows.
func (u *passkeyUser) WebAuthnName() string { return u.user.Email }

// WebAuthnDisplayName is the username.
func (u *passkeyUser) WebAuthnDisplayName() string { return u.user.Username }

// WebAuthnCredentials are the user's passkeys.
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// loadPasskeyUser reads the user's passkeys.
func (s *Server) loadPasskeyUser(c *gin.Context, user *store.User) (*passkeyUser, error) {
	keys, err := s.DB.UserPasskeys(c.Request.Context(), user.ID)
	if err != nil {
		return nil, err
	}
	pu := &passkeyUser{user: user}
	for _, k := range keys {
		var cred webauthn.Credential
		if err := json.Unmarshal(k.Credential, &cred); err != nil {
			return nil, err
		}
		pu.creds = append(pu.creds, cred)
		pu.ids = append(pu.ids, k.ID)
	}
	return pu, nil
}

// passkeysOff answers 404 when passkeys are not configured, and reports so.
func (s *Server) passkeysOff(c *gin.Context) bool {
	if s.WebAuthn == nil {
		kernel.Abort(c, &kernel.Error{Status: http.StatusNotFound, Code: "not_found", Message: "passkeys are not configured on this server"})
		return true
	}
	return false
}

// refusePasskey answers a ceremony that failed verification with 422; the
// reason goes to the log, where the library's detail helps an operator.
func (s *Server) refusePasskey(c *gin.Context, err error) {
	s.Logger.InfoContext(c.Request.Context(), "passkey refused", "err", err)
	kernel.Abort(c, &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "passkey_refused",
		Message: "the passkey was not accepted; try again, or use another way to sign in"})
}

// putCeremony keeps a ceremony's session data until its finish.
func (s *Server) putCeremony(c *gin.Context, key string, sd *webauthn.SessionData) error {
	raw, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	s.Sessions.Put(c.Request.Context(), key, string(raw))
	return nil
}

// popCeremony takes a ceremony's session data out of the session, so a
// challenge is answered at most once.
func (s *Server) popCeremony(c *gin.Context, key string) (webauthn.SessionData, bool) {
	var sd webauthn.SessionData
	raw := s.Sessions.PopString(c.Request.Context(), key)
	if raw == "" || json.Unmarshal([]byte(raw), &sd) != nil {
		return sd, false
	}
	return sd, true
}

// beginPasskeyRegistration answers the options of navigator.credentials.
// create for a new passkey of the signed-in user: discoverable, so that it
// can sign in without an email, and never one the user already has.
func (s *Server) beginPasskeyRegistration(c *gin.Context) {
	if s.passkeysOff(c) {
		return
	}
	pu, err := s.loadPasskeyUser(c, kernel.PageUser(c))
	if err != nil {
		s.Fail(c, err)
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, cred := range pu.creds {
		exclude = append(exclude, cred.Descriptor())
	}
	creation, sd, err := s.WebAuthn.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude))
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.putCeremony(c, sessionPasskeyRegistration, sd); err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, creation)
}

// maxPasskeyName bounds a passkey's name, which only tells them apart.
const maxPasskeyName = 64

// finishPasskeyRegistration verifies the browser's new credential against
// the challenge and stores it under the name in the query.
func (s *Server) finishPasskeyRegistration(c *gin.Context) {
	if s.passkeysOff(c) {
		return
	}
	name, err := kernel.CheckText("name", c.Query("name"), false, maxPasskeyName)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if name == "" {
		name = "Passkey"
	}
	user := kernel.PageUser(c)
	sd, ok := s.popCeremony(c, sessionPasskeyRegistration)
	if !ok {
		s.refusePasskey(c, errors.New("no registration in progress"))
		return
	}
	pu, err := s.loadPasskeyUser(c, user)
	if err != nil {
		s.Fail(c, err)
		return
	}
	cred, err := s.WebAuthn.FinishRegistration(pu, sd, c.Request)
	if err != nil {
		s.refusePasskey(c, err)
		return
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.DB.AddPasskey(c.Request.Context(), user.ID, cred.ID, raw, name); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.refusePasskey(c, err)
			return
		}
		s.Fail(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.PasskeyAdded, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"name": name}})
	s.Flash(c, "The passkey "+name+" is added. Signing in now asks for it, or your authenticator app, after the password; or sign in with it alone.")
	c.JSON(http.StatusCreated, gin.H{"name": name})
}

// deletePasskey removes one of the user's passkeys, given the password.
func (s *Server) deletePasskey(c *gin.Context) {
	user := kernel.PageUser(c)
	ok, answered := s.passwordMatches(c, user, c.PostForm("password"))
	if answered {
		return
	}
	if !ok {
		s.renderAccount(c, http.StatusUnprocessableEntity, kernel.PageData{Error: "Give your password to remove a passkey."})
		return
	}
	s.deleteOwn(c, s.DB.DeleteOwnPasskey, audit.PasskeyRemoved, "passkey", "/account#two-factor", "The passkey is removed.",
		"No such passkey", "That passkey does not exist, or is already removed.")
}

// beginPasskeyLogin answers the options of navigator.credentials.get for
// a discoverable sign-in: no email needed, and user verification (PIN or
// biometric) required, since the passkey alone must be two factors.
func (s *Server) beginPasskeyLogin(c *gin.Context) {
	if s.passkeysOff(c) {
		return
	}
	assertion, sd, err := s.WebAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.putCeremony(c, sessionPasskeyLogin, sd); err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, assertion)
}

// finishPasskeyLogin verifies a passkey's signature and signs its owner
// in: as the whole sign-in, or as the second step of one whose password
// was given, when the passkey is that same user's. Attempts count against
// the sign-in limits of the client IP, and of the account once known.
func (s *Server) finishPasskeyLogin(c *gin.Context) {
	if s.passkeysOff(c) {
		return
	}
	if s.refuseLimited(c, "", s.limitIPOnly, func(status int, msg string) {
		kernel.Abort(c, &kernel.Error{Status: status, Code: "rate_limited", Message: msg})
	}) {
		return
	}
	sd, ok := s.popCeremony(c, sessionPasskeyLogin)
	if !ok {
		s.refusePasskey(c, errors.New("no sign-in in progress"))
		return
	}
	var found *passkeyUser
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		key, err := s.DB.PasskeyByCredentialID(c.Request.Context(), rawID)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(handle, userHandle(key.UserID)) {
			return nil, errors.New("user handle does not match the credential's owner")
		}
		user, err := s.DB.UserByID(c.Request.Context(), key.UserID)
		if err != nil {
			return nil, err
		}
		found, err = s.loadPasskeyUser(c, user)
		return found, err
	}
	_, cred, err := s.WebAuthn.FinishPasskeyLogin(handler, sd, c.Request)
	if err != nil {
		s.refusePasskey(c, err)
		return
	}
	user := found.user
	if s.refuseLimited(c, user.Email, s.limitAccountOnly, func(status int, msg string) {
		kernel.Abort(c, &kernel.Error{Status: status, Code: "rate_limited", Message: msg})
	}) {
		return
	}
	pending, err := s.PendingUser(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if !user.Active || cred.Authenticator.CloneWarning || (pending != nil && pending.ID != user.ID) {
		s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignInFailed, Outcome: audit.Failure,
			Actor: &audit.Actor{Name: user.Email}, Details: map[string]string{"step": "passkey"}})
		s.refusePasskey(c, errors.New("inactive user, cloned authenticator, or another user's passkey at the second step"))
		return
	}
	if err := s.recordPasskeyUse(c, found, cred); err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.SignIn(c, user); err != nil {
		s.Fail(c, err)
		return
	}
	s.Audit.Record(c.Request.Context(), audit.Event{Action: audit.SignIn, Target: audit.UserTarget(user.ID),
		Details: map[string]string{"second_factor": "passkey"}})
	c.JSON(http.StatusOK, gin.H{"next": localPath(c.Query("next"))})
}

// recordPasskeyUse stores the credential as verified now: its sign count
// moved on, which is how a cloned authenticator shows itself next time.
func (s *Server) recordPasskeyUse(c *gin.Context, pu *passkeyUser, cred *webauthn.Credential) error {
	for i, known := range pu.creds {
		if bytes.Equal(known.ID, cred.ID) {
			raw, err := json.Marshal(cred)
			if err != nil {
				return err
			}
			return s.DB.PasskeyUsed(c.Request.Context(), pu.ids[i], raw)
		}
	}
	return errors.New("verified passkey not among the user's")
}
