package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/apitest"
	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/api"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// harness is a web server on the real PostgreSQL and Redis, with no worker:
// what these tests check happens before any job runs.
type harness struct {
	db    *store.DB
	queue *jobs.Queue
	rdb   *redis.Client // asynq's Redis, for tests that set tasks' states
	api   *apitest.Client
	url   string
	token string // the API client's
	// tokensLive reports whether the server's API token cache is live.
	tokensLive func() bool
}

func newHarness(t *testing.T, submitPerMinute int) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{submitPerMinute: submitPerMinute})
}

// harnessOptions vary the harness; zero values take the defaults.
type harnessOptions struct {
	db                 *store.DB              // default: the test's own database
	redis              *redis.Client          // default: the test's Redis, flushed
	submitPerMinute    int                    // default 100
	maxUnfinished      int                    // default 1000
	interactivePerUser int                    // default 1000
	dispatchedPerUser  int                    // default 0: no turns, every job in Redis at once
	streamsPerUser     int                    // default 1000
	streamsMax         int                    // default 1000
	prices             portfolio.Prices       // default: the bundled sample's closes
	tune               func(*kernel.Accounts) // changes the sign-in settings
	siem               io.Writer              // takes the audit trail's JSON lines
	logs               io.Writer              // also receives the server's logs
}

func newHarnessWith(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	db := o.db
	if db == nil {
		db = dbtest.Postgres(t, "web")
	}
	for _, v := range []*int{&o.submitPerMinute, &o.maxUnfinished, &o.interactivePerUser, &o.streamsPerUser, &o.streamsMax} {
		if *v == 0 {
			*v = 1000
		}
	}
	if o.prices == nil {
		o.prices = samplePrices(t)
	}
	rdb := o.redis
	if rdb == nil {
		rdb = dbtest.Redis(t)
	}
	queue := jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})
	space := keyspace.Of(keyspace.DefaultPrefix, rdb)
	accounts := kernel.Accounts{
		Store:    db.SessionStore(0),
		Lifetime: time.Hour, IdleTimeout: time.Hour,
		SecretKey:           "test-secret",
		LoginPerMinutePerIP: 1000, LoginPerHourPerAccount: 1000,
		// The tests' requests all come from loopback; trusting it lets
		// them play clients at other addresses with X-Forwarded-For.
		TrustedProxies: []string{"127.0.0.1"},
		// Passkeys need a domain; the browser test, which can make one,
		// signs in at localhost.
		WebAuthnRPID: "localhost", WebAuthnOrigins: []string{"http://localhost"},
		Hashing: auth.NewHashing(4, time.Minute),
	}
	if o.tune != nil {
		o.tune(&accounts)
	}
	var logs io.Writer = testWriter{t}
	if o.logs != nil {
		logs = io.MultiWriter(logs, o.logs)
	}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	handler, tokensLive, err := web.NewReplica(web.Deps{
		Kernel: kernel.Config{
			DB:             db,
			Redis:          rdb,
			Queue:          queue,
			Events:         jobs.NewEvents(rdb, space),
			Keyspace:       space,
			Prices:         o.prices,
			Logger:         logger,
			Registry:       prometheus.NewRegistry(),
			Audit:          audit.New(db, logger, o.siem),
			StreamsPerUser: o.streamsPerUser,
			StreamsMax:     o.streamsMax,
			Accounts:       accounts,
		},
		API: api.Config{
			KnownModel:             registry.Known,
			Presets:                []string{"hft", "retail"},
			SubmitPerMinute:        o.submitPerMinute,
			MaxUnfinishedJobs:      o.maxUnfinished,
			InteractiveJobsPerUser: o.interactivePerUser,
			DispatchedJobsPerUser:  o.dispatchedPerUser,
		},
	})
	require.NoError(t, err)
	t.Cleanup(handler.Close)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	token := dbtest.Token(t, db)
	return &harness{db: db, queue: queue, rdb: rdb, url: srv.URL, token: token, api: apitest.New(t, srv.URL, token), tokensLive: tokensLive}
}

