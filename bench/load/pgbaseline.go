package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/augurhq/augur/internal/pgcluster"
)

// The baseline's table and its one-row INSERT: a few columns, like a job
// row without its JSON payloads and indexes.
const (
	baselineDB     = "loadbench"
	baselineSchema = `CREATE TABLE load_insert (
		id         bigserial PRIMARY KEY,
		owner_id   bigint NOT NULL,
		ticker     text NOT NULL,
		status     text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())`
	baselineInsert = `INSERT INTO load_insert (owner_id, ticker, status) VALUES (%s, 'MSFT', 'queued')`
)

// createBaselineDB creates the baseline's own database and table on the
// private cluster.
func (c *cluster) createBaselineDB(ctx context.Context) error {
	admin, err := sqlx.Open("postgres", c.databaseURL("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+baselineDB); err != nil {
		return fmt.Errorf("create %s: %w", baselineDB, err)
	}
	db, err := sqlx.Open("postgres", c.databaseURL(baselineDB))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, baselineSchema)
	return err
}

// pgBaseline measures one-row INSERT commits at the given number of
// clients for d: with pgbench when it is installed, otherwise with a Go
// loop over lib/pq.
func (c *cluster) pgBaseline(ctx context.Context, clients int, d time.Duration) (row, error) {
	pgbench, err := pgbenchPath()
	if err != nil {
		return c.goBaseline(ctx, clients, d)
	}
	return c.pgbenchBaseline(ctx, pgbench, clients, d)
}

// pgbenchPath finds pgbench: on the PATH, or beside the server programs.
func pgbenchPath() (string, error) {
	if path, err := exec.LookPath("pgbench"); err == nil {
		return path, nil
	}
	return pgcluster.Bin("pgbench")
}

// pgbenchBaseline runs pgbench with a per-transaction log, from which it
// takes the latencies; the rate is pgbench's own (without the time its
// connections took).
func (c *cluster) pgbenchBaseline(ctx context.Context, pgbench string, clients int, d time.Duration) (row, error) {
	script := filepath.Join(c.dir, "insert.sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(baselineInsert, ":client_id")+";\n"), 0o644); err != nil {
		return row{}, err
	}
	prefix := filepath.Join(c.dir, fmt.Sprintf("pgbench-c%d", clients))
	cmd := exec.CommandContext(ctx, pgbench, "-n", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(d.Round(time.Second).Seconds())), "-f", script,
		"-l", "--log-prefix", prefix,
		"-h", "127.0.0.1", "-p", strconv.Itoa(c.pgPort), "-U", "postgres", baselineDB)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	before := c.cpu()
	if err := cmd.Run(); err != nil {
		return row{}, fmt.Errorf("pgbench: %w\n%s", err, out.String())
	}
	cpu := c.cpu().sub(before)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu[roleGenerator] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	sum, err := parsePgbenchSummary(out.String())
	if err != nil {
		return row{}, fmt.Errorf("pgbench: %w\n%s", err, out.String())
	}
	logs, _ := filepath.Glob(prefix + ".*")
	var lat []time.Duration
	failed := 0
	for _, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			return row{}, err
		}
		l, n, err := parsePgbenchLog(f)
		f.Close()
		if err != nil {
			return row{}, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		lat, failed = append(lat, l...), failed+n
	}
	r := row{
		phase: "PostgreSQL one-row INSERT commits (pgbench)", clients: clients,
		ops: sum.processed, rate: sum.tps, elapsed: d, lat: summarize(lat), cpu: cpu,
		errors: map[string]int{},
	}
	if failed+sum.failed > 0 {
		r.errors["failed"] = max(failed, sum.failed)
	}
	return r, nil
}

// pgbenchSummary is what the bench reads from pgbench's report.
type pgbenchSummary struct {
	processed, failed int
	tps               float64
}

// parsePgbenchSummary reads pgbench's report: the transactions processed,
// those that failed (PostgreSQL 15 and later print the line) and the
// rate without the initial connection time.
func parsePgbenchSummary(out string) (pgbenchSummary, error) {
	var s pgbenchSummary
	var sawProcessed, sawTPS bool
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "number of transactions actually processed:"); ok {
			n, err := strconv.Atoi(firstField(v, "/"))
			if err != nil || n < 0 {
				return s, fmt.Errorf("bad processed count in %q", line)
			}
			s.processed, sawProcessed = n, true
		}
		if v, ok := strings.CutPrefix(line, "number of failed transactions:"); ok {
			n, err := strconv.Atoi(firstField(v, "("))
			if err != nil || n < 0 {
				return s, fmt.Errorf("bad failed count in %q", line)
			}
			s.failed = n
		}
		if v, ok := strings.CutPrefix(line, "tps = "); ok && strings.Contains(v, "without initial connection time") {
			tps, err := strconv.ParseFloat(firstField(v, "("), 64)
			if err != nil || !(tps >= 0) || math.IsInf(tps, 0) { // NaN fails tps >= 0
				return s, fmt.Errorf("bad tps in %q", line)
			}
			s.tps, sawTPS = tps, true
		}
	}
	if !sawProcessed || !sawTPS {
		return s, errors.New("no transaction count or tps in pgbench's report")
	}
	return s, nil
}

// firstField returns the part of s before sep, trimmed ("123/456" → "123").
func firstField(s, sep string) string {
	before, _, _ := strings.Cut(s, sep)
	return strings.TrimSpace(before)
}

// parsePgbenchLog reads a pgbench per-transaction log, whose lines are
// "client_id transaction_no time script_no time_epoch time_us [...]",
// time being the latency in microseconds, or "failed" or "skipped".
func parsePgbenchLog(r io.Reader) (lat []time.Duration, failed int, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 6 {
			return nil, 0, fmt.Errorf("line %d: %d fields, want at least 6", n, len(f))
		}
		switch f[2] {
		case "failed", "skipped":
			failed++
			continue
		}
		us, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || us < 0 {
			return nil, 0, fmt.Errorf("line %d: bad latency %q", n, f[2])
		}
		lat = append(lat, time.Duration(us)*time.Microsecond)
	}
	return lat, failed, sc.Err()
}

// goBaseline is the baseline without pgbench: clients goroutines, one
// connection each, commit one-row INSERTs (simple protocol, as pgbench's
// default) for d.
func (c *cluster) goBaseline(ctx context.Context, clients int, d time.Duration) (row, error) {
	db, err := sqlx.Open("postgres", c.databaseURL(baselineDB))
	if err != nil {
		return row{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	query := fmt.Sprintf(baselineInsert, "1")
	before := c.cpu()
	start := time.Now()
	deadline := start.Add(d)
	lats := make([][]time.Duration, clients)
	fails := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t := time.Now()
				if _, err := db.ExecContext(ctx, query); err != nil {
					fails[i]++
					continue
				}
				lats[i] = append(lats[i], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := c.cpu().sub(before)
	if err := ctx.Err(); err != nil {
		return row{}, err
	}
	var all []time.Duration
	failed := 0
	for i := range clients {
		all, failed = append(all, lats[i]...), failed+fails[i]
	}
	r := row{
		phase: "PostgreSQL one-row INSERT commits (Go loop, no pgbench)", clients: clients,
		ops: len(all), rate: float64(len(all)) / elapsed.Seconds(), elapsed: elapsed,
		lat: summarize(all), cpu: cpu, errors: map[string]int{},
	}
	if failed > 0 {
		r.errors["failed"] = failed
	}
	return r, nil
}
