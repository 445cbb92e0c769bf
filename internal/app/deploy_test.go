package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/augurhq/augur/internal/config"
)

// deployDir is the repository's deploy/ folder, seen from this package.
const deployDir = "../../deploy"

// describedNames records the name of every metric a collector describes as
// it is registered. Describe, unlike Gather, names the vectors that have
// no sample yet and the asynq queue series before any queue exists.
type describedNames struct {
	prometheus.Registerer
	names map[string]bool
}

func (r *describedNames) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		m := descName.FindStringSubmatch(d.String())
		if m == nil {
			return errors.New("metric description without a name: " + d.String())
		}
		r.names[m[1]] = true
	}
	return r.Registerer.Register(c)
}

func (r *describedNames) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// descName reads the name out of prometheus.Desc's String, the only place
// the package shows it.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// registeredMetrics returns every metric name the web server and the
// worker export, built exactly as serveWeb and runWorker build them.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	s := newStack(t)
	// asynq's queue collector describes its series only once a queue
	// exists: one submitted job makes one.
	s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	names := map[string]bool{}
	for _, build := range []func(prometheus.Registerer){
		func(reg prometheus.Registerer) {
			h, err := newWebHandler(s.cfg, s.db, s.db.SessionStore(0), s.rdb, s.logger, reg)
			require.NoError(t, err)
			h.Close()
		},
		func(reg prometheus.Registerer) {
			_, err := newWorker(s.cfg, s.db, s.rdb, s.logger, reg)
			require.NoError(t, err)
		},
	} {
		base := newRegistry()
		families, err := base.Gather()
		require.NoError(t, err)
		for _, f := range families {
			names[f.GetName()] = true
		}
		build(&describedNames{Registerer: base, names: names})
	}
	return names
}

// metricRef finds metric names in PromQL: Augur's, asynq's, and the Go and
// process collectors' all carry one of these prefixes, which no label name
// or PromQL function does.
var metricRef = regexp.MustCompile(`\b(?:augur|asynq|go|process)_[a-zA-Z0-9_]+`)

// checkMetricNames fails for every metric name in query that neither
// program registers. A histogram's series carry suffixes on its name.
func checkMetricNames(t *testing.T, where, query string, registered map[string]bool) {
	t.Helper()
	for _, name := range metricRef.FindAllString(query, -1) {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if trimmed, ok := strings.CutSuffix(name, suffix); ok && registered[trimmed] {
				base = trimmed
			}
		}
		require.True(t, registered[base], "%s uses %s, which no program registers", where, name)
	}
}

func TestDeployFilesUseOnlyRegisteredMetrics(t *testing.T) {
	registered := registeredMetrics(t)
	for _, name := range []string{"augur_dependency_up", "augur_worker_servers", "asynq_queue_latency_seconds", "augur_http_requests_total"} {
		require.True(t, registered[name], "the registries are gathered: %s is there", name)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr, For string
			}
		}
	}
	readYAML(t, filepath.Join(deployDir, "prometheus", "alerts.yml"), &rules)
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			require.NotEmpty(t, r.Expr, r.Alert)
			checkMetricNames(t, "alert "+r.Alert, r.Expr, registered)
		}
	}
	require.Subset(t, alerts, []string{"AugurHTTP5xxRatioHigh", "AugurQueueLatencyHigh", "AugurNoWorkerServers",
		"AugurJobFailureRatioHigh", "AugurUpstreamCircuitOpen", "AugurDependencyNotReady"})

	var dash struct {
		Panels []struct {
			Title, Type string
			Targets     []struct{ Expr string }
		}
	}
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "augur.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &dash))
	queries := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, target := range p.Targets {
			require.NotEmpty(t, target.Expr, p.Title)
			checkMetricNames(t, "panel "+p.Title, target.Expr, registered)
			queries++
		}
	}
	require.Greater(t, queries, 10)

	for _, doc := range k8sDocs(t) {
		if doc.Kind == "ScaledObject" {
			for _, trig := range doc.Spec.Triggers {
				require.Contains(t, trig.Metadata, "query")
				checkMetricNames(t, "ScaledObject "+doc.Metadata.Name, trig.Metadata["query"], registered)
			}
		}
	}
}

// httpSelector finds the series selectors of augur_http_requests_total
// in PromQL, and codeMatcher the matcher on their code label.
var (
	httpSelector = regexp.MustCompile(`augur_http_requests_total\s*\{([^}]*)\}`)
	codeMatcher  = regexp.MustCompile(`\bcode\s*(=~|!~|!=|=)\s*"([^"]*)"`)
)

// selects reports whether a label matcher (op and value as PromQL writes
// them) selects the label value v.
func selects(t *testing.T, op, value, v string) bool {
	t.Helper()
	switch op {
	case "=":
		return v == value
	case "!=":
		return v != value
	}
	re, err := regexp.Compile("^(?:" + value + ")$")
	require.NoError(t, err, value)
	return re.MatchString(v) == (op == "=~")
}

