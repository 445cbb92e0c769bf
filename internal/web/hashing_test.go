package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// TestAFullPasswordHashingPoolAnswers503WithRetryAfter fills the pool's
// one slot and checks that sign-in, registration and a password change
// each wait out the pool's wait and answer 503 with Retry-After, having
// changed nothing; with the slot free again, sign-in works.
func TestAFullPasswordHashingPoolAnswers503WithRetryAfter(t *testing.T) {
	pool := auth.NewHashing(1, 50*time.Millisecond)
	h := newHarnessWith(t, harnessOptions{tune: func(a *kernel.Accounts) { a.Hashing = pool }})
	u := h.account(t, store.RoleUser)
	signedIn := h.browser(t)
	require.Equal(t, http.StatusSeeOther, signedIn.login(u.Email, testPassword).status)

	release, err := pool.Acquire(context.Background())
	require.NoError(t, err)
	for name, send := range map[string]func() *page{
		"sign-in": func() *page { return h.browser(t).login(u.Email, testPassword) },
		"registration": func() *page {
			return h.browser(t).post("/register", url.Values{"email": {"new-one@example.com"}, "username": {"newone"},
				"password": {"quiet-lantern-orchard-47"}, "confirm": {"quiet-lantern-orchard-47"}})
		},
		"password change": func() *page {
			return signedIn.post("/account/password", url.Values{"current": {testPassword},
				"password": {"quiet-lantern-orchard-47"}, "confirm": {"quiet-lantern-orchard-47"}})
		},
	} {
		p := send()
		require.Equal(t, http.StatusServiceUnavailable, p.status, name)
		require.NotEmpty(t, p.header.Get("Retry-After"), name)
	}
	_, err = h.db.UserByEmail(context.Background(), "new-one@example.com")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused registration creates nobody")
	release()
	require.Equal(t, http.StatusSeeOther, h.browser(t).login(u.Email, testPassword).status, "the old password still works")
}
