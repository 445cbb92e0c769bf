package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The repository's files, seen from this folder.
const (
	kustomizeDir   = ".."
	dockerfile     = "../../../Dockerfile"
	secretExample  = "../secret.example.yaml"
	prometheusK8s  = "../../prometheus/prometheus-k8s.yml"
	prometheusDir  = "../../prometheus"
	secretName     = "augur-secrets"
	configMapName  = "augur-config"
	metricsPortKey = "metrics"
)

// scaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1) that
// the manifests use. KEDA's Go module brings a controller runtime with
// it, so the type is written out here; decoding is as strict as for the
// k8s.io/api types, so a field that KEDA has and this does not fails the
// test until it is added here.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type       string                         `json:"type"`
			MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
			Metadata   map[string]string              `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// rendered is every object of the kustomization, by kind.
type rendered struct {
	configMaps    []corev1.ConfigMap
	secrets       []corev1.Secret
	services      []corev1.Service
	deployments   []appsv1.Deployment
	jobs          []batchv1.Job
	pdbs          []policyv1.PodDisruptionBudget
	scaledObjects []scaledObject
}

// decodeStrict decodes one YAML document into v, refusing unknown and
// duplicate fields.
func decodeStrict(t *testing.T, doc []byte, v any, where string) {
	t.Helper()
	require.NoError(t, yaml.UnmarshalStrict(doc, v), "%s:\n%s", where, doc)
}

// appendDecoded decodes doc strictly as a T and appends it to list.
func appendDecoded[T any](t *testing.T, doc []byte, where string, list *[]T) {
	t.Helper()
	var v T
	decodeStrict(t, doc, &v, where)
	*list = append(*list, v)
}

// render runs `kubectl kustomize` on deploy/k8s and decodes what it
// prints. Without kubectl the test is skipped, except in CI, which
// installs it (.ci/run).
func render(t *testing.T) rendered {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl is required in CI (.ci/run installs it)")
		}
		t.Skip("kubectl not installed: apt-get install kubectl (kustomize v4 or later) to run the strict manifest test")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", kustomizeDir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kubectl kustomize: %s", stderr.String())

	var r rendered
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal(doc, &tm))
		where := tm.APIVersion + " " + tm.Kind
		switch where {
		case "v1 ConfigMap":
			appendDecoded(t, doc, where, &r.configMaps)
		case "v1 Secret":
			appendDecoded(t, doc, where, &r.secrets)
		case "v1 Service":
			appendDecoded(t, doc, where, &r.services)
		case "apps/v1 Deployment":
			appendDecoded(t, doc, where, &r.deployments)
		case "batch/v1 Job":
			appendDecoded(t, doc, where, &r.jobs)
		case "policy/v1 PodDisruptionBudget":
			appendDecoded(t, doc, where, &r.pdbs)
		case "keda.sh/v1alpha1 ScaledObject":
			appendDecoded(t, doc, where, &r.scaledObjects)
		default:
			t.Fatalf("the kustomization renders %s, which this test does not know: add its type", where)
		}
	}
	return r
}

// settings are the ConfigMap's values the checks depend on.
type settings struct {
	shutdown    time.Duration
	drain       time.Duration
	httpPort    int32
	metricsPort int32
}

func readSettings(t *testing.T, r rendered) settings {
	t.Helper()
	require.Len(t, r.configMaps, 1)
	cm := r.configMaps[0]
	require.Equal(t, configMapName, cm.Name)
	var s settings
	var err error
	// The grace periods and ports are checked against these, so the
	// ConfigMap says them outright rather than leaving them to defaults.
	for _, key := range []string{"SHUTDOWN_TIMEOUT", "SHUTDOWN_DRAIN", "HTTP_ADDR", "METRICS_ADDR"} {
		require.Contains(t, cm.Data, key, "the ConfigMap sets %s", key)
	}
	s.shutdown, err = time.ParseDuration(cm.Data["SHUTDOWN_TIMEOUT"])
	require.NoError(t, err)
	s.drain, err = time.ParseDuration(cm.Data["SHUTDOWN_DRAIN"])
	require.NoError(t, err)
	s.httpPort = addrPort(t, cm.Data["HTTP_ADDR"])
	s.metricsPort = addrPort(t, cm.Data["METRICS_ADDR"])
	return s
}

func addrPort(t *testing.T, addr string) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	n, err := strconv.ParseInt(port, 10, 32)
	require.NoError(t, err, addr)
	return int32(n)
}

// imageUser reads the numeric user and group of the final stage's USER in
// the Dockerfile. A name there cannot be checked by the kubelet against
// runAsNonRoot, so it fails the test.
func imageUser(t *testing.T) (uid, gid int64) {
	t.Helper()
	raw, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)\s*$`).FindAllStringSubmatch(string(raw), -1)
	require.NotEmpty(t, users, "the Dockerfile sets USER")
	user, group, _ := strings.Cut(users[len(users)-1][1], ":")
	uid, err = strconv.ParseInt(user, 10, 64)
	require.NoError(t, err, "the Dockerfile's USER %q is not numeric: the kubelet cannot verify that it is not root", user)
	gid = uid
	if group != "" {
		gid, err = strconv.ParseInt(group, 10, 64)
		require.NoError(t, err, "the Dockerfile's USER group %q is not numeric", group)
	}
	require.NotZero(t, uid, "the image runs as root")
	return uid, gid
}

