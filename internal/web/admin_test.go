package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/apitest"
	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// tokenFor creates an API token for u.
func (h *harness) tokenFor(t *testing.T, u *store.User) string {
	t.Helper()
	token, digest, err := auth.NewToken()
	require.NoError(t, err)
	require.NoError(t, h.db.CreateAPIToken(context.Background(), u.ID, digest, "test"))
	return token
}

// adminAPI is an API client holding an admin's token.
func (h *harness) adminAPI(t *testing.T) (*store.User, *apitest.Client) {
	t.Helper()
	u := h.account(t, store.RoleAdmin)
	return u, h.api.As(h.tokenFor(t, u))
}

func TestAdminPagesAnswerByRole(t *testing.T) {
	h := newHarness(t, 100)
	anon, user, admin := h.browser(t), h.signedIn(t, store.RoleUser), h.signedIn(t, store.RoleAdmin)
	missingJob := "/admin/jobs/" + uuid.NewString()
	cases := []struct {
		method, path string
		form         url.Values
		admin        int // the admin's status; anonymous and users are refused alike
	}{
		{"GET", "/admin", nil, http.StatusOK},
		{"GET", "/admin/users", nil, http.StatusOK},
		{"GET", "/admin/companies", nil, http.StatusOK},
		{"GET", "/admin/brokers", nil, http.StatusOK},
		{"GET", "/admin/queues", nil, http.StatusOK},
		{"GET", missingJob, nil, http.StatusNotFound},
		{"POST", "/admin/users/999999", url.Values{"active": {"false"}}, http.StatusNotFound},
		{"POST", "/admin/companies", url.Values{"symbol": {"ZZZ"}, "name": {"Zed"}}, http.StatusSeeOther},
		{"POST", "/admin/companies/999999", url.Values{"active": {"false"}}, http.StatusNotFound},
		{"POST", "/admin/brokers", url.Values{"name": {"Zed"}, "commission_rate": {"0.2"}}, http.StatusSeeOther},
		{"POST", "/admin/brokers/999999", url.Values{"active": {"false"}}, http.StatusNotFound},
		{"POST", "/admin/queues/default/pause", nil, http.StatusSeeOther},
		{"POST", "/admin/queues/default/resume", nil, http.StatusSeeOther},
		{"POST", "/admin/queues/nosuch/pause", nil, http.StatusNotFound},
		{"POST", "/admin/queues/default/tasks/" + uuid.NewString() + "/run", nil, http.StatusNotFound},
		{"POST", "/admin/queues/default/tasks/" + uuid.NewString() + "/delete", nil, http.StatusNotFound},
	}
	for _, tc := range cases {
		send := func(b *browser) *page {
			if tc.method == "GET" {
				return b.get(tc.path)
			}
			return b.post(tc.path, tc.form)
		}
		p := send(anon)
		require.Equal(t, http.StatusSeeOther, p.status, "anonymous %s %s", tc.method, tc.path)
		require.True(t, strings.HasPrefix(p.location, "/login?next="), "anonymous %s %s: %s", tc.method, tc.path, p.location)
		p = send(user)
		require.Equal(t, http.StatusForbidden, p.status, "user %s %s", tc.method, tc.path)
		require.Contains(t, p.body, "This page is for administrators.")
		p = send(admin)
		require.Equal(t, tc.admin, p.status, "admin %s %s: %s", tc.method, tc.path, p.body)
	}
	// What the user's forms tried did not happen.
	_, err := h.db.CompanyBySymbol(context.Background(), "ZZZ")
	require.NoError(t, err, "the admin's did")
	companies, err := h.db.Companies(context.Background())
	require.NoError(t, err)
	require.Len(t, companies, 1)
}

