package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/internal/web/kernel"
)

// auditEntries asks GET /api/v1/admin/audit for the rows of action by
// actor, as an admin: the test of the listing and of each action at once.
func auditEntries(t *testing.T, h *harness, action audit.Action, actor string) []store.AuditEntry {
	t.Helper()
	_, admin := h.adminAPI(t)
	r := admin.Do("GET", "/api/v1/admin/audit?"+url.Values{"action": {string(action)}, "actor": {actor}}.Encode(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var page struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	r.Decode(t, &page)
	return page.Entries
}

// TestEveryAuditedActionLeavesItsRow performs each audited action of the
// pages and the API, and finds its row: actor, target, outcome, and the
// client IP the trusted proxy named.
func TestEveryAuditedActionLeavesItsRow(t *testing.T) {
	var siem testlog.Buffer
	h := newHarnessWith(t, harnessOptions{siem: &siem})
	seedMarket(t, h.db)
	const ip = "198.51.100.23"
	// at is a browser at ip, signed in as u when u is not nil.
	at := func(t *testing.T, u *store.User) *browser {
		b := h.browser(t)
		b.ip = ip
		if u != nil {
			require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
		}
		return b
	}

	for _, tc := range []struct {
		name    string
		action  audit.Action
		outcome string
		// do performs the action and returns the actor and target to find.
		do func(t *testing.T) (actor, target string)
	}{
		{"sign-in", audit.SignIn, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			at(t, u)
			return u.Email, audit.UserTarget(u.ID)
		}},
		{"failed sign-in", audit.SignInFailed, audit.Failure, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			b := at(t, nil)
			require.Equal(t, http.StatusUnprocessableEntity, b.login(u.Email, "not-the-password").status)
			return u.Email, ""
		}},
		{"sign-out", audit.SignOut, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			b := at(t, u)
			require.Equal(t, http.StatusSeeOther, b.post("/logout", nil).status)
			return u.Email, audit.UserTarget(u.ID)
		}},
		{"registration", audit.Registered, audit.Success, func(t *testing.T) (string, string) {
			p := at(t, nil).post("/register", url.Values{"email": {"fresh@example.com"}, "username": {"fresh"},
				"password": {"quiet-lantern-orchard-47"}, "confirm": {"quiet-lantern-orchard-47"}})
			require.Equal(t, http.StatusSeeOther, p.status, p.body)
			u, err := h.db.UserByEmail(context.Background(), "fresh@example.com")
			require.NoError(t, err)
			return u.Email, audit.UserTarget(u.ID)
		}},
		{"password change", audit.PasswordChanged, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			b := at(t, u)
			p := b.post("/account/password", url.Values{"current": {testPassword},
				"password": {"quiet-lantern-orchard-47"}, "confirm": {"quiet-lantern-orchard-47"}})
			require.Equal(t, http.StatusSeeOther, p.status, p.body)
			return u.Email, audit.UserTarget(u.ID)
		}},
		{"token created", audit.TokenCreated, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			b := at(t, u)
			require.Equal(t, http.StatusCreated, b.post("/account/tokens", url.Values{"name": {"laptop"}}).status)
			return u.Email, audit.UserTarget(u.ID)
		}},
		{"token revoked", audit.TokenRevoked, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			h.tokenFor(t, u)
			tokens, err := h.db.APITokens(context.Background(), u.ID)
			require.NoError(t, err)
			b := at(t, u)
			id := strconv.FormatInt(tokens[0].ID, 10)
			require.Equal(t, http.StatusSeeOther, b.post("/account/tokens/"+id+"/revoke", nil).status)
			return u.Email, "token:" + id
		}},
		{"role changed by an admin", audit.RoleChanged, audit.Success, func(t *testing.T) (string, string) {
			admin := h.account(t, store.RoleAdmin)
			b := at(t, admin)
			u := h.account(t, store.RoleUser)
			require.Equal(t, http.StatusSeeOther, b.post(fmt.Sprintf("/admin/users/%d", u.ID), url.Values{"role": {"admin"}}).status)
			return admin.Email, audit.UserTarget(u.ID)
		}},
		{"company created", audit.CompanyCreated, audit.Success, func(t *testing.T) (string, string) {
			admin := h.account(t, store.RoleAdmin)
			r := h.api.As(h.tokenFor(t, admin)).Do("POST", "/api/v1/admin/companies", `{"symbol":"AUDT","name":"Audit Co"}`)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return admin.Email, "company:AUDT"
		}},
		{"broker updated", audit.BrokerUpdated, audit.Success, func(t *testing.T) (string, string) {
			admin := h.account(t, store.RoleAdmin)
			brokers, err := h.db.Brokers(context.Background())
			require.NoError(t, err)
			id := strconv.FormatInt(brokers[0].ID, 10)
			r := h.api.As(h.tokenFor(t, admin)).Do("POST", "/api/v1/admin/brokers/"+id+"/deactivate", nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			return admin.Email, "broker:" + id
		}},
		{"queue paused", audit.QueuePause, audit.Success, func(t *testing.T) (string, string) {
			admin := h.account(t, store.RoleAdmin)
			b := at(t, admin)
			require.Equal(t, http.StatusSeeOther, b.post("/admin/queues/default/pause", nil).status)
			require.Equal(t, http.StatusSeeOther, b.post("/admin/queues/default/resume", nil).status)
			return admin.Email, "queue:default"
		}},
		{"deposit", audit.Deposit, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			r := h.api.As(h.tokenFor(t, u)).Do("POST", "/api/v1/portfolio/deposits", `{"amount":"1000.00"}`)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return u.Email, "wallet:" + strconv.FormatInt(u.ID, 10)
		}},
		{"trade", audit.Trade, audit.Success, func(t *testing.T) (string, string) {
			u := h.account(t, store.RoleUser)
			api := h.api.As(h.tokenFor(t, u))
			require.Equal(t, http.StatusCreated, api.Do("POST", "/api/v1/portfolio/deposits", `{"amount":"100000.00"}`).Status)
			r := api.Do("POST", "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"buy","quantity":"2"}`)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return u.Email, "company:MSFT"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actor, target := tc.do(t)
			rows := auditEntries(t, h, tc.action, actor)
			require.NotEmpty(t, rows, "no %s row by %s", tc.action, actor)
			got := rows[0]
			require.Equal(t, tc.outcome, got.Outcome)
			if target != "" {
				require.Equal(t, target, got.Target)
			}
			require.NotEmpty(t, got.RequestID)
			require.NotEmpty(t, got.IP)
			require.Contains(t, siem.String(), fmt.Sprintf(`"id":%d,`, got.ID), "the row went out as a JSON line too")
		})
	}
	report, err := audit.Verify(context.Background(), h.db)
	require.NoError(t, err)
	require.Positive(t, report.Rows)
}