// podTemplates are the pod templates of the Deployments and the Job, by
// their owner's name.
func podTemplates(r rendered) map[string]corev1.PodTemplateSpec {
	pods := map[string]corev1.PodTemplateSpec{}
	for _, d := range r.deployments {
		pods[d.Name] = d.Spec.Template
	}
	for _, j := range r.jobs {
		pods[j.Name] = j.Spec.Template
	}
	return pods
}

// TestKustomizationStrict renders deploy/k8s and checks what a cluster
// would refuse, or run wrongly, before any cluster sees it.
func TestKustomizationStrict(t *testing.T) {
	r := render(t)
	s := readSettings(t, r)
	uid, gid := imageUser(t)

	// The Secret is the operator's: an apply must not overwrite it.
	require.Empty(t, r.secrets, "the kustomization must not hold a Secret: `kubectl apply -k` would overwrite the operator's")
	var example corev1.Secret
	raw, err := os.ReadFile(secretExample)
	require.NoError(t, err)
	decodeStrict(t, raw, &example, secretExample)
	require.Equal(t, secretName, example.Name)

	pods := podTemplates(r)
	require.Contains(t, pods, "augur-web")
	require.Contains(t, pods, "augur-worker")
	require.Contains(t, pods, "augur-migrate")
	require.Len(t, pods, 3)
	commands := map[string][]string{
		"augur-web":     {"/usr/local/bin/web", "serve"},
		"augur-worker":  {"/usr/local/bin/worker", "run"},
		"augur-migrate": {"/usr/local/bin/web", "migrate"},
	}
	for name, pod := range pods {
		t.Run(name, func(t *testing.T) {
			sc := pod.Spec.SecurityContext
			require.NotNil(t, sc)
			require.NotNil(t, sc.RunAsNonRoot)
			require.True(t, *sc.RunAsNonRoot)
			require.NotNil(t, sc.RunAsUser, "runAsNonRoot needs a numeric user the kubelet can check")
			require.Equal(t, uid, *sc.RunAsUser, "runAsUser agrees with the Dockerfile's USER")
			require.NotNil(t, sc.RunAsGroup)
			require.Equal(t, gid, *sc.RunAsGroup, "runAsGroup agrees with the Dockerfile's USER")
			require.Len(t, pod.Spec.Containers, 1)
			c := pod.Spec.Containers[0]
			require.Equal(t, commands[name], c.Command)
			if c.SecurityContext != nil {
				require.Nil(t, c.SecurityContext.RunAsUser, "the pod's user is set once, on the pod")
				require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
				require.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
			}
			var fromConfig, fromSecret bool
			for _, e := range c.EnvFrom {
				fromConfig = fromConfig || (e.ConfigMapRef != nil && e.ConfigMapRef.Name == configMapName)
				fromSecret = fromSecret || (e.SecretRef != nil && e.SecretRef.Name == secretName)
			}
			require.True(t, fromConfig && fromSecret, "reads %s and %s", configMapName, secretName)
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				require.Contains(t, c.Resources.Requests, res)
				require.Contains(t, c.Resources.Limits, res)
			}
		})
	}

	autoscaled := map[string]bool{}
	for _, so := range r.scaledObjects {
		autoscaled[so.Spec.ScaleTargetRef.Name] = true
		require.NotNil(t, so.Spec.MinReplicaCount)
		require.NotNil(t, so.Spec.MaxReplicaCount)
		require.GreaterOrEqual(t, *so.Spec.MinReplicaCount, int32(1))
		require.GreaterOrEqual(t, *so.Spec.MaxReplicaCount, *so.Spec.MinReplicaCount)
		require.NotEmpty(t, so.Spec.Triggers)
	}
	require.True(t, autoscaled["augur-worker"], "KEDA scales the workers")

	ports := map[string]map[string]int32{
		"augur-web":    {"http": s.httpPort, metricsPortKey: s.metricsPort},
		"augur-worker": {metricsPortKey: s.metricsPort},
	}
	for _, d := range r.deployments {
		t.Run(d.Name, func(t *testing.T) {
			// An autoscaler owns the count: a replicas field would reset it
			// at every apply.
			if autoscaled[d.Name] {
				require.Nil(t, d.Spec.Replicas, "%s is autoscaled: leave replicas out", d.Name)
			} else {
				require.NotNil(t, d.Spec.Replicas)
			}
			pod := d.Spec.Template
			selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			require.NoError(t, err)
			require.True(t, selector.Matches(labels.Set(pod.Labels)), "the selector selects the pods")

			c := pod.Spec.Containers[0]
			// The kubelet's SIGKILL comes terminationGracePeriodSeconds after
			// the pod's deletion, which the preStop sleep, web's drain and
			// the shutdown itself must all fit in.
			stopping := s.shutdown
			if d.Name == "augur-web" {
				require.NotNil(t, c.Lifecycle, "web has a preStop hook")
				require.NotNil(t, c.Lifecycle.PreStop, "web has a preStop hook")
				require.NotNil(t, c.Lifecycle.PreStop.Sleep, "the kubelet sleeps: the image has no sleep program")
				stopping += time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second + s.drain
			}
			require.NotNil(t, pod.Spec.TerminationGracePeriodSeconds)
			require.Greater(t, time.Duration(*pod.Spec.TerminationGracePeriodSeconds)*time.Second, stopping,
				"terminationGracePeriodSeconds outlasts the preStop sleep, SHUTDOWN_DRAIN and SHUTDOWN_TIMEOUT")

			declared := map[string]int32{}
			for _, p := range c.Ports {
				declared[p.Name] = p.ContainerPort
			}
			require.Equal(t, ports[d.Name], declared, "the container ports are where the programs listen")
			for probe, path := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
				require.NotNil(t, probe, "%s probe", path)
				require.NotNil(t, probe.HTTPGet)
				require.Equal(t, path, probe.HTTPGet.Path)
				require.Contains(t, declared, probe.HTTPGet.Port.String(), "%s probes a declared port by name", path)
			}
			// Web's readiness is on the API port, where /readyz follows
			// PostgreSQL only; the worker has no other listener than the
			// metrics one.
			want := "http"
			if d.Name == "augur-worker" {
				want = metricsPortKey
			}
			require.Equal(t, want, c.ReadinessProbe.HTTPGet.Port.String())

			require.Equal(t, "true", pod.Annotations["prometheus.io/scrape"])
			require.Equal(t, strconv.Itoa(int(s.metricsPort)), pod.Annotations["prometheus.io/port"])
			require.Equal(t, "/metrics", pod.Annotations["prometheus.io/path"])

			covered := slices.ContainsFunc(r.pdbs, func(pdb policyv1.PodDisruptionBudget) bool {
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				return err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) &&
					(pdb.Spec.MinAvailable != nil || pdb.Spec.MaxUnavailable != nil)
			})
			require.True(t, covered, "a PodDisruptionBudget covers %s", d.Name)
		})
	}

	// Each Service's target ports are ports its pods declare.
	for _, svc := range r.services {
		var matched int
		for _, d := range r.deployments {
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				continue
			}
			matched++
			names := map[string]bool{}
			for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
				names[p.Name] = true
			}
			for _, p := range svc.Spec.Ports {
				require.True(t, names[p.TargetPort.String()], "Service %s targets %s, which %s does not declare", svc.Name, p.TargetPort.String(), d.Name)
			}
		}
		require.Equal(t, 1, matched, "Service %s selects one Deployment", svc.Name)
	}

	require.Len(t, r.jobs, 1)
	require.Equal(t, corev1.RestartPolicyOnFailure, r.jobs[0].Spec.Template.Spec.RestartPolicy)
}