func TestAdminAPIAnswersByRole(t *testing.T) {
	h := newHarness(t, 100)
	_, admin := h.adminAPI(t)
	user := h.api // the harness's token is a user's
	anon := h.api.As("")
	cases := []struct {
		method, path, body string
		admin              int
	}{
		{"GET", "/api/v1/admin/companies", "", http.StatusOK},
		{"POST", "/api/v1/admin/companies", `{"symbol":"ACME","name":"Acme"}`, http.StatusCreated},
		{"PATCH", "/api/v1/admin/companies/999999", `{"active":false}`, http.StatusNotFound},
		{"POST", "/api/v1/admin/companies/999999/deactivate", "", http.StatusNotFound},
		{"GET", "/api/v1/admin/brokers", "", http.StatusOK},
		{"POST", "/api/v1/admin/brokers", `{"name":"Acme Brokers","commission_rate":"0.25"}`, http.StatusCreated},
		{"PATCH", "/api/v1/admin/brokers/999999", `{"active":false}`, http.StatusNotFound},
		{"POST", "/api/v1/admin/brokers/999999/deactivate", "", http.StatusNotFound},
		{"GET", "/api/v1/admin/users", "", http.StatusOK},
		{"PATCH", "/api/v1/admin/users/999999", `{"active":false}`, http.StatusNotFound},
	}
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := anon.Do(tc.method, tc.path, body)
		require.Equal(t, http.StatusUnauthorized, r.Status, "anonymous %s %s", tc.method, tc.path)
		r = user.Do(tc.method, tc.path, body)
		require.Equal(t, http.StatusForbidden, r.Status, "user %s %s", tc.method, tc.path)
		code, _ := errorOf(t, r)
		require.Equal(t, "forbidden", code)
		r = admin.Do(tc.method, tc.path, body)
		require.Equal(t, tc.admin, r.Status, "admin %s %s: %s", tc.method, tc.path, r.Body)
	}
}