// TestNoOutageAlertCountsA429 (issue 18 item 5): a 429 is a client told
// to slow down (its limits, or its own submissions taking turns), not an
// outage. No alert counts it among the failures: every selector of HTTP
// responses that picks some by code picks 5xx, and never 429. (The total
// they are divided by counts every answer, 429s too.)
// deploy/prometheus/alerts_test.yml checks the same with promtool.
func TestNoOutageAlertCountsA429(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	readYAML(t, filepath.Join(deployDir, "prometheus", "alerts.yml"), &rules)
	byCode := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, sel := range httpSelector.FindAllStringSubmatch(r.Expr, -1) {
				for _, m := range codeMatcher.FindAllStringSubmatch(sel[1], -1) {
					byCode++
					require.False(t, selects(t, m[1], m[2], "429"), "alert %s counts 429s: %s", r.Alert, sel[0])
					require.True(t, selects(t, m[1], m[2], "503"), "alert %s picks responses by code, but not 503s: %s", r.Alert, sel[0])
				}
			}
		}
	}
	require.Positive(t, byCode, "the 5xx alert picks responses by code")
}

// k8sObject is the part of a Kubernetes object the checks below read. The
// strict test of the manifests (deploy/k8s/check, a module of its own)
// decodes them with the real Kubernetes types; these checks are the ones
// that need Augur's own configuration.
type k8sObject struct {
	Kind     string
	Metadata struct{ Name string }
	Data     map[string]string
	// StringData is a Secret's.
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas int
		// A ScaledObject's.
		MaxReplicaCount int `yaml:"maxReplicaCount"`
		Triggers        []struct {
			Type     string
			Metadata map[string]string
		}
	}
}

// k8sDocs reads every object of every manifest in deploy/k8s, the example
// Secret included.
func k8sDocs(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var docs []k8sObject
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var doc k8sObject
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			docs = append(docs, doc)
		}
	}
	return docs
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, v), path)
}

// TestKubernetesManifests checks the manifests against Augur's settings:
// the ConfigMap and the example Secret set only settings config knows,
// the Secret holds every secret one, and the connection pools fit
// PostgreSQL at the autoscaler's maximum.
func TestKubernetesManifests(t *testing.T) {
	defaults, err := config.Load(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	docs := k8sDocs(t)
	byKind := map[string][]k8sObject{}
	for _, d := range docs {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}

	// Every setting in the ConfigMap and the Secret is one config knows.
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Name] = true
	}
	require.Len(t, byKind["ConfigMap"], 1)
	for _, kind := range []string{"ConfigMap", "Secret"} {
		for _, d := range byKind[kind] {
			for name := range d.Data {
				require.True(t, known[name], "%s %s sets unknown %s", kind, d.Metadata.Name, name)
			}
			for name := range d.StringData {
				require.True(t, known[name], "%s %s sets unknown %s", kind, d.Metadata.Name, name)
			}
		}
	}

	// SECRET_KEY, the connection URLs and every API key come from the
	// Secret, whose example (secret.example.yaml) names them all.
	require.Len(t, byKind["Secret"], 1)
	secret := byKind["Secret"][0]
	for _, s := range config.Settings() {
		if s.Name == "SECRET_KEY" || s.Name == "DATABASE_URL" || s.Name == "REDIS_URL" || strings.HasSuffix(s.Name, "_API_KEY") {
			require.Contains(t, secret.StringData, s.Name, "the Secret holds %s", s.Name)
		}
	}

	deployments := map[string]k8sObject{}
	for _, d := range byKind["Deployment"] {
		deployments[d.Metadata.Name] = d
	}
	require.Len(t, byKind["ScaledObject"], 1)
	scaler := byKind["ScaledObject"][0]
	require.Greater(t, scaler.Spec.MaxReplicaCount, 0)
	// The README's sizing rule, with PostgreSQL's default max_connections:
	// every process at its pool's limit, plus 5 for migrate, backups and
	// a psql, still gets a connection.
	processes := deployments["augur-web"].Spec.Replicas + scaler.Spec.MaxReplicaCount
	require.Greater(t, deployments["augur-web"].Spec.Replicas, 0)
	perProcess := defaults.DBPool.MaxOpen
	if v, ok := byKind["ConfigMap"][0].Data["DB_MAX_OPEN_CONNS"]; ok {
		perProcess, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	require.Less(t, perProcess*processes+5, 100, "DB_MAX_OPEN_CONNS × (web replicas + worker maxReplicaCount) + 5")
}

// Prometheus in compose finds web and every worker replica by the compose
// service names, on the port their METRICS_ADDR listens on.
func TestComposePrometheusFindsEveryReplica(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Environment map[string]string
			Volumes     []string
		}
	}
	readYAML(t, "../../docker-compose.yml", &compose)
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string
				Type  string
				Port  int
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(deployDir, "prometheus", "prometheus.yml"), &prom)
	require.Equal(t, []string{"alerts.yml"}, prom.RuleFiles)
	require.Contains(t, compose.Services, "prometheus")
	require.Contains(t, compose.Services["prometheus"].Volumes, "./deploy/prometheus:/etc/prometheus:ro")

	found := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, sd := range sc.DNSSDConfigs {
			require.Equal(t, "A", sd.Type, "one A record per replica")
			for _, name := range sd.Names {
				service, ok := compose.Services[name]
				require.True(t, ok, "%s scrapes %s, which is no compose service", sc.JobName, name)
				_, port, ok := strings.Cut(service.Environment["METRICS_ADDR"], ":")
				require.True(t, ok, "%s sets METRICS_ADDR", name)
				require.Equal(t, port, strconv.Itoa(sd.Port), "%s: scraped where its metrics listen", name)
				found[name] = true
			}
		}
	}
	require.Equal(t, map[string]bool{"web": true, "worker": true}, found)
}