// TestKubernetesScrapeFindsEveryPod runs the relabelling of the
// Kubernetes-SD job in deploy/prometheus/prometheus-k8s.yml on the targets
// Prometheus's pod discovery makes of the rendered pods (one per declared
// container port), and checks that each Deployment's pod is scraped once,
// on its metrics port, under the job name the rules and dashboard use.
func TestKubernetesScrapeFindsEveryPod(t *testing.T) {
	r := render(t)
	s := readSettings(t, r)
	var prom promConfig
	raw, err := os.ReadFile(prometheusK8s)
	require.NoError(t, err)
	decodeStrict(t, raw, &prom, prometheusK8s)
	require.Equal(t, []string{"alerts.yml"}, prom.RuleFiles)

	scraped := map[string][]target{}
	for _, sc := range prom.ScrapeConfigs {
		require.Len(t, sc.KubernetesSDConfigs, 1, sc.JobName)
		require.Equal(t, "pod", sc.KubernetesSDConfigs[0].Role, sc.JobName)
		pods := podTemplates(r)
		for owner, pod := range pods {
			for _, meta := range discoveredPod(owner, pod) {
				tg, keep, err := relabel(meta, sc.RelabelConfigs)
				require.NoError(t, err)
				if !keep {
					continue
				}
				if tg["job"] == "" {
					tg["job"] = sc.JobName
				}
				if tg["__metrics_path__"] == "" {
					tg["__metrics_path__"] = cmpOr(sc.MetricsPath, "/metrics")
				}
				scraped[owner] = append(scraped[owner], tg)
			}
		}
	}
	for _, name := range []string{"augur-web", "augur-worker"} {
		require.Len(t, scraped[name], 1, "%s is scraped once: %v", name, scraped[name])
		tg := scraped[name][0]
		_, port, err := net.SplitHostPort(tg["__address__"])
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(int(s.metricsPort)), port, "%s is scraped where METRICS_ADDR listens", name)
		require.Equal(t, "/metrics", tg["__metrics_path__"])
		require.Equal(t, name, tg["job"], "the job names the alert rules and the dashboard select on")
	}
	require.Empty(t, scraped["augur-migrate"], "the migrate Job serves no metrics")
}