func TestAdminAPIManagesCompaniesAndBrokers(t *testing.T) {
	h := newHarness(t, 100)
	_, admin := h.adminAPI(t)

	r := admin.Do("POST", "/api/v1/admin/companies", `{"symbol":" brk-b ","name":" Berkshire Hathaway ","exchange":"NYSE","sector":"Financials"}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	co := r.Map(t)
	require.Equal(t, "BRK-B", co["symbol"])
	require.Equal(t, "Berkshire Hathaway", co["name"])
	require.Equal(t, true, co["active"])
	id := strconv.FormatFloat(co["id"].(float64), 'f', 0, 64)
	require.Equal(t, "/api/v1/admin/companies/"+id, r.Header.Get("Location"))

	r = admin.Do("POST", "/api/v1/admin/companies", `{"symbol":"BRK-B","name":"Again"}`)
	require.Equal(t, http.StatusConflict, r.Status)
	code, field := errorOf(t, r)
	require.Equal(t, []string{"conflict", "symbol"}, []string{code, field})

	r = admin.Do("PATCH", "/api/v1/admin/companies/"+id, `{"sector":"Insurance"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "Insurance", r.Map(t)["sector"])
	require.Equal(t, "Berkshire Hathaway", r.Map(t)["name"], "fields left out stay")

	tradable := func(symbol string) bool {
		var list struct{ Companies []struct{ Symbol string } }
		h.api.Do("GET", "/api/v1/portfolio/companies", nil).Decode(t, &list)
		for _, c := range list.Companies {
			if c.Symbol == symbol {
				return true
			}
		}
		return false
	}
	require.True(t, tradable("BRK-B"))
	r = admin.Do("POST", "/api/v1/admin/companies/"+id+"/deactivate", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, false, r.Map(t)["active"])
	require.False(t, tradable("BRK-B"), "a deactivated company cannot be traded")
	var all struct{ Companies []map[string]any }
	admin.Do("GET", "/api/v1/admin/companies", nil).Decode(t, &all)
	require.Len(t, all.Companies, 1, "the admin still lists it")
	r = admin.Do("PATCH", "/api/v1/admin/companies/"+id, `{"active":true}`)
	require.Equal(t, true, r.Map(t)["active"])

	r = admin.Do("POST", "/api/v1/admin/brokers", `{"name":"Low Cost","email":"desk@lowcost.example","commission_rate":"0.25"}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	b := r.Map(t)
	require.Equal(t, "0.25", b["commission_rate"])
	bid := strconv.FormatFloat(b["id"].(float64), 'f', 0, 64)
	r = admin.Do("POST", "/api/v1/admin/brokers", `{"name":"LOW COST","commission_rate":"0"}`)
	require.Equal(t, http.StatusConflict, r.Status, "names are unique in any case")
	r = admin.Do("PATCH", "/api/v1/admin/brokers/"+bid, `{"commission_rate":"0.1250"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "0.125", r.Map(t)["commission_rate"])
	r = admin.Do("POST", "/api/v1/admin/brokers", `{"name":"Free","commission_rate":"0"}`)
	require.Equal(t, http.StatusCreated, r.Status, "a free broker is allowed: %s", r.Body)
	r = admin.Do("POST", "/api/v1/admin/brokers/"+bid+"/deactivate", nil)
	require.Equal(t, false, r.Map(t)["active"])
	var active struct{ Brokers []struct{ Name string } }
	h.api.Do("GET", "/api/v1/portfolio/brokers", nil).Decode(t, &active)
	require.Len(t, active.Brokers, 1)
	require.Equal(t, "Free", active.Brokers[0].Name)
}

func TestAdminAPIRefusesBadInputNamingTheField(t *testing.T) {
	h := newHarness(t, 100)
	_, admin := h.adminAPI(t)
	long := strings.Repeat("x", 201)
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"no symbol", "POST", "/api/v1/admin/companies", `{"name":"Acme"}`, 422, "required", "symbol"},
		{"bad symbol", "POST", "/api/v1/admin/companies", `{"symbol":"AC ME","name":"Acme"}`, 422, "invalid_symbol", "symbol"},
		{"no name", "POST", "/api/v1/admin/companies", `{"symbol":"ACME","name":"  "}`, 422, "required", "name"},
		{"long name", "POST", "/api/v1/admin/companies", `{"symbol":"ACME","name":"` + long + `"}`, 422, "too_long", "name"},
		{"case-mismatched key", "POST", "/api/v1/admin/companies", `{"Symbol":"ACME","name":"Acme"}`, 422, "unknown_field", "Symbol"},
		{"duplicate key", "POST", "/api/v1/admin/companies", `{"symbol":"ACME","symbol":"ACME2","name":"Acme"}`, 422, "duplicate_field", "symbol"},
		{"symbol cannot change", "PATCH", "/api/v1/admin/companies/1", `{"symbol":"NEW"}`, 422, "unknown_field", "symbol"},
		{"empty name in an edit", "PATCH", "/api/v1/admin/companies/1", `{"name":""}`, 422, "required", "name"},
		{"active not a boolean", "PATCH", "/api/v1/admin/companies/1", `{"active":"no"}`, 422, "wrong_type", "active"},
		{"rate not a string", "POST", "/api/v1/admin/brokers", `{"name":"B","commission_rate":0.25}`, 422, "wrong_type", "commission_rate"},
		{"no rate", "POST", "/api/v1/admin/brokers", `{"name":"B"}`, 422, "required", "commission_rate"},
		{"negative rate", "POST", "/api/v1/admin/brokers", `{"name":"B","commission_rate":"-1"}`, 422, "invalid_decimal", "commission_rate"},
		{"rate over 100", "POST", "/api/v1/admin/brokers", `{"name":"B","commission_rate":"100.5"}`, 422, "out_of_range", "commission_rate"},
		{"rate too precise", "POST", "/api/v1/admin/brokers", `{"name":"B","commission_rate":"0.12345"}`, 422, "too_precise", "commission_rate"},
		{"bad email", "POST", "/api/v1/admin/brokers", `{"name":"B","email":"Desk <d@b.example>","commission_rate":"1"}`, 422, "invalid_email", "email"},
		{"bad role", "PATCH", "/api/v1/admin/users/1", `{"role":"root"}`, 422, "invalid_role", "role"},
		{"not JSON", "POST", "/api/v1/admin/brokers", `name=B`, 400, "malformed_json", ""},
		{"bidi override in a name", "POST", "/api/v1/admin/brokers", `{"name":"Cheap \u202Eetarg","commission_rate":"1"}`, 422, "invalid_text", "name"},
		{"symbol folded from Unicode", "POST", "/api/v1/admin/companies", `{"symbol":"m\u017fft","name":"Look-alike"}`, 422, "invalid_symbol", "symbol"},
		{"name not UTF-8", "POST", "/api/v1/admin/companies", "{\"symbol\":\"ACME\",\"name\":\"Ac\xffme\"}", 400, "invalid_utf8", "name"},
	}
	for _, tc := range cases {
		r := admin.Do(tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		code, field := errorOf(t, r)
		require.Equal(t, tc.code, code, tc.name)
		require.Equal(t, tc.field, field, tc.name)
	}
	r := admin.Do("POST", "/api/v1/admin/companies", []byte(`symbol=ACME`), "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status)
	var list struct{ Companies, Brokers []any }
	admin.Do("GET", "/api/v1/admin/companies", nil).Decode(t, &list)
	admin.Do("GET", "/api/v1/admin/brokers", nil).Decode(t, &list)
	require.Empty(t, list.Companies)
	require.Empty(t, list.Brokers)
}

func TestTheLastAdminCanBeNeitherDemotedNorDeactivated(t *testing.T) {
	h := newHarness(t, 100)
	me, admin := h.adminAPI(t)
	path := "/api/v1/admin/users/" + strconv.FormatInt(me.ID, 10)
	for _, body := range []string{`{"role":"user"}`, `{"active":false}`, `{"role":"admin","active":false}`} {
		r := admin.Do("PATCH", path, body)
		require.Equal(t, http.StatusConflict, r.Status, body)
		code, _ := errorOf(t, r)
		require.Equal(t, "last_admin", code)
	}
	// The page says so too, and changes nothing.
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(me.Email, testPassword).status)
	p := b.post("/admin/users/"+strconv.FormatInt(me.ID, 10), url.Values{"role": {"user"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/admin/users", p.location)
	require.Contains(t, b.get("/admin/users").body, "that is the last active admin")
	u, err := h.db.UserByID(context.Background(), me.ID)
	require.NoError(t, err)
	require.Equal(t, store.RoleAdmin, u.Role)
	require.True(t, u.Active)

	// With a second admin, the first may step down, and then the second
	// is the last.
	other := h.account(t, store.RoleUser)
	r := admin.Do("PATCH", "/api/v1/admin/users/"+strconv.FormatInt(other.ID, 10), `{"role":"admin"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "admin", r.Map(t)["role"])
	r = admin.Do("PATCH", path, `{"role":"user"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusForbidden, admin.Do("GET", "/api/v1/admin/users", nil).Status, "a demoted admin's token is a user's at once")
	_, err = h.db.UpdateUser(context.Background(), other.Username, nil, new(bool))
	require.ErrorIs(t, err, store.ErrLastAdmin)
}

func TestDeactivationStopsSessionsAndTokensAtOnce(t *testing.T) {
	h := newHarness(t, 100)
	_, admin := h.adminAPI(t)
	adminPages := h.signedIn(t, store.RoleAdmin)

	for _, via := range []string{"api", "page"} {
		victim := h.account(t, store.RoleUser)
		b := h.browser(t)
		require.Equal(t, http.StatusSeeOther, b.login(victim.Email, testPassword).status)
		require.Equal(t, http.StatusOK, b.get("/").status)
		api := h.api.As(h.tokenFor(t, victim))
		require.Equal(t, http.StatusOK, api.Do("GET", "/api/v1/jobs", nil).Status)

		id := strconv.FormatInt(victim.ID, 10)
		if via == "api" {
			r := admin.Do("PATCH", "/api/v1/admin/users/"+id, `{"active":false}`)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			require.Equal(t, false, r.Map(t)["active"])
		} else {
			p := adminPages.post("/admin/users/"+id, url.Values{"active": {"false"}})
			require.Equal(t, http.StatusSeeOther, p.status)
			require.Contains(t, adminPages.get("/admin/users").body, "The account is updated.")
		}

		p := b.get("/")
		require.Equal(t, http.StatusSeeOther, p.status, via)
		require.True(t, strings.HasPrefix(p.location, "/login"), via)
		require.Equal(t, http.StatusUnauthorized, api.Do("GET", "/api/v1/jobs", nil).Status, via)
		// Reactivated, the token works again; the ended session does not.
		r := admin.Do("PATCH", "/api/v1/admin/users/"+id, `{"active":true}`)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, http.StatusOK, api.Do("GET", "/api/v1/jobs", nil).Status, via)
		require.Equal(t, http.StatusSeeOther, b.get("/").status, via)
	}
}

func TestAdminOverviewFigures(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	brk := seedMarket(t, h.db)
	attack := `<script>alert("co")</script>`
	_, err := h.db.CreateCompany(ctx, store.Company{Symbol: "XSS", Name: attack})
	require.NoError(t, err)
	trader := h.account(t, store.RoleUser)
	idle := h.account(t, store.RoleUser)
	_, err = h.db.UpdateUser(ctx, idle.Username, nil, new(bool))
	require.NoError(t, err)

	dec := decimal.RequireFromString
	order := func(side, symbol, qty, price string, broker int64) {
		t.Helper()
		_, _, err := h.db.PlaceOrder(ctx, store.Order{UserID: trader.ID, Symbol: symbol, Side: side,
			Quantity: dec(qty), Quote: portfolio.Quote{Price: dec(price)}, BrokerID: broker})
		require.NoError(t, err)
	}
	_, _, err = h.db.Deposit(ctx, trader.ID, dec("10000.00"), store.Idempotency{})
	require.NoError(t, err)
	order("buy", "MSFT", "10", "100.00", brk.thrifty.ID)             // 1000.00, commission 0.10 % = 1.00
	order("buy", "IBM", "5", "50.00", brk.full.ID)                   // 250.00, 0.25 % = 0.625 → 0.63
	order("sell", "MSFT", "4", "110.00", brk.thrifty.ID)             // 440.00, 0.44
	order("buy", "XSS", "1", "12.34", brk.thrifty.ID)                // 12.34, 0.01234 → 0.01
	_, err = h.db.RecordDividend(ctx, trader.ID, "IBM", dec("0.50")) // 5 × 0.50 = 2.50
	require.NoError(t, err)

	admin := h.signedIn(t, store.RoleAdmin)
	st, err := h.db.PlatformStats(ctx)
	require.NoError(t, err)
	// Users: the harness's token user, trader, idle and the admin.
	require.Equal(t, []int64{4, 3, 2, 3, 6}, []int64{st.Users, st.ActiveUsers, st.Brokers, st.Companies, st.Transactions})
	require.Equal(t, "2.08", st.Commission.StringFixed(2))
	require.Equal(t, "1702.34", st.Volume.StringFixed(2))
	var byType []string
	for _, tc := range st.ByType {
		byType = append(byType, tc.Type+" "+strconv.FormatInt(tc.Count, 10)+" "+tc.Total.StringFixed(2))
	}
	require.Equal(t, []string{"BUY 3 1262.34", "SELL 1 440.00", "DIVIDEND 1 2.50", "DEPOSIT 1 10000.00"}, byType)
	var top []string
	for _, s := range st.TopSymbols {
		top = append(top, s.Symbol+" "+s.Value.StringFixed(2))
	}
	require.Equal(t, []string{"MSFT 1440.00", "IBM 250.00", "XSS 12.34"}, top)

	p := admin.get("/admin")
	require.Equal(t, http.StatusOK, p.status)
	for _, want := range []string{"4 (3 active)", "$1,702.34", "$2.08", "$1,262.34", "$1,440.00", "&lt;script&gt;alert(&#34;co&#34;)&lt;/script&gt;"} {
		require.Contains(t, p.body, want)
	}
	require.NotContains(t, p.body, attack)
	p = admin.get("/admin/companies")
	require.Contains(t, p.body, "&lt;script&gt;alert(&#34;co&#34;)&lt;/script&gt;")
	require.NotContains(t, p.body, attack)
}

func TestAdminFormsManageTheCatalogue(t *testing.T) {
	h := newHarness(t, 100)
	admin := h.signedIn(t, store.RoleAdmin)
	attack := `<img src=x onerror=alert(1)>`

	p := admin.post("/admin/companies", url.Values{"symbol": {"acme"}, "name": {attack}, "exchange": {"NYSE"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/admin/companies", p.location)
	p = admin.get("/admin/companies")
	require.Contains(t, p.body, "The company ACME is added.")
	require.Contains(t, p.body, "&lt;img src=x onerror=alert(1)&gt;")
	require.NotContains(t, p.body, attack)
	co, err := h.db.CompanyBySymbol(context.Background(), "ACME")
	require.NoError(t, err)

	p = admin.post("/admin/companies", url.Values{"symbol": {"ACME"}, "name": {"Again"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, admin.get("/admin/companies").body, "Not saved: one with that name or symbol already exists.")
	p = admin.post("/admin/companies", url.Values{"symbol": {"A B"}, "name": {"Bad"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, admin.get("/admin/companies").body, "Not saved: symbol must be a ticker symbol")

	p = admin.post("/admin/companies/"+strconv.FormatInt(co.ID, 10), url.Values{"active": {"false"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	co, err = h.db.CompanyBySymbol(context.Background(), "ACME")
	require.NoError(t, err)
	require.False(t, co.Active)

	p = admin.post("/admin/brokers", url.Values{"name": {"Desk"}, "email": {""}, "commission_rate": {"0.30"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	brokers, err := h.db.Brokers(context.Background())
	require.NoError(t, err)
	require.Len(t, brokers, 1)
	require.Equal(t, "0.3", brokers[0].CommissionRate.String())
	id := strconv.FormatInt(brokers[0].ID, 10)
	p = admin.post("/admin/brokers/"+id, url.Values{"commission_rate": {"250"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, admin.get("/admin/brokers").body, "Not saved: commission_rate may be at most 100.")
	p = admin.post("/admin/brokers/"+id, url.Values{"commission_rate": {"0.2"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	p = admin.post("/admin/brokers/"+id, url.Values{"active": {"false"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	brokers, err = h.db.Brokers(context.Background())
	require.NoError(t, err)
	require.Equal(t, "0.2", brokers[0].CommissionRate.String())
	require.False(t, brokers[0].Active)
}

func TestQueuePanelRetriesDeletesAndPauses(t *testing.T) {
	h := newHarness(t, 100)
	admin := h.signedIn(t, store.RoleAdmin)
	inspector := asynq.NewInspectorFromRedisClient(h.rdb)

	// A job whose task has run out of attempts.
	resp := h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, http.StatusAccepted, resp.Status)
	id := uuid.MustParse(resp.Map(t)["id"].(string))
	queue := resp.Map(t)["queue"].(string)
	require.NoError(t, inspector.ArchiveTask(queue, id.String()))

	p := admin.get("/admin/queues")
	require.Equal(t, http.StatusOK, p.status)
	jobLink := `href="/admin/jobs/` + id.String() + `"`
	require.Contains(t, p.body, jobLink)
	run := "/admin/queues/" + queue + "/tasks/" + id.String() + "/run"
	del := "/admin/queues/" + queue + "/tasks/" + id.String() + "/delete"
	require.Contains(t, p.body, `action="`+run+`"`)
	require.Contains(t, p.body, `action="`+del+`"`)

	// The link leads to the job, any user's, for the admin.
	jp := admin.get("/admin/jobs/" + id.String())
	require.Equal(t, http.StatusOK, jp.status)
	require.Contains(t, jp.body, "archived")
	require.Contains(t, jp.body, "MSFT")

	// Retry moves it to pending and reopens its failed job, which a worker
	// would otherwise skip as finished.
	ctx := context.Background()
	require.NoError(t, h.db.CloseJob(ctx, id, "gave up after retries: boom"))
	p = admin.post(run, nil)
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/admin/queues", p.location)
	info, err := h.queue.Task(queue, id)
	require.NoError(t, err)
	require.Equal(t, "pending", info.State.String())
	job, err := h.db.Job(ctx, id, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, job.Status)
	require.Empty(t, job.Error)
	require.Nil(t, job.FinishedAt)
	p = admin.get("/admin/queues")
	require.Contains(t, p.body, "The task is pending again")
	require.NotContains(t, p.body, jobLink)

	// A job that succeeded is not run again: its task stays archived.
	require.NoError(t, inspector.ArchiveTask(queue, id.String()))
	started, err := h.db.StartJob(ctx, id, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, nil, ""))
	require.Equal(t, http.StatusSeeOther, admin.post(run, nil).status)
	require.Contains(t, admin.get("/admin/queues").body, "Not retried: its job has succeeded or was canceled.")
	info, err = h.queue.Task(queue, id)
	require.NoError(t, err)
	require.Equal(t, "archived", info.State.String())

	// Delete removes it for good.
	require.Equal(t, http.StatusSeeOther, admin.post(del, nil).status)
	_, err = h.queue.Task(queue, id)
	require.ErrorIs(t, err, jobs.ErrNoTask)
	require.Equal(t, http.StatusNotFound, admin.post(del, nil).status, "it is gone")
	require.Contains(t, admin.get("/admin/queues").body, "No task is waiting for a retry or archived.")

	// Deleting the task of a job still live closes the job, or the
	// reconciler would enqueue it again.
	resp = h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"IBM","models":["linreg"]}`)
	live := uuid.MustParse(resp.Map(t)["id"].(string))
	require.NoError(t, inspector.ArchiveTask(queue, live.String()))
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/queues/"+queue+"/tasks/"+live.String()+"/delete", nil).status)
	job, err = h.db.Job(ctx, live, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, job.Status)
	require.Equal(t, "an administrator deleted its task", job.Error)

	// Pause and resume change the queue's state.
	paused := func() bool {
		qi, err := inspector.GetQueueInfo(queue)
		require.NoError(t, err)
		return qi.Paused
	}
	require.False(t, paused())
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/queues/"+queue+"/pause", nil).status)
	require.True(t, paused())
	p = admin.get("/admin/queues")
	require.Contains(t, p.body, `action="/admin/queues/`+queue+`/resume"`)
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/queues/"+queue+"/pause", nil).status, "pausing twice is no error")
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/queues/"+queue+"/resume", nil).status)
	require.False(t, paused())
}

// TestAdminQueuePauseIsAuditedWithTheAdmin: pausing or resuming a queue
// stops or restarts work for everyone, so the audit trail names who did it.
func TestAdminQueuePauseIsAuditedWithTheAdmin(t *testing.T) {
	h := newHarness(t, 100)
	admin := h.account(t, store.RoleAdmin)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(admin.Email, testPassword).status)
	for _, action := range []string{"pause", "resume"} {
		require.Equal(t, http.StatusSeeOther, b.post("/admin/queues/default/"+action, nil).status)
	}
	for _, action := range []audit.Action{audit.QueuePause, audit.QueueResume} {
		rows := auditEntries(t, h, action, admin.Email)
		require.Len(t, rows, 1, action)
		require.Equal(t, "queue:default", rows[0].Target)
		require.EqualValues(t, admin.ID, *rows[0].ActorID)
	}
}
