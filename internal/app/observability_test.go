package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

// scrape fetches /metrics as Prometheus does and parses it.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	names := map[string]bool{}
	for name, f := range families {
		if len(f.GetMetric()) > 0 {
			names[name] = true
		}
	}
	return names
}

// After one job, both endpoints show every series that the operations
// issue names, each with at least one sample.
func TestMetricsAfterOneJob(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, "succeeded", s.await(id, final)["status"])

	web := scrape(t, s.webReg)
	for _, name := range []string{
		"augur_http_requests_total", "augur_http_request_duration_seconds",
		"augur_jobs_submitted_total", "augur_rate_limited_total", "augur_build_info",
		"augur_dependency_up", "augur_worker_servers",
	} {
		require.True(t, web[name], "web /metrics lacks %s", name)
	}
	worker := scrape(t, s.workerReg)
	for _, name := range []string{
		"augur_jobs_finished_total", "augur_job_duration_seconds",
		"augur_job_queue_wait_seconds", "augur_model_fit_seconds", "augur_jobs_in_progress",
		"augur_price_cache_hits_total", "augur_price_cache_misses_total",
		"augur_reconciler_reenqueued_total", "augur_reconciler_closed_total", "augur_job_attempts_lost_total",
		"augur_build_info", "augur_dependency_up",
		"asynq_queue_size", "asynq_queue_latency_seconds",
	} {
		require.True(t, worker[name], "worker /metrics lacks %s", name)
	}
}

// With METRICS_QUEUE_COLLECTOR=false a worker does not scan Redis at each
// scrape: asynq's queue series are another replica's to export.
func TestQueueCollectorCanBeTurnedOff(t *testing.T) {
	s := newStack(t)
	s.cfg.MetricsQueueCollector = false
	s.startWorker()
	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, "succeeded", s.await(id, final)["status"])
	worker := scrape(t, s.workerReg)
	require.False(t, worker["asynq_queue_size"])
	require.True(t, worker["augur_jobs_finished_total"])
}

func TestBuildInfoLabels(t *testing.T) {
	names := scrape(t, newRegistry())
	require.True(t, names["augur_build_info"])
	families, err := newRegistry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "augur_build_info" {
			continue
		}
		labels := map[string]string{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		require.True(t, strings.HasPrefix(labels["go"], "go"), "%v", labels)
		require.NotEmpty(t, labels["version"])
		require.NotEmpty(t, labels["commit"])
		return
	}
	t.Fatal("no augur_build_info")
}

func TestVersionAndCommit(t *testing.T) {
	for _, tc := range []struct {
		name            string
		bi              debug.BuildInfo
		version, commit string
	}{
		{"git checkout", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}}, "v1.2.0", "abc123"},
		{"modified tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}, "(devel)", "abc123-dirty"},
		{"no vcs", debug.BuildInfo{}, "unknown", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			version, commit := versionAndCommit(&tc.bi, "", "")
			require.Equal(t, tc.version, version)
			require.Equal(t, tc.commit, commit)
		})
	}
	// The image's build has no .git: the stamped values win over
	// whatever the toolchain found.
	version, commit := versionAndCommit(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.4.0", "abc123")
	require.Equal(t, "v1.4.0", version)
	require.Equal(t, "abc123", commit)
}

// stampFlags are the -X flags that set stampedVersion and stampedCommit.
var stampFlags = regexp.MustCompile(`-X github\.com/augurhq/augur/internal/app\.stamped(Version|Commit)=(\S+?)["\s]`)