// TestKubernetesPrometheusConfigChecks runs promtool on the Kubernetes
// configuration. Debian's promtool is built without Kubernetes discovery,
// so the discovery block is swapped for a static target first: the rest
// (relabel rules, their regular expressions, the rule files) is checked as
// written.
func TestKubernetesPrometheusConfigChecks(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian's prometheus package)")
	}
	raw, err := os.ReadFile(prometheusK8s)
	require.NoError(t, err)
	sd := "    kubernetes_sd_configs:\n      - role: pod\n"
	require.Equal(t, 1, strings.Count(string(raw), sd))
	static := strings.Replace(string(raw), sd, "    static_configs:\n      - targets: [\"augur:9090\"]\n", 1)
	dir := t.TempDir()
	alerts, err := os.ReadFile(filepath.Join(prometheusDir, "alerts.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts.yml"), alerts, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(static), 0o600))
	out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func cmpOr(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// promConfig is the part of a Prometheus configuration the scrape uses;
// decoding it strictly refuses anything else.
type promConfig struct {
	Global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		EvaluationInterval string `json:"evaluation_interval"`
	} `json:"global"`
	RuleFiles     []string `json:"rule_files"`
	ScrapeConfigs []struct {
		JobName             string `json:"job_name"`
		MetricsPath         string `json:"metrics_path,omitempty"`
		KubernetesSDConfigs []struct {
			Role string `json:"role"`
		} `json:"kubernetes_sd_configs"`
		RelabelConfigs []relabelConfig `json:"relabel_configs"`
	} `json:"scrape_configs"`
}