func TestAPINeedsABearerToken(t *testing.T) {
	h := newHarness(t, 100)
	for _, header := range []string{"", "Basic Zm9vOmJhcg==", "Bearer", "Bearer aug_unknown"} {
		req, err := http.NewRequest(http.MethodGet, h.url+"/api/v1/jobs", nil)
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, header)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
		require.Contains(t, string(body), `"code":"unauthorized"`)
	}
	// The anonymous client checks the same answer against the contract.
	anon := h.api.As("")
	require.Equal(t, http.StatusUnauthorized, anon.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT"}`).Status)
}

func TestEveryValidationError(t *testing.T) {
	h := newHarness(t, 1000)
	big := `{"ticker":"MSFT","texts":["` + strings.Repeat("a", 70<<10) + `"]}`
	cases := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"malformed json", "/api/v1/predictions", `{"ticker":`, 400, "malformed_json", ""},
		{"not an object", "/api/v1/predictions", `[1,2]`, 422, "wrong_type", ""},
		{"empty body", "/api/v1/predictions", ``, 400, "malformed_json", ""},
		{"trailing data", "/api/v1/predictions", `{"ticker":"MSFT"} {}`, 400, "malformed_json", ""},
		{"body over 64 KiB", "/api/v1/sentiment", big, 400, "body_too_large", ""},
		{"unknown field", "/api/v1/predictions", `{"ticker":"MSFT","model":"linreg"}`, 422, "unknown_field", "model"},
		{"wrong type", "/api/v1/predictions", `{"ticker":"MSFT","horizon":"7"}`, 422, "wrong_type", "horizon"},
		{"models not a list", "/api/v1/predictions", `{"ticker":"MSFT","models":"linreg"}`, 422, "wrong_type", "models"},
		{"missing ticker", "/api/v1/predictions", `{"models":["linreg"]}`, 422, "required", "ticker"},
		{"bad ticker", "/api/v1/predictions", `{"ticker":"MS FT"}`, 422, "invalid_ticker", "ticker"},
		{"ticker too long", "/api/v1/predictions", `{"ticker":"ABCDEFGHIJKLMNOP"}`, 422, "invalid_ticker", "ticker"},
		{"ticker of dots", "/api/v1/predictions", `{"ticker":".."}`, 422, "invalid_ticker", "ticker"},
		{"ticker with slash", "/api/v1/predictions", `{"ticker":"../etc"}`, 422, "invalid_ticker", "ticker"},
		{"ticker of carets", "/api/v1/predictions", `{"ticker":"^^^^"}`, 422, "invalid_ticker", "ticker"},
		{"unknown model", "/api/v1/predictions", `{"ticker":"MSFT","models":["prophet"]}`, 422, "unknown_model", "models"},
		{"horizon too far", "/api/v1/predictions", `{"ticker":"MSFT","horizon":31}`, 422, "out_of_range", "horizon"},
		{"lookback too short", "/api/v1/predictions", `{"ticker":"MSFT","lookback":10}`, 422, "out_of_range", "lookback"},
		{"lookback too long", "/api/v1/predictions", `{"ticker":"MSFT","lookback":30000}`, 422, "out_of_range", "lookback"},
		{"negative horizon", "/api/v1/predictions", `{"ticker":"MSFT","horizon":-1}`, 422, "out_of_range", "horizon"},
		{"unknown preset", "/api/v1/predictions", `{"ticker":"MSFT","sentiment":true,"preset":"yolo"}`, 422, "unknown_preset", "preset"},
		{"unknown recommendation", "/api/v1/predictions", `{"ticker":"MSFT","recommendation":"gut"}`, 422, "unknown_mode", "recommendation"},
		{"classic without linreg", "/api/v1/predictions", `{"ticker":"MSFT","models":["lstm"],"recommendation":"classic"}`, 422, "needs_linreg", "recommendation"},
		{"unknown priority", "/api/v1/predictions", `{"ticker":"MSFT","priority":"urgent"}`, 422, "invalid_priority", "priority"},
		{"unknown lstm mode", "/api/v1/predictions", `{"ticker":"MSFT","lstm_mode":"fancy"}`, 422, "unknown_mode", "lstm_mode"},
		{"unknown bands", "/api/v1/predictions", `{"ticker":"MSFT","bands":"bollinger"}`, 422, "unknown_bands", "bands"},
		{"evaluation without origins", "/api/v1/predictions", `{"ticker":"MSFT","evaluation":{}}`, 422, "out_of_range", "evaluation.origins"},
		{"evaluation unknown field", "/api/v1/predictions", `{"ticker":"MSFT","evaluation":{"origins":3,"folds":2}}`, 422, "unknown_field", "evaluation.folds"},
		{"evaluation wrong type", "/api/v1/predictions", `{"ticker":"MSFT","evaluation":{"origins":"3"}}`, 422, "wrong_type", "evaluation.origins"},
		{"evaluation lstm refits", "/api/v1/predictions", `{"ticker":"MSFT","models":["lstm"],"evaluation":{"origins":11}}`, 422, "too_many", "evaluation.origins"},
		{"evaluation window", "/api/v1/predictions", `{"ticker":"MSFT","evaluation":{"origins":3,"window":"rolling"}}`, 422, "unknown_window", "evaluation.window"},
		{"evaluation beyond lookback", "/api/v1/predictions", `{"ticker":"MSFT","models":["arima"],"lookback":100,"evaluation":{"origins":10,"step":5}}`, 422, "too_long", "evaluation.origins"},
		{"sentiment with nothing", "/api/v1/sentiment", `{}`, 422, "required", "ticker"},
		{"sentiment bad ticker", "/api/v1/sentiment", `{"ticker":"$$$"}`, 422, "invalid_ticker", "ticker"},
		{"empty text", "/api/v1/sentiment", `{"texts":["ok","  "]}`, 422, "empty", "texts[1]"},
		{"text too long", "/api/v1/sentiment", `{"texts":["` + strings.Repeat("b", 1001) + `"]}`, 422, "too_long", "texts[0]"},
		{"too many texts", "/api/v1/sentiment", `{"texts":[` + strings.Repeat(`"x",`, 100) + `"x"]}`, 422, "too_many", "texts"},
		{"num_articles out of range", "/api/v1/sentiment", `{"ticker":"MSFT","num_articles":1000}`, 422, "out_of_range", "num_articles"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.api.Do(http.MethodPost, tc.path, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			var body struct {
				Error struct{ Code, Message, Field string }
			}
			resp.Decode(t, &body)
			require.Equal(t, tc.code, body.Error.Code, "%s", resp.Body)
			require.Equal(t, tc.field, body.Error.Field)
			require.NotEmpty(t, body.Error.Message)
		})
	}

	list := h.api.Do(http.MethodGet, "/api/v1/jobs", nil)
	require.Empty(t, list.Map(t)["jobs"], "no invalid request may create a job")
}