// TestASignInLockoutIsAuditedWithTheClientIP spends the per-IP sign-in
// limit and finds the refusal's row, with the IP the proxy named.
func TestASignInLockoutIsAuditedWithTheClientIP(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{tune: func(a *kernel.Accounts) { a.LoginPerMinutePerIP = 1 }})
	u := h.account(t, store.RoleUser)
	b := h.browser(t)
	b.ip = "203.0.113.77"
	require.Equal(t, http.StatusUnprocessableEntity, b.login(u.Email, "wrong").status)
	require.Equal(t, http.StatusTooManyRequests, b.login(u.Email, "wrong").status)
	failed := auditEntries(t, h, audit.SignInFailed, u.Email)
	require.Len(t, failed, 1)
	require.Equal(t, "203.0.113.77", failed[0].IP)
	locked := auditEntries(t, h, audit.SignInLocked, u.Email)
	require.Len(t, locked, 1)
	require.Equal(t, audit.Refused, locked[0].Outcome)
	require.Equal(t, "203.0.113.77", locked[0].IP)
}

func TestTheAuditListingRefusesBadFilters(t *testing.T) {
	h := newHarness(t, 100)
	_, admin := h.adminAPI(t)
	for query, field := range map[string]string{
		"from=yesterday": "from", "to=2026-13-01T00:00:00Z": "to", "cursor=abc": "cursor", "limit=0": "limit",
	} {
		r := admin.Do("GET", "/api/v1/admin/audit?"+query, nil)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, r.Status, query)
		_, got := errorOf(t, r)
		require.Equal(t, field, got, query)
	}
}