type relabelConfig struct {
	SourceLabels []string `json:"source_labels"`
	Separator    *string  `json:"separator,omitempty"`
	Regex        *string  `json:"regex,omitempty"`
	TargetLabel  string   `json:"target_label,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action"`
}

// target is a target's labels, meta labels included.
type target map[string]string

var unsafeLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// discoveredPod is what Prometheus's Kubernetes discovery (role pod) makes
// of a running pod of this template: one target per declared container
// port, with the meta labels the relabelling may read.
func discoveredPod(owner string, pod corev1.PodTemplateSpec) []target {
	var targets []target
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			tg := target{
				"__address__":                                   net.JoinHostPort("10.0.0.7", strconv.Itoa(int(p.ContainerPort))),
				"__meta_kubernetes_namespace":                   "augur",
				"__meta_kubernetes_pod_name":                    owner + "-7d4b9c-xk2lp",
				"__meta_kubernetes_pod_phase":                   "Running",
				"__meta_kubernetes_pod_ip":                      "10.0.0.7",
				"__meta_kubernetes_pod_ready":                   "true",
				"__meta_kubernetes_pod_node_name":               "node-1",
				"__meta_kubernetes_pod_host_ip":                 "192.0.2.1",
				"__meta_kubernetes_pod_uid":                     "0b6c0c7e",
				"__meta_kubernetes_pod_controller_kind":         "ReplicaSet",
				"__meta_kubernetes_pod_container_name":          c.Name,
				"__meta_kubernetes_pod_container_port_name":     p.Name,
				"__meta_kubernetes_pod_container_port_number":   strconv.Itoa(int(p.ContainerPort)),
				"__meta_kubernetes_pod_container_port_protocol": cmpOr(string(p.Protocol), "TCP"),
				"__meta_kubernetes_pod_container_init":          "false",
			}
			for k, v := range pod.Labels {
				tg["__meta_kubernetes_pod_label_"+unsafeLabelChars.ReplaceAllString(k, "_")] = v
			}
			for k, v := range pod.Annotations {
				tg["__meta_kubernetes_pod_annotation_"+unsafeLabelChars.ReplaceAllString(k, "_")] = v
			}
			targets = append(targets, tg)
		}
	}
	return targets
}

// relabel applies Prometheus's keep, drop and replace actions, with its
// defaults (separator ";", regex "(.*)" anchored at both ends, replacement
// "$1"), and reports whether the target is kept. Other actions are an
// error: the configuration uses only these.
func relabel(in target, configs []relabelConfig) (target, bool, error) {
	tg := target{}
	for k, v := range in {
		tg[k] = v
	}
	for _, rc := range configs {
		sep, pattern, replacement := ";", "(.*)", "$1"
		if rc.Separator != nil {
			sep = *rc.Separator
		}
		if rc.Regex != nil {
			pattern = *rc.Regex
		}
		if rc.Replacement != nil {
			replacement = *rc.Replacement
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return nil, false, fmt.Errorf("regex %q: %w", pattern, err)
		}
		values := make([]string, len(rc.SourceLabels))
		for i, l := range rc.SourceLabels {
			values[i] = tg[l]
		}
		value := strings.Join(values, sep)
		switch cmpOr(rc.Action, "replace") {
		case "keep":
			if !re.MatchString(value) {
				return nil, false, nil
			}
		case "drop":
			if re.MatchString(value) {
				return nil, false, nil
			}
		case "replace":
			m := re.FindStringSubmatchIndex(value)
			if m == nil {
				continue
			}
			res := string(re.ExpandString(nil, replacement, value, m))
			if res == "" {
				delete(tg, rc.TargetLabel)
			} else {
				tg[rc.TargetLabel] = res
			}
		default:
			return nil, false, fmt.Errorf("relabel action %q is not simulated here", rc.Action)
		}
	}
	return tg, true, nil
}