func TestQueryAndPathValidation(t *testing.T) {
	h := newHarness(t, 100)
	cases := []struct {
		path        string
		status      int
		code, field string
	}{
		{"/api/v1/jobs?limit=0", 422, "out_of_range", "limit"},
		{"/api/v1/jobs?limit=101", 422, "out_of_range", "limit"},
		{"/api/v1/jobs?limit=ten", 422, "out_of_range", "limit"},
		{"/api/v1/jobs?cursor=%21%21", 400, "invalid_cursor", "cursor"},
		{"/api/v1/jobs/not-a-uuid", 400, "invalid_id", "id"},
		{"/api/v1/jobs/6f1c1c56-3a55-4a56-9d7c-2d0e4a1f0c11", 404, "not_found", ""},
	}
	for _, tc := range cases {
		resp := h.api.Do(http.MethodGet, tc.path, nil)
		require.Equal(t, tc.status, resp.Status, "%s: %s", tc.path, resp.Body)
		m := resp.Map(t)["error"].(map[string]any)
		require.Equal(t, tc.code, m["code"], tc.path)
		if tc.field != "" {
			require.Equal(t, tc.field, m["field"], tc.path)
		}
	}
}

func TestSubmitStoresQueuesAndAnswers202(t *testing.T) {
	h := newHarness(t, 100)
	resp := h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"msft","models":["linreg","linreg"]}`)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	job := resp.Map(t)
	id := job["id"].(string)
	require.Equal(t, "/api/v1/jobs/"+id, resp.Header.Get("Location"))
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "queued", job["status"])
	require.Equal(t, "MSFT", job["ticker"])
	require.Equal(t, "critical", job["queue"])
	params := job["params"].(map[string]any)
	require.Equal(t, []any{"linreg"}, params["models"], "duplicates are dropped")
	require.EqualValues(t, 7, params["horizon"])

	info, err := h.queue.Task("critical", uuid.MustParse(id))
	require.NoError(t, err, "the task id is the job id")
	require.Equal(t, jobs.TypePrediction, info.Type)
	require.Equal(t, jobs.MaxRetry, info.MaxRetry)
	require.Equal(t, "pending", info.State.String())

	got := h.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, id, got.Map(t)["id"])
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t, 100)
	body := `{"ticker":"MSFT","models":["linreg"]}`
	first := h.api.Do(http.MethodPost, "/api/v1/predictions", body, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, first.Status)
	id := first.Map(t)["id"]

	// Same key, same request (spelled differently): the first answer again.
	again := h.api.Do(http.MethodPost, "/api/v1/predictions", `{ "models": ["linreg"], "ticker": "msft" }`, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, again.Status)
	require.Equal(t, id, again.Map(t)["id"])
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))

	// Same key, another request: refused, naming the header.
	changed := h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"AAPL","models":["linreg"]}`, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusUnprocessableEntity, changed.Status)
	require.Equal(t, "Idempotency-Key", changed.Map(t)["error"].(map[string]any)["field"])

	// Another user may use the same key for their own request.
	other := h.api.As(dbtest.Token(t, h.db))
	theirs := other.Do(http.MethodPost, "/api/v1/predictions", body, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, theirs.Status)
	require.NotEqual(t, id, theirs.Map(t)["id"])

	// One job each: the replay made none.
	require.Len(t, h.api.Do(http.MethodGet, "/api/v1/jobs", nil).Map(t)["jobs"], 1)
	require.Len(t, other.Do(http.MethodGet, "/api/v1/jobs", nil).Map(t)["jobs"], 1)
}

