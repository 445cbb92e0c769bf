package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// TestWatchlistsAPI: a watchlist's tickers are checked as a prediction's,
// and every refusal names its field.
func TestWatchlistsAPI(t *testing.T) {
	h := newHarness(t, 100)
	created := h.api.Do(http.MethodPost, "/api/v1/watchlists", `{"name":" Dow ","tickers":["msft","IBM","MSFT"]}`)
	require.Equal(t, http.StatusCreated, created.Status, "%s", created.Body)
	list := created.Map(t)
	require.Equal(t, "Dow", list["name"])
	require.Equal(t, []any{"MSFT", "IBM"}, list["tickers"], "upper-cased, repeats dropped")
	path := fmt.Sprintf("/api/v1/watchlists/%v", list["id"])
	require.Equal(t, path, created.Header.Get("Location"))

	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"name":"x","tickers":["MSFT","BAD TICKER"]}`, http.StatusUnprocessableEntity, "tickers[1]"},
		{`{"name":"x","tickers":[]}`, http.StatusUnprocessableEntity, "tickers"},
		{`{"name":"","tickers":["KO"]}`, http.StatusUnprocessableEntity, "name"},
		{`{"name":"` + strings.Repeat("n", 65) + `","tickers":["KO"]}`, http.StatusUnprocessableEntity, "name"},
		{`{"name":"dow","tickers":["KO"]}`, http.StatusConflict, "name"},
		{`{"name":"x","tickers":["KO"],"extra":1}`, http.StatusUnprocessableEntity, "extra"},
	} {
		resp := h.api.Do(http.MethodPost, "/api/v1/watchlists", tc.body)
		require.Equal(t, tc.status, resp.Status, "%s: %s", tc.body, resp.Body)
		require.Equal(t, tc.field, resp.Map(t)["error"].(map[string]any)["field"], tc.body)
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("T%d", i)
	}
	resp := h.api.Do(http.MethodPost, "/api/v1/watchlists", map[string]any{"name": "all", "tickers": many})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)

	updated := h.api.Do(http.MethodPut, path, `{"name":"Dow 2","tickers":["KO"]}`)
	require.Equal(t, http.StatusOK, updated.Status, "%s", updated.Body)
	require.Equal(t, []any{"KO"}, updated.Map(t)["tickers"])
	other := h.api.As(dbtest.Token(t, h.db))
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodGet, path, nil).Status, "another user's list is not found")
	require.Equal(t, http.StatusBadRequest, h.api.Do(http.MethodGet, "/api/v1/watchlists/abc", nil).Status)
	require.Equal(t, http.StatusNoContent, h.api.Do(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNotFound, h.api.Do(http.MethodGet, path, nil).Status)
}

// TestBatchesAPI: a batch of a watchlist makes a job per ticker, counts
// as its jobs against the cap, shows its progress and rows, and cancels
// all its unfinished jobs at once.
func TestBatchesAPI(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{maxUnfinished: 5, dispatchedPerUser: 1})
	list := h.api.Do(http.MethodPost, "/api/v1/watchlists", `{"name":"four","tickers":["MSFT","IBM","KO","AA"]}`).Map(t)

	for _, tc := range []struct {
		body  string
		field string
	}{
		{fmt.Sprintf(`{"watchlist_id":%v,"tickers":["KO"]}`, list["id"]), "tickers"},
		{`{"watchlist_id":999999}`, "watchlist_id"},
		{`{}`, "tickers"},
		{`{"tickers":["KO"],"models":["nope"]}`, "models"},
	} {
		resp := h.api.Do(http.MethodPost, "/api/v1/batches", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", tc.body, resp.Body)
		require.Equal(t, tc.field, resp.Map(t)["error"].(map[string]any)["field"], tc.body)
	}

	resp := h.api.Do(http.MethodPost, "/api/v1/batches", fmt.Sprintf(`{"watchlist_id":%v,"models":["linreg"]}`, list["id"]))
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	batch := resp.Map(t)
	path := resp.Header.Get("Location")
	require.Equal(t, "/api/v1/batches/"+batch["id"].(string), path)
	require.Equal(t, "running", batch["status"])
	require.EqualValues(t, 4, batch["progress"].(map[string]any)["queued"])

	// Four unfinished and two more is past the cap of five: nothing is
	// stored.
	resp = h.api.Do(http.MethodPost, "/api/v1/batches", `{"tickers":["GE","GM"],"models":["linreg"]}`)
	require.Equal(t, http.StatusTooManyRequests, resp.Status, "%s", resp.Body)
	require.Equal(t, "too_many_unfinished", resp.Map(t)["error"].(map[string]any)["code"])
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	got := h.api.Do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	rows := got.Map(t)["rows"].([]any)
	require.Len(t, rows, 4)
	var tickers []string
	held := 0
	for _, r := range rows {
		row := r.(map[string]any)
		tickers = append(tickers, row["ticker"].(string))
		job := h.api.Do(http.MethodGet, row["link"].(string), nil).Map(t)
		require.Equal(t, "low", job["queue"], "a batch's jobs run on the batch queue")
		if job["waiting_for_turn"] == true {
			held++
		}
	}
	require.Equal(t, []string{"MSFT", "IBM", "KO", "AA"}, tickers, "in the watchlist's order")
	require.Equal(t, 3, held, "one job in the line, the others wait for the user's turns")

	other := h.api.As(dbtest.Token(t, h.db))
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodGet, path, nil).Status)
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodPost, path+"/cancel", nil).Status)

	canceled := h.api.Do(http.MethodPost, path+"/cancel", nil)
	require.Equal(t, http.StatusOK, canceled.Status, "%s", canceled.Body)
	view := canceled.Map(t)
	require.Equal(t, "canceled", view["status"])
	require.EqualValues(t, 4, view["progress"].(map[string]any)["canceled"])
	list2 := h.api.Do(http.MethodGet, "/api/v1/batches", nil)
	require.Equal(t, http.StatusOK, list2.Status)
	require.Len(t, list2.Map(t)["batches"], 1)

	// The cap has room again.
	resp = h.api.Do(http.MethodPost, "/api/v1/batches", `{"tickers":["GE","GM"],"models":["linreg"]}`)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	require.EqualValues(t, 2, resp.Map(t)["progress"].(map[string]any)["queued"])
}

// TestWatchlistPages: a watchlist made with the page's form is listed with
// its Run form; a refused form says why and keeps what was typed; a
// batch's page shows a row per ticker, linked to its job, with Cancel
// while it runs; another user's batch page is a 404.
func TestWatchlistPages(t *testing.T) {
	h := newHarness(t, 100)
	u := h.account(t, store.RoleUser)
	b := h.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(u.Email, testPassword).status)
	saved := b.post("/watchlists", url.Values{"name": {"Tech"}, "tickers": {"msft, ibm\nINTC"}})
	require.Equal(t, http.StatusSeeOther, saved.status, saved.body)
	page := b.get("/watchlists")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "Watchlist Tech saved.")
	require.Contains(t, page.body, `<span class="ticker">INTC</span>`)
	require.Contains(t, page.body, "Run 3 forecasts")

	refused := b.post("/watchlists", url.Values{"name": {"Bad"}, "tickers": {"MSFT <b>x</b>"}})
	require.Equal(t, http.StatusUnprocessableEntity, refused.status)
	require.Contains(t, refused.body, "&#34;&lt;b&gt;x&lt;/b&gt;&#34; is not a ticker")
	require.Contains(t, refused.body, "MSFT &lt;b&gt;x&lt;/b&gt;", "what was typed comes back, escaped")

	id := h.submitAs(t, b, "/api/v1/batches", `{"tickers":["MSFT","IBM"],"models":["linreg"]}`)
	page = b.get("/batches/" + id)
	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, "Batch of 2 tickers")
	require.Contains(t, page.body, `action="/batches/`+id+`/cancel"`)
	require.Equal(t, 2, strings.Count(page.body, `<a href="/jobs/`))

	// A finished ticker shows its advice and each model's last forecast.
	rows, err := h.db.BatchRows(context.Background(), uuid.MustParse(id), u.ID)
	require.NoError(t, err)
	started, err := h.db.StartJob(context.Background(), rows[0].JobID, "worker-p", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(context.Background(), started.Attempt(), store.StatusSucceeded,
		store.JSON(`{"last_close":42.5,"recommendation":{"action":"BUY"},"models":{"linreg":{"forecast":[43,43.25],"verdict":"beats persistence","beats_persistence":true}}}`), ""))
	page = b.get("/batches/" + id)
	require.Contains(t, page.body, "<strong>BUY</strong>")
	require.Contains(t, page.body, "linreg 43.25")
	require.Contains(t, page.body, "42.50")

	canceled := b.post("/batches/"+id+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, canceled.status)
	page = b.get("/batches/" + id)
	require.Contains(t, page.body, "canceled")
	require.NotContains(t, page.body, `action="/batches/`+id+`/cancel"`)

	stranger := h.signedIn(t, store.RoleUser)
	require.Equal(t, http.StatusNotFound, stranger.get("/batches/"+id).status)
	require.Equal(t, http.StatusNotFound, stranger.get("/batches/not-a-uuid").status)
}

