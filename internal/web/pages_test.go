package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
)

// submitAs submits a job through the API with b's session, as the pages do,
// and returns its id.
func (h *harness) submitAs(t *testing.T, b *browser, path, body string) string {
	t.Helper()
	resp := h.api.As("").Do(http.MethodPost, path, body, "Cookie", web.SessionCookie+"="+b.session(), "Origin", h.url)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	return resp.Map(t)["id"].(string)
}

// refreshRE finds the reload a job page asks of a browser without scripts.
var refreshRE = regexp.MustCompile(`<noscript><meta http-equiv="refresh" content="\d+"></noscript>`)

func TestJobPageWorksWithoutScriptsUntilTheJobIsFinal(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	id := h.submitAs(t, b, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)

	p := b.get("/jobs/" + id)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "<title>Prediction · MSFT · Augur</title>")
	require.Regexp(t, refreshRE, p.body, "a live job's page reloads itself")
	require.Contains(t, p.body, `<span class="badge queued" id="job-status">queued</span>`)
	require.Contains(t, p.body, `<form method="post" action="/jobs/`+id+`/cancel" id="job-cancel-form" data-confirm="Cancel this job?">`)
	require.Contains(t, p.body, "Waiting for a worker")

	// Cancel is a plain form: it works without scripts, and comes back.
	c := b.post("/jobs/"+id+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, c.status)
	require.Equal(t, "/jobs/"+id, c.location)
	p = b.get("/jobs/" + id)
	require.Contains(t, p.body, "The job was canceled.")
	require.Contains(t, p.body, `<span class="badge canceled" id="job-status">canceled</span>`)
	require.NotRegexp(t, refreshRE, p.body, "a final job's page stays put")
	require.Contains(t, p.body, `id="job-cancel-form" data-confirm="Cancel this job?" hidden>`)
	require.Regexp(t, `id="job-progress"[^>]* hidden>`, p.body, "a canceled job shows no half-filled bar")

	// Canceling again says so, and changes nothing.
	require.Equal(t, http.StatusSeeOther, b.post("/jobs/"+id+"/cancel", nil).status)
	require.Contains(t, b.get("/jobs/"+id).body, "already finished")
}

func TestAJobWaitingForItsRetrySaysWhyAndWhen(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	id := h.submitAs(t, b, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	ctx := context.Background()
	jobID := uuid.MustParse(id)
	// An attempt made progress, then failed; asynq retries it in 40 s.
	attempt, err := h.db.StartJob(ctx, jobID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.SetProgress(ctx, attempt.Attempt(), 40, nil))
	retryAt := time.Now().Add(40 * time.Second).UTC().Truncate(time.Second)
	require.NoError(t, h.db.ReleaseJob(ctx, attempt.Attempt(), "prices: <upstream> timed out", retryAt))

	resp := h.api.As("").Do(http.MethodGet, "/api/v1/jobs/"+id, nil, "Cookie", web.SessionCookie+"="+b.session())
	require.Equal(t, http.StatusOK, resp.Status)
	job := resp.Map(t)
	require.Equal(t, "running", job["status"])
	require.Equal(t, map[string]any{"last_error": "prices: <upstream> timed out", "next_attempt_at": retryAt.Format(time.RFC3339)}, job["retry"])
	// Polling before the retry is pointless: the answer says how long to
	// wait, at most 10 s.
	require.Equal(t, "10", resp.Header.Get("Retry-After"))

	p := b.get("/jobs/" + id)
	require.Contains(t, p.body, "Attempt 1 failed: prices: &lt;upstream&gt; timed out · trying again at "+retryAt.Format("15:04:05")+" UTC (40%)")
	require.Contains(t, p.body, `<meta http-equiv="refresh" content="10">`)

	// Once the retry runs, the page and the API say it is running again,
	// and still what ended the attempt before.
	retry, err := h.db.StartJob(ctx, jobID, "worker-b", time.Minute)
	require.NoError(t, err)
	resp = h.api.As("").Do(http.MethodGet, "/api/v1/jobs/"+id, nil, "Cookie", web.SessionCookie+"="+b.session())
	require.Equal(t, map[string]any{"last_error": "prices: <upstream> timed out"}, resp.Map(t)["retry"])
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Contains(t, b.get("/jobs/"+id).body, "Running… (40%)")

	// A finished job has no retry to speak of.
	require.NoError(t, h.db.FinishJob(ctx, retry.Attempt(), store.StatusFailed, nil, "prices: <upstream> timed out"))
	require.NotContains(t, h.api.As("").Do(http.MethodGet, "/api/v1/jobs/"+id, nil, "Cookie", web.SessionCookie+"="+b.session()).Map(t), "retry")
}

func TestAFailedJobShowsItsErrorOnceAndNoProgressBar(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	id := h.submitAs(t, b, "/api/v1/sentiment", `{"ticker":"MSFT"}`)
	ctx := context.Background()
	started, err := h.db.StartJob(ctx, uuid.MustParse(id), "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.SetProgress(ctx, started.Attempt(), 40, nil))
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusFailed, nil, "every <news> source failed"))

	p := b.get("/jobs/" + id)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "<title>Sentiment · MSFT · Augur</title>")
	require.Regexp(t, `id="job-progress"[^>]* hidden>`, p.body)
	require.Equal(t, 1, strings.Count(p.body, "every &lt;news&gt; source failed"), "the error, escaped, once")
	require.NotRegexp(t, refreshRE, p.body)
}

