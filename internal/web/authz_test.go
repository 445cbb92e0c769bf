package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/api"
	"github.com/augurhq/augur/internal/web/kernel"
)

// access is who may use a route.
type access int

const (
	public    access = iota // anyone, signed in or not
	signedIn                // any active signed-in user (or token holder)
	owned                   // only the owner of the thing named in the path; others get 404
	adminOnly               // administrators; other users get 403
)

// route is one row of the authorization matrix: a route as the router
// holds it, who may use it, and how to call it.
type route struct {
	method, path string
	access       access
	// api routes take a bearer token as well as the session; their
	// refusal of the unauthenticated is 401 rather than a redirect.
	api  bool
	body string // request body: JSON for api routes, a form for pages
	// signsOut routes end the caller's session, so the matrix calls them
	// after every other route.
	signsOut bool
	// consumes rows delete what they name, so each call names a fresh
	// one of the owner's.
	consumes bool
	// absent rows name no real target (the matrix makes no broker, task or
	// such for them): an admin's 404 there still shows that authorization
	// let the admin through.
	absent bool
}

// authzRoutes is every route of the router. TestAuthorizationMatrix fails
// when the router has a route missing here (add a row) or a row names a
// route the router lacks.
var authzRoutes = []route{
	{method: "GET", path: "/healthz", access: public},
	{method: "HEAD", path: "/healthz", access: public},
	{method: "GET", path: "/readyz", access: public},
	{method: "HEAD", path: "/readyz", access: public},
	{method: "GET", path: "/openapi.yaml", access: public},
	{method: "HEAD", path: "/openapi.yaml", access: public},
	{method: "GET", path: "/docs", access: public},
	{method: "HEAD", path: "/docs", access: public},
	{method: "GET", path: "/static/*file", access: public},
	{method: "HEAD", path: "/static/*file", access: public},
	{method: "GET", path: "/favicon.ico", access: public},
	{method: "HEAD", path: "/favicon.ico", access: public},
	{method: "GET", path: "/login", access: public},
	{method: "HEAD", path: "/login", access: public},
	{method: "POST", path: "/login", access: public, body: "email=nobody%40example.com&password=wrong"},
	{method: "GET", path: "/register", access: public},
	{method: "HEAD", path: "/register", access: public},
	{method: "POST", path: "/register", access: public, body: "email=x&username=x&password=x"},
	// It moves the caller's session to a new token, so it goes among the
	// last, before /logout ends the session.
	{method: "POST", path: "/account/sessions/sign-out-others", access: signedIn, signsOut: true},
	{method: "POST", path: "/logout", access: public, signsOut: true},
	{method: "GET", path: "/login/two-factor", access: public},
	{method: "HEAD", path: "/login/two-factor", access: public},
	{method: "POST", path: "/login/two-factor", access: public, body: "code=000000"},
	{method: "POST", path: "/login/passkey/begin", access: public},
	{method: "POST", path: "/login/passkey/finish", access: public, body: "{}"},

	{method: "GET", path: "/", access: signedIn},
	{method: "HEAD", path: "/", access: signedIn},
	{method: "GET", path: "/jobs/:id", access: owned},
	{method: "HEAD", path: "/jobs/:id", access: owned},
	{method: "GET", path: "/account", access: signedIn},
	{method: "HEAD", path: "/account", access: signedIn},
	{method: "POST", path: "/account/password", access: signedIn, body: "current=wrong&new=wrong"},
	{method: "POST", path: "/account/time-zone", access: signedIn, body: "time_zone=UTC"},
	{method: "POST", path: "/account/tokens", access: signedIn, body: "name=matrix"},
	{method: "POST", path: "/account/tokens/:id/revoke", access: owned},
	{method: "POST", path: "/account/two-factor/totp", access: signedIn},
	{method: "POST", path: "/account/two-factor/totp/confirm", access: signedIn, body: "code=000000"},
	{method: "POST", path: "/account/two-factor/totp/disable", access: signedIn, body: "password=wrong"},
	{method: "POST", path: "/account/two-factor/passkeys/begin", access: signedIn},
	{method: "POST", path: "/account/two-factor/passkeys/finish", access: signedIn, body: "{}"},
	// The password is checked first, and the passkey's owner after it in
	// SQL (TestAPasskeyIsRemovedOnlyByItsOwner).
	{method: "POST", path: "/account/two-factor/passkeys/:id/delete", access: signedIn, body: "password=wrong"},
	{method: "POST", path: "/jobs/:id/cancel", access: owned},
	{method: "GET", path: "/models", access: signedIn},
	{method: "GET", path: "/watchlists", access: signedIn},
	{method: "HEAD", path: "/watchlists", access: signedIn},
	{method: "POST", path: "/watchlists", access: signedIn, body: "name="},
	{method: "POST", path: "/watchlists/:id/delete", access: owned},
	{method: "GET", path: "/batches/:id", access: owned},
	{method: "HEAD", path: "/batches/:id", access: owned},
	{method: "POST", path: "/batches/:id/cancel", access: owned},
	{method: "POST", path: "/schedules/:id/pause", access: owned},
	{method: "POST", path: "/schedules/:id/resume", access: owned},
	{method: "POST", path: "/schedules/:id/delete", access: owned},
	{method: "HEAD", path: "/models", access: signedIn},
	{method: "GET", path: "/dashboard", access: signedIn},
	{method: "HEAD", path: "/dashboard", access: signedIn},
	{method: "POST", path: "/dashboard/deposits", access: signedIn, body: "amount=-1"},
	{method: "POST", path: "/dashboard/orders", access: signedIn, body: "symbol=NOPE&side=buy&quantity=1"},
	{method: "POST", path: "/dashboard/dividends", access: signedIn, body: "symbol=NOPE&amount_per_share=1"},
	{method: "GET", path: "/webhooks", access: signedIn},
	{method: "HEAD", path: "/webhooks", access: signedIn},
	{method: "POST", path: "/webhooks", access: signedIn, body: "url=ftp%3A%2F%2Fexample.com&events=completed"},
	{method: "POST", path: "/webhooks/:id/delete", access: owned, consumes: true},
	{method: "POST", path: "/webhooks/:id/deliveries/:delivery/replay", access: owned},

	{method: "GET", path: "/admin", access: adminOnly},
	{method: "HEAD", path: "/admin", access: adminOnly},
	{method: "GET", path: "/admin/users", access: adminOnly},
	{method: "HEAD", path: "/admin/users", access: adminOnly},
	{method: "POST", path: "/admin/users/:id", access: adminOnly, absent: true},
	{method: "POST", path: "/admin/users/:id/two-factor/reset", access: adminOnly, absent: true},
	{method: "GET", path: "/admin/companies", access: adminOnly},
	{method: "HEAD", path: "/admin/companies", access: adminOnly},
	{method: "POST", path: "/admin/companies", access: adminOnly, body: "symbol="},
	{method: "POST", path: "/admin/companies/:id", access: adminOnly, absent: true},
	{method: "GET", path: "/admin/brokers", access: adminOnly},
	{method: "HEAD", path: "/admin/brokers", access: adminOnly},
	{method: "POST", path: "/admin/brokers", access: adminOnly, body: "name="},
	{method: "POST", path: "/admin/brokers/:id", access: adminOnly, absent: true},
	{method: "GET", path: "/admin/jobs/:id", access: adminOnly},
	{method: "GET", path: "/admin/schedules", access: adminOnly},
	{method: "HEAD", path: "/admin/schedules", access: adminOnly},
	{method: "HEAD", path: "/admin/jobs/:id", access: adminOnly},
	{method: "GET", path: "/admin/queues", access: adminOnly},
	{method: "HEAD", path: "/admin/queues", access: adminOnly},
	{method: "GET", path: "/admin/audit", access: adminOnly},
	{method: "HEAD", path: "/admin/audit", access: adminOnly},
	{method: "POST", path: "/admin/queues/:queue/pause", access: adminOnly},
	{method: "POST", path: "/admin/queues/:queue/resume", access: adminOnly},
	{method: "POST", path: "/admin/queues/:queue/tasks/:id/run", access: adminOnly, absent: true},
	{method: "POST", path: "/admin/queues/:queue/tasks/:id/delete", access: adminOnly, absent: true},

	{method: "POST", path: "/api/v1/predictions", access: signedIn, api: true, body: `{"ticker":"MSFT","models":["nope"]}`},
	{method: "POST", path: "/api/v1/sentiment", access: signedIn, api: true, body: `{}`},
	{method: "GET", path: "/api/v1/jobs", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/jobs/:id", access: owned, api: true},
	{method: "POST", path: "/api/v1/jobs/:id/cancel", access: owned, api: true},
	{method: "GET", path: "/api/v1/jobs/:id/events", access: owned, api: true},
	{method: "GET", path: "/api/v1/portfolio", access: signedIn, api: true},
	{method: "POST", path: "/api/v1/portfolio/deposits", access: signedIn, api: true, body: `{}`},
	{method: "POST", path: "/api/v1/portfolio/orders", access: signedIn, api: true, body: `{}`},
	{method: "POST", path: "/api/v1/portfolio/orders/preview", access: signedIn, api: true, body: `{}`},
	{method: "POST", path: "/api/v1/portfolio/dividends", access: signedIn, api: true, body: `{}`},
	{method: "GET", path: "/api/v1/portfolio/transactions", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/portfolio/companies", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/portfolio/brokers", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/models", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/watchlists", access: signedIn, api: true},
	{method: "POST", path: "/api/v1/watchlists", access: signedIn, api: true, body: `{}`},
	{method: "GET", path: "/api/v1/watchlists/:id", access: owned, api: true},
	{method: "PUT", path: "/api/v1/watchlists/:id", access: owned, api: true, body: `{"name":"renamed","tickers":["KO"]}`},
	{method: "DELETE", path: "/api/v1/watchlists/:id", access: owned, api: true},
	{method: "POST", path: "/api/v1/batches", access: signedIn, api: true, body: `{}`},
	{method: "GET", path: "/api/v1/batches", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/batches/:id", access: owned, api: true},
	{method: "POST", path: "/api/v1/batches/:id/cancel", access: owned, api: true},
	{method: "GET", path: "/api/v1/schedules", access: signedIn, api: true},
	{method: "POST", path: "/api/v1/schedules", access: signedIn, api: true, body: `{}`},
	{method: "GET", path: "/api/v1/schedules/:id", access: owned, api: true},
	{method: "DELETE", path: "/api/v1/schedules/:id", access: owned, api: true},
	{method: "POST", path: "/api/v1/schedules/:id/pause", access: owned, api: true},
	{method: "POST", path: "/api/v1/schedules/:id/resume", access: owned, api: true},
	{method: "POST", path: "/api/v1/webhooks", access: signedIn, api: true, body: `{"url":"ftp://example.com","events":["completed"]}`},
	{method: "GET", path: "/api/v1/webhooks", access: signedIn, api: true},
	{method: "GET", path: "/api/v1/webhooks/:id", access: owned, api: true},
	{method: "DELETE", path: "/api/v1/webhooks/:id", access: owned, api: true, consumes: true},
	{method: "POST", path: "/api/v1/webhooks/:id/rotate", access: owned, api: true},
	{method: "GET", path: "/api/v1/webhooks/:id/deliveries", access: owned, api: true},
	{method: "GET", path: "/api/v1/webhooks/:id/deliveries/:delivery/attempts", access: owned, api: true},
	{method: "POST", path: "/api/v1/webhooks/:id/deliveries/:delivery/replay", access: owned, api: true},

	{method: "GET", path: "/api/v1/admin/companies", access: adminOnly, api: true},
	{method: "POST", path: "/api/v1/admin/companies", access: adminOnly, api: true, body: `{}`},
	{method: "PATCH", path: "/api/v1/admin/companies/:id", access: adminOnly, api: true, body: `{}`, absent: true},
	{method: "POST", path: "/api/v1/admin/companies/:id/deactivate", access: adminOnly, api: true, absent: true},
	{method: "GET", path: "/api/v1/admin/brokers", access: adminOnly, api: true},
	{method: "POST", path: "/api/v1/admin/brokers", access: adminOnly, api: true, body: `{}`},
	{method: "PATCH", path: "/api/v1/admin/brokers/:id", access: adminOnly, api: true, body: `{}`, absent: true},
	{method: "POST", path: "/api/v1/admin/brokers/:id/deactivate", access: adminOnly, api: true, absent: true},
	{method: "GET", path: "/api/v1/admin/users", access: adminOnly, api: true},
	{method: "GET", path: "/api/v1/admin/audit", access: adminOnly, api: true},
	{method: "PATCH", path: "/api/v1/admin/users/:id", access: adminOnly, api: true, body: `{}`, absent: true},
	{method: "GET", path: "/api/v1/admin/schedules", access: adminOnly, api: true},
	{method: "DELETE", path: "/api/v1/admin/users/:id/two-factor", access: adminOnly, api: true, absent: true},
}

// identity is one kind of caller in the matrix.
type identity struct {
	name    string
	token   string   // bearer token for api routes ("" = none)
	browser *browser // session for pages and api routes
	// refused callers are not let in at all: 401 from the API, the sign-in
	// page from the pages.
	refused bool
	owner   bool // owns the job and the token the paths name
	admin   bool
}

// outcome is what a matrix cell expects.
type outcome string

const (
	allowed      outcome = "allowed"      // past authorization: any answer but 401, 403, 404 or the sign-in page
	unauthorized outcome = "unauthorized" // 401 (api) or 303 to /login?next=… (pages)
	forbidden    outcome = "forbidden"    // 403
	notFound     outcome = "not found"    // 404: another user's thing is not disclosed
)

func (r route) expect(who identity) outcome {
	switch {
	case r.access == public:
		return allowed
	case who.refused:
		return unauthorized
	case r.access == owned && !who.owner:
		return notFound
	case r.access == adminOnly && !who.admin:
		return forbidden
	}
	return allowed
}

// TestAuthorizationMatrix calls every route as every kind of caller, by
// bearer token and by session, and checks each answer.
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t, 1000)
	ctx := context.Background()
	routes, err := web.Routes(web.Deps{
		Kernel: kernel.Config{
			Logger:         slog.New(slog.DiscardHandler),
			Registry:       prometheus.NewRegistry(),
			StreamsPerUser: 1,
			StreamsMax:     1,
		},
		API: api.Config{
			SubmitPerMinute:        1,
			MaxUnfinishedJobs:      1,
			InteractiveJobsPerUser: 1,
		},
	})
	require.NoError(t, err)
	var inTable, inRouter []string
	for _, r := range authzRoutes {
		inTable = append(inTable, r.method+" "+r.path)
	}
	for _, r := range routes {
		inRouter = append(inRouter, r[0]+" "+r[1])
	}
	slices.Sort(inTable)
	slices.Sort(inRouter)
	require.Equal(t, inRouter, inTable, "every route needs a row in authzRoutes, and every row a route")

	// The owner has a webhook endpoint, a finished job (so its event
	// stream ends at once) whose end made a delivery to the endpoint, and
	// a spare token that the revoke route may name.
	owner, ownerToken, ownerBrowser := h.member(t, store.RoleUser)
	newEndpoint := func() string {
		made := h.api.As(ownerToken).Do(http.MethodPost, "/api/v1/webhooks",
			map[string]any{"url": "https://example.com/hook", "events": []string{"completed"}})
		require.Equal(t, http.StatusCreated, made.Status, made.Body)
		var e struct{ ID string }
		made.Decode(t, &e)
		return e.ID
	}
	endpoint := newEndpoint()
	job := h.api.As(ownerToken).Do(http.MethodPost, "/api/v1/predictions",
		map[string]any{"ticker": "MSFT", "models": []string{"naive"}, "webhook": endpoint})
	require.Equal(t, http.StatusAccepted, job.Status, job.Body)
	var submitted struct{ ID uuid.UUID }
	job.Decode(t, &submitted)
	started, err := h.db.StartJob(ctx, submitted.ID, "matrix", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))
	_, digest, err := auth.NewToken()
	require.NoError(t, err)
	require.NoError(t, h.db.CreateAPIToken(ctx, owner.ID, digest, "spare"))
	tokens, err := h.db.APITokens(ctx, owner.ID)
	require.NoError(t, err)
	var spare int64
	for _, tok := range tokens {
		if tok.Name == "spare" {
			spare = tok.ID
		}
	}
	// The owner's watchlist and a batch of it.
	list, err := h.db.CreateWatchlist(ctx, owner.ID, "matrix", []string{"MSFT"})
	require.NoError(t, err)
	batch, _, err := h.db.CreateBatch(ctx, store.NewBatch{OwnerID: owner.ID, WatchlistID: list.ID, Tickers: list.Tickers,
		Params: store.JSON(`{"models":["naive"]}`), Queue: "low"}, 1000, store.DispatchRule{PerOwner: 1})
	require.NoError(t, err)
	schedule, err := h.db.CreateSchedule(ctx, store.NewSchedule{OwnerID: owner.ID, WatchlistID: list.ID, Cron: "@daily",
		TimeZone: "UTC", Params: store.JSON(`{"models":["naive"]}`), NextRunAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	delivery, err := h.db.PendingWebhookDeliveries(ctx, submitted.ID)
	require.NoError(t, err)
	require.Len(t, delivery, 1)
	// concrete fills a route's parameters: the owner's job, the owner's
	// spare token, watchlist, batch, schedule or webhook endpoint and its
	// delivery, a queue, a static asset. A route that deletes gets a new
	// thing at each call, so that the owner's first call leaves the second
	// something to delete.
	concrete := func(r route) string {
		id := submitted.ID.String()
		switch {
		case strings.HasPrefix(r.path, "/account/tokens/"):
			id = fmt.Sprint(spare)
		case strings.Contains(r.path, "/watchlists/") && (r.method == "DELETE" || strings.HasSuffix(r.path, "/delete")):
			spareList, err := h.db.CreateWatchlist(ctx, owner.ID, uuid.NewString(), []string{"KO"})
			require.NoError(t, err)
			id = fmt.Sprint(spareList.ID)
		case strings.Contains(r.path, "/watchlists/"):
			id = fmt.Sprint(list.ID)
		case strings.Contains(r.path, "/schedules/") && (r.method == "DELETE" || strings.HasSuffix(r.path, "/delete")):
			spare, err := h.db.CreateSchedule(ctx, store.NewSchedule{OwnerID: owner.ID, WatchlistID: list.ID, Cron: "@daily",
				TimeZone: "UTC", Params: store.JSON(`{}`), NextRunAt: time.Now().Add(time.Hour)})
			require.NoError(t, err)
			id = fmt.Sprint(spare.ID)
		case strings.Contains(r.path, "/schedules/"):
			id = fmt.Sprint(schedule.ID)
		case strings.Contains(r.path, "/batches/"):
			id = batch.ID.String()
		case r.consumes:
			id = newEndpoint()
		case strings.Contains(r.path, "webhooks/"):
			id = endpoint
		}
		return strings.NewReplacer(":id", id, ":delivery", delivery[0].DeliveryID.String(), ":queue", "low",
			"*file", "app.css").Replace(r.path)
	}

	_, otherToken, otherBrowser := h.member(t, store.RoleUser)
	_, adminToken, adminBrowser := h.member(t, store.RoleAdmin)
	// A revoked caller: a token revoked by its owner, and a session signed
	// out (its cookie kept, as a thief would).
	revokedUser, revokedToken, revokedBrowser := h.member(t, store.RoleUser)
	revokedTokens, err := h.db.APITokens(ctx, revokedUser.ID)
	require.NoError(t, err)
	require.NoError(t, h.db.RevokeOwnAPIToken(ctx, revokedUser.ID, revokedTokens[0].ID))
	stolen := h.withCookie(t, revokedBrowser.session())
	require.Equal(t, http.StatusSeeOther, revokedBrowser.post("/logout", nil).status)
	// A deactivated user: both the token and the session stop at once.
	deactivated, deactivatedToken, deactivatedBrowser := h.member(t, store.RoleUser)
	_, err = h.db.SetUserActive(ctx, deactivated.Username, false)
	require.NoError(t, err)

	identities := []identity{
		{name: "anonymous", browser: h.browser(t), refused: true},
		{name: "owner", token: ownerToken, browser: ownerBrowser, owner: true},
		{name: "other user", token: otherToken, browser: otherBrowser},
		{name: "admin", token: adminToken, browser: adminBrowser, admin: true},
		{name: "revoked", token: revokedToken, browser: stolen, refused: true},
		{name: "deactivated", token: deactivatedToken, browser: deactivatedBrowser, refused: true},
	}
	cells := 0
	ordered := slices.Clone(authzRoutes)
	slices.SortStableFunc(ordered, func(a, b route) int {
		switch {
		case a.signsOut == b.signsOut:
			return 0
		case a.signsOut:
			return 1
		}
		return -1
	})
	for _, r := range ordered {
		for _, who := range identities {
			creds := []string{"session"}
			if r.api && who.token != "" {
				creds = append(creds, "token")
			}
			for _, cred := range creds {
				name := fmt.Sprintf("%s %s as %s by %s", r.method, r.path, who.name, cred)
				want := r.expect(who)
				got := h.call(t, who, cred, r, concrete(r))
				seen := got.classify(r)
				if r.absent && who.admin && seen == notFound {
					seen = allowed
				}
				require.Equal(t, want, seen, "%s: HTTP %d, Location %q\n%s", name, got.status, got.location, got.body)
				cells++
			}
		}
	}
	t.Logf("authorization matrix: %d routes, %d identities, %d cells", len(authzRoutes), len(identities), cells)
}

// member creates a user with role, signs them in, and gives them an API
// token.
func (h *harness) member(t *testing.T, role string) (*store.User, string, *browser) {
	t.Helper()
	u := h.account(t, role)
	token, digest, err := auth.NewToken()
	require.NoError(t, err)
	require.NoError(t, h.db.CreateAPIToken(context.Background(), u.ID, digest, "matrix"))
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	return u, token, b
}

// call sends the route's request as who, by session cookie or by token.
func (h *harness) call(t *testing.T, who identity, cred string, r route, path string) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, h.url+path, strings.NewReader(r.body))
	require.NoError(t, err)
	switch {
	case r.api:
		req.Header.Set("Content-Type", "application/json")
	case r.method == http.MethodPost:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Origin", h.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cred == "token" {
		req.Header.Set("Authorization", "Bearer "+who.token)
		return h.browser(t).do(req)
	}
	return who.browser.do(req)
}

// classify names the outcome a response shows.
func (p *page) classify(r route) outcome {
	switch {
	case p.status == http.StatusUnauthorized && r.api,
		p.status == http.StatusSeeOther && !r.api && strings.HasPrefix(p.location, "/login?next="):
		return unauthorized
	case p.status == http.StatusForbidden:
		return forbidden
	case p.status == http.StatusNotFound:
		return notFound
	case p.status >= 500:
		return outcome(fmt.Sprintf("server error %d", p.status))
	}
	return allowed
}
