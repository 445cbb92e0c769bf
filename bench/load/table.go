package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// row is one measure of the table.
type row struct {
	phase   string
	clients int // concurrent clients; 0 when none apply
	ops     int
	rate    float64 // operations a second; 0 when not a throughput measure
	elapsed time.Duration
	lat     latencies
	latNote string         // what the latency spans, when it is not one request
	errors  map[string]int // failed operations by kind
	lost    *int           // accepted jobs not succeeded after the drain; nil when no jobs
	cpu     cpuUse
	// inProcess marks the bare asynq measures, whose client and server
	// run inside the bench process: there the generator's CPU is the
	// system's, and counts in the total.
	inProcess bool
}

// cpuPerOp returns a role's CPU per operation, and whether it was measured.
func (r row) cpuPerOp(role string) (time.Duration, bool) {
	d, ok := r.cpu[role]
	if !ok || r.ops == 0 {
		return 0, false
	}
	return d / time.Duration(r.ops), true
}

// totalPerOp is the CPU per operation of the system under test: web,
// worker, PostgreSQL and Redis, and the bench process only where it runs
// the system itself.
func (r row) totalPerOp() time.Duration {
	var sum time.Duration
	for _, role := range systemRoles {
		sum += r.cpu[role]
	}
	if r.inProcess {
		sum += r.cpu[roleGenerator]
	}
	if r.ops == 0 {
		return 0
	}
	return sum / time.Duration(r.ops)
}

// printTable writes the rows as one Markdown table.
func printTable(w io.Writer, rows []row) {
	head := []string{"measure", "clients", "ops", "seconds", "ops/s", "p50 ms", "p95 ms", "p99 ms", "errors", "lost",
		"CPU ms/op: web", "worker", "postgres", "redis", "total", "generator"}
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(w, strings.Repeat("|---", len(head))+"|")
	for _, r := range rows {
		phase := r.phase
		if r.latNote != "" {
			phase += " [latency: " + r.latNote + "]"
		}
		cells := []string{phase, count(r.clients), fmt.Sprint(r.ops), fmt.Sprintf("%.1f", r.elapsed.Seconds()),
			rate(r.rate), ms(r.lat.p50, r.lat.n), ms(r.lat.p95, r.lat.n), ms(r.lat.p99, r.lat.n), errorCounts(r.errors), lost(r.lost)}
		for _, role := range systemRoles {
			d, ok := r.cpuPerOp(role)
			cells = append(cells, cpuMS(d, ok))
		}
		cells = append(cells, cpuMS(r.totalPerOp(), r.ops > 0))
		gen, ok := r.cpuPerOp(roleGenerator)
		if r.inProcess && ok {
			cells = append(cells, cpuMS(gen, ok)+" (in total)")
		} else {
			cells = append(cells, cpuMS(gen, ok))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}

func count(n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprint(n)
}

func rate(r float64) string {
	if r == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", r)
}

// ms prints a latency in milliseconds, "–" when nothing was measured.
func ms(d time.Duration, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

func cpuMS(d time.Duration, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

// errorCounts prints failures by kind, "0" when there were none.
func errorCounts(errs map[string]int) string {
	if len(errs) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, errs[k]))
	}
	return strings.Join(parts, ", ")
}

func lost(n *int) string {
	if n == nil {
		return "–"
	}
	return fmt.Sprint(*n)
}

// goal is one aim of issue 10, judged on this run.
type goal struct {
	name   string
	value  string
	target string
	met    bool
}

// printGoals writes the goals block: each ratio or figure, its target,
// and PASS or MISS.
func printGoals(w io.Writer, goals []goal) {
	width := 0
	for _, g := range goals {
		width = max(width, len([]rune(g.name)))
	}
	for _, g := range goals {
		verdict := "MISS"
		if g.met {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "  %s%s  %-26s goal %-10s %s\n", g.name, strings.Repeat(" ", width-len([]rune(g.name))), g.value, g.target, verdict)
	}
}

// judge computes the goals from the run's measures.
func judge(m measures) []goal {
	cpuText := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
	pct := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return 100 * a / b
	}
	submitShare := pct(m.submit16.rate, m.pg16.rate)
	e2eShare := pct(m.e2e.rate, m.asynqE2E.rate)
	steadyShare := pct(m.e2e.rate, m.asynqE2ESteady.rate)
	goals := []goal{
		{"Augur submit @16 / PostgreSQL INSERT @16", fmt.Sprintf("%.1f%% (%.0f/s of %.0f/s)", submitShare, m.submit16.rate, m.pg16.rate), "≥ 40%", submitShare >= 40},
		{"Augur submit p99 @8", fmt.Sprintf("%.1f ms", float64(m.submit8.lat.p99)/float64(time.Millisecond)), "< 25 ms", m.submit8.lat.n > 0 && m.submit8.lat.p99 < 25*time.Millisecond},
		{"Augur end to end / bare asynq, same count", fmt.Sprintf("%.1f%% (%.0f/s of %.0f/s)", e2eShare, m.e2e.rate, m.asynqE2E.rate), "≥ 25%", e2eShare >= 25},
		{"Augur end to end / bare asynq, steady", fmt.Sprintf("%.1f%% (%.0f/s of %.0f/s)", steadyShare, m.e2e.rate, m.asynqE2ESteady.rate), "≥ 25%", steadyShare >= 25},
		{"CPU per submit (@16, all processes)", cpuText(m.submit16.totalPerOp()), "< 0.5 ms", m.submit16.ops > 0 && m.submit16.totalPerOp() < 500*time.Microsecond},
		{"CPU per cheap job (end to end, all)", cpuText(m.e2e.totalPerOp()), "< 2 ms", m.e2e.ops > 0 && m.e2e.totalPerOp() < 2*time.Millisecond},
		{"idle pickup p95", fmt.Sprintf("%.1f ms", float64(m.pickup.lat.p95)/float64(time.Millisecond)), "< 100 ms", m.pickup.lat.n > 0 && m.pickup.lat.p95 < 100*time.Millisecond},
	}
	lostJobs := 0
	for _, r := range m.rows() {
		if r.lost != nil {
			lostJobs += *r.lost
		}
	}
	goals = append(goals, goal{"lost jobs, all measures", fmt.Sprint(lostJobs), "0", lostJobs == 0})
	if m.fullSeq != nil && m.fullConc != nil {
		ratio := m.fullConc.elapsed.Seconds() / m.fullSeq.elapsed.Seconds()
		goals = append(goals, goal{"full jobs: at once / one after another",
			fmt.Sprintf("%.2f (%.1f s / %.1f s)", ratio, m.fullConc.elapsed.Seconds(), m.fullSeq.elapsed.Seconds()), "≤ 1.1", ratio <= 1.1})
	}
	return goals
}

