package app

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metricsServer serves reg's /metrics as a replica's listener does.
func metricsServer(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// scrapeValues scrapes url as Prometheus does and returns each sample's
// value by its series (name and labels). It returns an error rather than
// failing the test, since require.Eventually calls it off the test's
// goroutine.
func scrapeValues(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	values := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				values[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[key] = m.GetGauge().GetValue()
			}
		}
	}
	return values, nil
}

// sharedSeries returns the metrics that every replica exports alike: those
// read from Redis at each scrape (asynq's queue collector on the workers,
// the worker-server count on web). Summed across replicas, N replicas
// show N times the truth. A live scrape of two worker replicas on one
// Redis, of which only one runs a job, shows it: the idle one reports the
// busy one's work, and every such series has one value on both.
func sharedSeries(t *testing.T) map[string]bool {
	t.Helper()
	s := newStack(t)
	s.startWorker()
	busy := metricsServer(t, s.workerReg)
	idleReg := newRegistry()
	_, err := newWorker(s.cfg, s.db, s.rdb, s.logger, idleReg)
	require.NoError(t, err)
	idle := metricsServer(t, idleReg)
	before, err := scrapeValues(idle)
	require.NoError(t, err)

	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, "succeeded", s.await(id, final)["status"])

	// The names those collectors describe, now that a queue exists.
	shared := map[string]bool{}
	queue := newQueue(s.cfg, s.rdb)
	described := &describedNames{Registerer: prometheus.NewRegistry(), names: shared}
	described.MustRegister(queue.Collector(), queue.ServersCollector())
	require.True(t, shared["asynq_tasks_processed_total"], "%v", shared)

	// Two scrapes are two reads of Redis: compare until one pair agrees
	// (asynq may still be tidying the finished task between them).
	agree := func() (differ []string, reported bool, err error) {
		busyNow, err := scrapeValues(busy)
		if err != nil {
			return nil, false, err
		}
		idleNow, err := scrapeValues(idle)
		if err != nil {
			return nil, false, err
		}
		for key, v := range idleNow {
			name, _, _ := strings.Cut(key, "{")
			if !shared[name] {
				continue
			}
			if busyNow[key] != v {
				differ = append(differ, key)
			}
			reported = reported || (name == "asynq_tasks_processed_total" && v > before[key])
		}
		return differ, reported, nil
	}
	if !assert.Eventually(t, func() bool {
		differ, reported, err := agree()
		return err == nil && len(differ) == 0 && reported
	}, 30*time.Second, 200*time.Millisecond) {
		differ, reported, err := agree()
		require.NoError(t, err)
		require.Empty(t, differ, "one value on every replica")
		require.True(t, reported, "the idle worker reports the busy one's processed task")
	}
	return shared
}

// aggregationOp finds an aggregation operator, with its optional by or
// without clause, at the end of a piece of PromQL: what stands before the
// parenthesis that opens its argument.
var aggregationOp = regexp.MustCompile(`\b(sum|min|max|avg|group|count|count_values|stddev|stdvar|topk|bottomk|quantile)\s*(?:(?:by|without)\s*\([^()]*\)\s*)?$`)

// enclosingAggregation returns the innermost aggregation operator around
// the position at in expr, or "" when none is. Functions such as rate and
// plain parentheses are looked through.
func enclosingAggregation(expr string, at int) string {
	depth := 0
	for i := at - 1; i >= 0; i-- {
		switch expr[i] {
		case ')':
			depth++
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			if m := aggregationOp.FindStringSubmatch(expr[:i]); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// countedOnce fails for every metric in query that every replica exports
// alike but that is not first taken once across replicas (max, min or
// avg) before anything else: sum or count over them multiplies the truth
// by the number of replicas, and no aggregation shows one line per
// replica.
func countedOnce(t *testing.T, where, query string, shared map[string]bool) {
	t.Helper()
	for _, loc := range metricRef.FindAllStringIndex(query, -1) {
		name := query[loc[0]:loc[1]]
		if !shared[name] {
			continue
		}
		op := enclosingAggregation(query, loc[0])
		require.Contains(t, []string{"max", "min", "avg"}, op,
			"%s: every worker exports %s alike, so %q counts it once per worker; take max by (…) across replicas first", where, name, query)
	}
}

// TestDashboardCountsEachSeriesOnce evaluates the dashboard's queries, the
// alert rules and the autoscaler's query against a live scrape of two
// workers: a series every replica exports alike must be taken once, not
// summed. A panel's queries must also share its unit: seconds are not
// drawn beside counts.
//
// The check is structural (the innermost aggregation around each such
// series) rather than a PromQL evaluation: Prometheus's engine is a large
// module to bring into go.mod for this, and which series are shared is
// what the live scrape decides.
func TestDashboardCountsEachSeriesOnce(t *testing.T) {
	shared := sharedSeries(t)
	t.Logf("series every worker exports alike: %v", slices.Sorted(maps.Keys(shared)))
	require.False(t, shared["augur_jobs_finished_total"], "a worker counts its own jobs")

	var dash struct {
		Panels []struct {
			Title, Type string
			FieldConfig struct {
				Defaults struct{ Unit string }
			} `json:"fieldConfig"`
			Targets []struct{ Expr string }
		}
	}
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "augur.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &dash))
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			countedOnce(t, "panel "+p.Title, target.Expr, shared)
			if p.FieldConfig.Defaults.Unit == "s" {
				require.Regexp(t, `_seconds\b|_seconds_bucket\b`, target.Expr, "panel %q is in seconds: %q is not", p.Title, target.Expr)
			}
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	readYAML(t, filepath.Join(deployDir, "prometheus", "alerts.yml"), &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			countedOnce(t, "alert "+r.Alert, r.Expr, shared)
		}
	}
	for _, doc := range k8sDocs(t) {
		for _, trig := range doc.Spec.Triggers {
			countedOnce(t, "ScaledObject "+doc.Metadata.Name, trig.Metadata["query"], shared)
		}
	}
}

// The structural check reads PromQL as Prometheus nests it.
func TestEnclosingAggregation(t *testing.T) {
	for _, tc := range []struct{ expr, op string }{
		{`sum by (queue) (rate(asynq_tasks_processed_total[5m]))`, "sum"},
		{`max by (queue) (rate(asynq_tasks_processed_total[5m]))`, "max"},
		{`sum(rate(asynq_tasks_processed_total[5m])) by (queue)`, "sum"},
		{`sum(max by (queue, state) (asynq_tasks_enqueued_total{state=~"pending|active"}))`, "max"},
		{`max by (queue) (x) + on (queue) max by (queue) (asynq_tasks_enqueued_total{state="active"})`, "max"},
		{`rate(asynq_tasks_processed_total[5m])`, ""},
	} {
		at := strings.Index(tc.expr, "asynq_")
		require.Equal(t, tc.op, enclosingAggregation(tc.expr, at), tc.expr)
	}
}