func TestJobPagesOfOthersAndUnknownJobsAreNotFound(t *testing.T) {
	h := newHarness(t, 100)
	owner := h.signedIn(t, store.RoleUser)
	id := h.submitAs(t, owner, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	other := h.signedIn(t, store.RoleUser)
	for _, path := range []string{"/jobs/" + id, "/jobs/" + uuid.NewString(), "/jobs/not-a-job"} {
		p := other.get(path)
		require.Equal(t, http.StatusNotFound, p.status, path)
		require.Contains(t, p.body, "<title>No such job · Augur</title>", path)
		require.Contains(t, p.body, `<nav class="account"`, "the page is in the layout")
	}
	// Nor can another user cancel it.
	require.Equal(t, http.StatusNotFound, other.post("/jobs/"+id+"/cancel", nil).status)
	require.Regexp(t, refreshRE, owner.get("/jobs/"+id).body, "the job still runs")
	// Anonymous visitors are sent to sign in first.
	anon := h.browser(t).post("/jobs/"+id+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, anon.status)
	require.Contains(t, anon.location, "/login?next=")
}

func TestUnknownAddressesGetAPageAndTheAPIGetsJSON(t *testing.T) {
	h := newHarness(t, 100)
	b := h.signedIn(t, store.RoleUser)
	p := b.get("/no/such/page")
	require.Equal(t, http.StatusNotFound, p.status)
	require.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
	require.Contains(t, p.body, "<title>Page not found · Augur</title>")
	require.Contains(t, p.body, `href="/dashboard"`, "signed in, the layout's nav is there")

	anon := h.browser(t).get("/nope")
	require.Equal(t, http.StatusNotFound, anon.status)
	require.Contains(t, anon.body, "<title>Page not found · Augur</title>")

	api := b.get("/api/v1/nope")
	require.Equal(t, http.StatusNotFound, api.status)
	require.Contains(t, api.header.Get("Content-Type"), "application/json")
	require.Contains(t, api.body, `"code":"not_found"`)

	wrong := b.get("/logout")
	require.Equal(t, http.StatusMethodNotAllowed, wrong.status)
	require.Contains(t, wrong.body, "<title>Not possible here · Augur</title>")
}

func TestFaviconAndStaticFilesAreCachedByContent(t *testing.T) {
	h := newHarness(t, 100)
	b := h.browser(t)
	icon := b.get("/favicon.ico")
	require.Equal(t, http.StatusOK, icon.status)
	require.Equal(t, "image/svg+xml", icon.header.Get("Content-Type"))
	require.Contains(t, icon.body, "<svg")

	login := b.get("/login")
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		m := regexp.MustCompile(`"(/static/` + regexp.QuoteMeta(name) + `\?v=[0-9a-f]{12})"`).FindStringSubmatch(login.body)
		require.NotNil(t, m, "the page links %s by its hash", name)
		f := b.get(m[1])
		require.Equal(t, http.StatusOK, f.status, name)
		require.Equal(t, "public, max-age=31536000, immutable", f.header.Get("Cache-Control"), name)
		stale := b.get("/static/" + name + "?v=000000000000")
		require.Equal(t, http.StatusOK, stale.status, name)
		require.Equal(t, "no-cache", stale.header.Get("Cache-Control"), "an old hash is not cached for long")
	}
	require.Equal(t, http.StatusNotFound, b.get("/static/nope.js").status)
	require.Equal(t, http.StatusNotFound, b.get("/static/../embed.go").status)
}

func TestPredictionFormHasAdvancedChoices(t *testing.T) {
	h := newHarness(t, 100)
	p := h.signedIn(t, store.RoleUser).get("/")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "<summary>Advanced</summary>")
	for _, field := range []string{`name="preset"`, `name="recommendation"`, `name="seed"`, `name="priority"`, `name="num_articles"`} {
		require.Contains(t, p.body, field)
	}
	// The harness's presets.
	require.Contains(t, p.body, `<option value="retail">retail</option>`)
	require.Contains(t, p.body, `id="jobs-more"`)
}