// printNotes says how the figures were taken, the settings the bench
// changes above all.
func printNotes(w io.Writer, opts options) {
	fmt.Fprintf(w, `- web and worker built from this commit, APP_ENV=production, prices from the bundled sample (offline), Augur's defaults
  (the database pool's included) except SUBMIT_RATE_LIMIT=%d and MAX_UNFINISHED_JOBS=%d per user, raised so that
  %d users can submit thousands of jobs a minute: the rate limiter, the unfinished-jobs count, the token lookup and the
  idempotency check still run on every submission, each with its own Idempotency-Key.
- cheap jobs are {"ticker":"MSFT","models":["naive"]}: identical, yet each computes its own result, as the worker
  coalesces only jobs whose models cost more than the look-up (closed-form models without the news never do).
- worker concurrency %d for the drain and end to end (the issue's measurement), its default (one per CPU) for the idle
  pickup and the full jobs; no worker runs during the submit measures. Full jobs each have their own seed, so no
  job reuses another's result or LSTM weights.
- PostgreSQL: a private cluster with the server's default durability (fsync and synchronous_commit on); Redis: private,
  no persistence; bare asynq runs on its database 1 with Augur's task options.
- end to end, bare asynq's server and Augur's worker are running and idle at the first enqueue, so each figure holds
  one idle pickup; both look at an empty queue as often as the worker's default WORKER_TASK_CHECK_INTERVAL. The
  same-count bare asynq measure handles as many tasks as Augur's end to end; the steady one as many as the enqueue.
- latency: one request, sent to answer read, unless the measure says otherwise; pgbench's from its transaction log.
- CPU: user+system time from /proc/<pid>/stat per operation; postgres is the postmaster and all its children, live and
  exited; total is web+worker+postgres+redis. generator is the bench process (pgbench for the INSERT baseline) and
  counts in the total only for bare asynq, whose client and server run inside it.
- lost: accepted (202) jobs not succeeded once the queue is drained; the drain's jobs count on the submit rows.
`, submitRateLimit, maxUnfinishedJobs, opts.users, opts.e2eConcurrency)
}