func TestJobsAreVisibleOnlyToTheirOwner(t *testing.T) {
	h := newHarness(t, 100)
	mine := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["great quarter"]}`)
	require.Equal(t, http.StatusAccepted, mine.Status)
	id := mine.Map(t)["id"].(string)

	other := h.api.As(dbtest.Token(t, h.db))
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/jobs/" + id},
		{http.MethodPost, "/api/v1/jobs/" + id + "/cancel"},
		{http.MethodGet, "/api/v1/jobs/" + id + "/events"},
	} {
		resp := other.Do(r.method, r.path, nil)
		require.Equal(t, http.StatusNotFound, resp.Status, r.path)
		require.Equal(t, map[string]any{"code": "not_found", "message": "no such job"}, resp.Map(t)["error"], r.path)
	}
	list := other.Do(http.MethodGet, "/api/v1/jobs", nil)
	require.Empty(t, list.Map(t)["jobs"])
}

func TestListIsNewestFirstWithCursor(t *testing.T) {
	h := newHarness(t, 100)
	api := h.api.As(dbtest.Token(t, h.db))
	var ids []string
	for i := 0; i < 5; i++ {
		resp := api.Do(http.MethodPost, "/api/v1/sentiment", map[string]any{"texts": []string{"text " + string(rune('a'+i))}})
		require.Equal(t, http.StatusAccepted, resp.Status)
		ids = append(ids, resp.Map(t)["id"].(string))
	}
	var seen []string
	path := "/api/v1/jobs?limit=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		page := api.Do(http.MethodGet, path, nil).Map(t)
		for _, j := range page["jobs"].([]any) {
			seen = append(seen, j.(map[string]any)["id"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		path = "/api/v1/jobs?limit=2&cursor=" + next
	}
	require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, seen)
}

func TestSubmitRateLimit(t *testing.T) {
	h := newHarness(t, 2)
	api := h.api.As(dbtest.Token(t, h.db))
	for i := 0; i < 2; i++ {
		require.Equal(t, http.StatusAccepted, api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["ok"]}`).Status)
	}
	resp := api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["ok"]}`)
	require.Equal(t, http.StatusTooManyRequests, resp.Status)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "rate_limited", resp.Map(t)["error"].(map[string]any)["code"])
}

func TestCancelQueuedJobRemovesItsTask(t *testing.T) {
	h := newHarness(t, 100)
	resp := h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	id := uuid.MustParse(resp.Map(t)["id"].(string))
	_, err := h.queue.Task("critical", id)
	require.NoError(t, err)

	canceled := h.api.Do(http.MethodPost, "/api/v1/jobs/"+id.String()+"/cancel", nil)
	require.Equal(t, http.StatusOK, canceled.Status, "%s", canceled.Body)
	require.Equal(t, "canceled", canceled.Map(t)["status"])
	_, err = h.queue.Task("critical", id)
	require.ErrorIs(t, err, jobs.ErrNoTask)

	again := h.api.Do(http.MethodPost, "/api/v1/jobs/"+id.String()+"/cancel", nil)
	require.Equal(t, http.StatusConflict, again.Status)
}

// rawPost posts a JSON body as the harness's user without the contract
// check, which must run on the test's goroutine; it returns the status.
func (h *harness) rawPost(t *testing.T, path, body string) int {
	req, err := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// testWriter sends the server's logs to the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestPagesAndAssets(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	page := b.get("/")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.header.Get("Content-Type"), "text/html")
	require.Contains(t, page.header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Equal(t, "DENY", page.header.Get("X-Frame-Options"))
	require.Empty(t, page.header.Get("Strict-Transport-Security"), "no HSTS for a plain-HTTP development site")
	require.Contains(t, page.body, `id="predict-form"`)
	require.NotContains(t, page.body, "token", "the paste-a-token box is gone")

	id := h.submitAs(t, b, "/api/v1/sentiment", `{"texts":["record profits"]}`)
	page = b.get("/jobs/" + id)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `data-job-id="`+id+`"`)
	// A job that does not exist is a 404 page, not an empty job page.
	require.Equal(t, http.StatusNotFound, b.get("/jobs/6f1c1c56-3a55-4a56-9d7c-2d0e4a1f0c11").status)

	page = b.get("/models")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `data-page="models"`)
	require.Contains(t, page.body, `id="leaderboard"`)

	page = b.get("/jobs/%3Cscript%3E")
	require.Equal(t, http.StatusNotFound, page.status)
	require.Contains(t, page.body, "No such job")

	anon := h.browser(t)
	for _, asset := range []string{"/static/app.js", "/static/app.css"} {
		page = anon.get(asset)
		require.Equal(t, http.StatusOK, page.status, asset)
		require.NotEmpty(t, page.body)
		require.Empty(t, page.header.Values("Set-Cookie"), "static files never touch the session")
	}
	page = anon.get("/openapi.yaml")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "openapi: 3.0.3")
	// The reference page renders that file with the vendored Redoc, linked
	// by hash like every asset (the browser test looks at it).
	page = anon.get("/docs")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `<redoc spec-url="/openapi.yaml"`)
	script := regexp.MustCompile(`src="(/static/redoc/redoc\.standalone\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page.body)
	require.NotNil(t, script, page.body)
	page = anon.get(script[1])
	require.Equal(t, http.StatusOK, page.status)
	require.Equal(t, "public, max-age=31536000, immutable", page.header.Get("Cache-Control"))
}