// TestImageAndBuildStampVersionAndCommit: the Dockerfile links the
// version and commit it is given as build arguments into both programs,
// and `make image` passes the checkout's commit, so that an image's
// augur_build_info names its commit (a build context has no .git).
func TestImageAndBuildStampVersionAndCommit(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	dockerfile := string(raw)
	require.Regexp(t, `(?m)^ARG VERSION=`, dockerfile)
	require.Regexp(t, `(?m)^ARG COMMIT=`, dockerfile)
	got := map[string]string{}
	for _, m := range stampFlags.FindAllStringSubmatch(dockerfile, -1) {
		got[m[1]] = m[2]
	}
	require.Equal(t, map[string]string{"Version": "${VERSION}", "Commit": "${COMMIT}"}, got)
	require.Equal(t, 2, strings.Count(dockerfile, `-ldflags="$LDFLAGS"`), "web and worker both get the flags")

	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout: no commit for make to pass")
	}
	out, err := exec.Command("make", "-C", "../..", "-n", "image", "build").CombinedOutput()
	require.NoError(t, err, "%s", out)
	commit := regexp.MustCompile(`docker build .*--build-arg COMMIT=(\S+)`).FindStringSubmatch(string(out))
	require.NotNil(t, commit, "%s", out)
	require.True(t, strings.HasPrefix(commit[1], strings.TrimSpace(string(head))), "make image passes the checkout's commit: %s", out)
	require.Regexp(t, `--build-arg VERSION=\S+`, string(out))
	for _, m := range []string{"Version", "Commit"} {
		require.Regexp(t, `go build .*-X github\.com/augurhq/augur/internal/app\.stamped`+m+`=\S+ .*-o bin/web`, string(out), "make build stamps bin/web too")
	}
	_ = []*string{&stampedVersion, &stampedCommit} // the flags above name these variables
}

// One end-to-end run, logged as production logs it (JSON): the request id
// a client sends is on the web server's line for the submission and on
// every worker line about the job, and neither the API token nor the demo
// user's password appears anywhere in the logs.
func TestLogsCarryTheRequestIDAndNoSecret(t *testing.T) {
	s := newStack(t)
	s.startWorker()

	// The demo-user path prints a password and a token (to stdout, for
	// the developer) and logs as it goes.
	s.cfg.DatabaseURL = dbtest.URLOf(t, s.db)
	var out bytes.Buffer
	env := &runtimeEnv{cfg: s.cfg, logger: s.logger, stdout: &out}
	require.NoError(t, demoUser(context.Background(), env))
	password := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(out.String())[1]
	demoToken := regexp.MustCompile(`export TOKEN=(\S+)`).FindStringSubmatch(out.String())[1]
	// A failed and a good sign-in both log lines of their own.
	for _, pw := range []string{password + "x", password} {
		form := url.Values{"email": {demoEmail}, "password": {pw}}
		req, err := http.NewRequest(http.MethodPost, s.url+"/login", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	const rid = "client-req-42"
	resp := s.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`, "X-Request-ID", rid)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	require.Equal(t, rid, resp.Header.Get("X-Request-ID"))
	id := resp.Map(t)["id"].(string)
	require.Equal(t, "succeeded", s.await(id, final)["status"])
	// A token that is wrong is not logged either.
	require.Equal(t, http.StatusUnauthorized, s.api.As(s.token+"wrong").Do(http.MethodGet, "/api/v1/jobs", nil).Status)
	// An id that could forge log structure is replaced.
	bad := s.api.Do(http.MethodGet, "/api/v1/jobs", nil, "X-Request-ID", `x" level=ERROR`)
	require.NotContains(t, bad.Header.Get("X-Request-ID"), `"`)

	logs := s.logs.String()
	for _, secret := range []string{s.token, demoToken, password} {
		require.NotContains(t, logs, secret)
	}
	var submitLine bool
	var jobLines int
	for line := range strings.Lines(logs) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "a log line that is not JSON: %s", line)
		if rec["path"] == "/api/v1/predictions" {
			submitLine = true
			require.Equal(t, rid, rec["request_id"], "%s", line)
		}
		if rec["job_id"] == id {
			jobLines++
			require.Equal(t, rid, rec["request_id"], "a worker line about the job without its request id: %s", line)
		}
		if rec["msg"] == "http request" {
			require.NotEmpty(t, rec["request_id"], "a request line without an id: %s", line)
		}
	}
	require.True(t, submitLine, "no log line for the submission")
	require.GreaterOrEqual(t, jobLines, 2, "the worker logs the job's start and end")
}