// TestSchedulesAPI: a schedule of the user's watchlist shows its next run
// in UTC and on its own clock; bad cron, zone or watchlist are 422s naming
// the field; pause and resume; the admin lists everyone's.
func TestSchedulesAPI(t *testing.T) {
	h := newHarness(t, 100)
	list := h.api.Do(http.MethodPost, "/api/v1/watchlists", `{"name":"nyse","tickers":["MSFT"]}`).Map(t)
	for _, tc := range []struct{ body, field string }{
		{fmt.Sprintf(`{"watchlist_id":%v,"cron":"* * * * *"}`, list["id"]), "cron"},
		{fmt.Sprintf(`{"watchlist_id":%v,"cron":"30 17 * * 1-5","time_zone":"Nowhere/City"}`, list["id"]), "time_zone"},
		{`{"watchlist_id":999999,"cron":"30 17 * * 1-5"}`, "watchlist_id"},
		{`{"cron":"30 17 * * 1-5"}`, "watchlist_id"},
		{fmt.Sprintf(`{"watchlist_id":%v,"cron":"30 17 * * 1-5","models":["nope"]}`, list["id"]), "models"},
	} {
		resp := h.api.Do(http.MethodPost, "/api/v1/schedules", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", tc.body, resp.Body)
		require.Equal(t, tc.field, resp.Map(t)["error"].(map[string]any)["field"], tc.body)
	}
	resp := h.api.Do(http.MethodPost, "/api/v1/schedules",
		fmt.Sprintf(`{"watchlist_id":%v,"cron":"30 17 * * 1-5","time_zone":"America/New_York","models":["linreg"]}`, list["id"]))
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	sched := resp.Map(t)
	next, err := time.Parse(time.RFC3339, sched["next_run_at"].(string))
	require.NoError(t, err)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	require.Equal(t, "17:30", next.In(ny).Format("15:04"))
	require.True(t, next.After(time.Now()))
	require.Contains(t, sched["next_run_local"], "17:30 E", "EST or EDT")
	path := resp.Header.Get("Location")

	paused := h.api.Do(http.MethodPost, path+"/pause", nil)
	require.Equal(t, http.StatusOK, paused.Status, "%s", paused.Body)
	require.Equal(t, true, paused.Map(t)["paused"])
	resumed := h.api.Do(http.MethodPost, path+"/resume", nil)
	require.Equal(t, false, resumed.Map(t)["paused"])

	require.Equal(t, http.StatusNotFound, h.api.As(dbtest.Token(t, h.db)).Do(http.MethodGet, path, nil).Status)
	_, admin := h.adminAPI(t)
	all := admin.Do(http.MethodGet, "/api/v1/admin/schedules", nil)
	require.Equal(t, http.StatusOK, all.Status)
	require.Len(t, all.Map(t)["schedules"], 1)
	require.Equal(t, http.StatusNoContent, h.api.Do(http.MethodDelete, path, nil).Status)
}

// TestABatchTellsItsWebhook: a batch naming the caller's webhook endpoint
// has every job tell it of its end; another user's endpoint is a 422.
func TestABatchTellsItsWebhook(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	hook := h.api.Do(http.MethodPost, "/api/v1/webhooks", `{"url":"https://example.com/augur-hook","events":["completed"]}`)
	require.Equal(t, http.StatusCreated, hook.Status, "%s", hook.Body)
	endpoint := hook.Map(t)["id"].(string)

	other := h.api.As(dbtest.Token(t, h.db))
	refused := other.Do(http.MethodPost, "/api/v1/batches", `{"tickers":["MSFT"],"models":["linreg"],"webhook":"`+endpoint+`"}`)
	require.Equal(t, http.StatusUnprocessableEntity, refused.Status, "%s", refused.Body)
	require.Equal(t, "webhook", refused.Map(t)["error"].(map[string]any)["field"])

	resp := h.api.Do(http.MethodPost, "/api/v1/batches", `{"tickers":["MSFT","KO"],"models":["linreg"],"webhook":"`+endpoint+`"}`)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	got := h.api.Do(http.MethodGet, resp.Header.Get("Location"), nil).Map(t)
	first := uuid.MustParse(got["rows"].([]any)[0].(map[string]any)["job_id"].(string))
	started, err := h.db.StartJob(ctx, first, "worker-w", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))
	pending, err := h.db.PendingWebhookDeliveries(ctx, first)
	require.NoError(t, err)
	require.Len(t, pending, 1, "the batch's job told the endpoint of its end")
}
