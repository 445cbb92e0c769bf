package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
)

// cheapJob is the cheap prediction of the measurements: the naive
// (persistence) model alone on a bundled ticker. The jobs are identical,
// yet each computes its own result: the worker coalesces only jobs whose
// models cost more than the look-up.
const cheapJob = `{"ticker":"MSFT","models":["naive"]}`

// submitter posts jobs to the private web server as a careful client
// would: keep-alive connections, each request as the next of many users
// in turn, each with its own Idempotency-Key.
type submitter struct {
	base   string // the web server's URL
	http   *http.Client
	tokens []string
	run    string       // prefix of this run's Idempotency-Keys
	seq    atomic.Int64 // numbers the requests: picks the user and the key
}

// newSubmitter makes a submitter for the web server on port, with idle
// connections enough for every client to keep its own.
func newSubmitter(port int, tokens []string, maxClients int) *submitter {
	return &submitter{
		base: "http://127.0.0.1:" + strconv.Itoa(port),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 2 * maxClients, MaxIdleConnsPerHost: 2 * maxClients, IdleConnTimeout: time.Minute,
		}},
		tokens: tokens,
		run:    "load-" + strconv.FormatInt(time.Now().UnixNano(), 36),
	}
}

// warm lists one job of every user from clients goroutines, so that the
// first measure finds the web server's connections to PostgreSQL and
// Redis, and the client's to it, open, without creating jobs.
func (s *submitter) warm(ctx context.Context, clients int) error {
	var next atomic.Int64
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(len(s.tokens)) && errs[i] == nil; n = next.Add(1) {
				errs[i] = s.list(ctx, s.tokens[n-1])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// list asks for a user's latest job.
func (s *submitter) list(ctx context.Context, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/jobs?limit=1", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/jobs: status %d", resp.StatusCode)
	}
	return nil
}

// submission is the outcome of one POST.
type submission struct {
	id       string // the job's id when accepted
	status   int    // 0 when the request failed before an answer
	sent     time.Time
	answered time.Time
}

// accepted reports whether the job was accepted (202).
func (s submission) accepted() bool { return s.status == http.StatusAccepted }

// submit posts one job.
func (s *submitter) submit(ctx context.Context, body string) submission {
	n := s.seq.Add(1)
	sub := submission{sent: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/predictions", bytes.NewBufferString(body))
	if err != nil {
		return sub
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[int(n)%len(s.tokens)])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", s.run+"-"+strconv.FormatInt(n, 10))
	resp, err := s.http.Do(req)
	if err != nil {
		return sub
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	sub.answered = time.Now()
	if err != nil {
		return sub
	}
	sub.status = resp.StatusCode
	if sub.accepted() {
		var job struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(b, &job) != nil || job.ID == "" {
			sub.status = 0
		}
		sub.id = job.ID
	}
	return sub
}

// batch is what a run of submissions gave.
type batch struct {
	ids    []string        // accepted jobs
	lat    []time.Duration // every answered request's latency
	errors map[string]int  // refused or failed requests, by status ("net" for no answer)
	first  time.Time       // when the first request was sent
	last   time.Time       // when the last answer arrived
}

// submitMany posts n copies of body from clients goroutines.
func (s *submitter) submitMany(ctx context.Context, clients, n int, body string) batch {
	var next atomic.Int64
	subs := make([][]submission, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				subs[i] = append(subs[i], s.submit(ctx, body))
			}
		})
	}
	wg.Wait()
	b := batch{errors: map[string]int{}}
	for _, list := range subs {
		for _, sub := range list {
			b.add(sub)
		}
	}
	return b
}

// add counts one submission into the batch.
func (b *batch) add(s submission) {
	if b.first.IsZero() || s.sent.Before(b.first) {
		b.first = s.sent
	}
	if s.answered.After(b.last) {
		b.last = s.answered
	}
	switch {
	case s.accepted():
		b.ids = append(b.ids, s.id)
	case s.status == 0:
		b.errors["net"]++
	default:
		b.errors[strconv.Itoa(s.status)]++
	}
	if !s.answered.IsZero() {
		b.lat = append(b.lat, s.answered.Sub(s.sent))
	}
}

// submitPhase measures submissions alone: n cheap jobs from clients
// goroutines. Whether the jobs are lost is known only after a worker has
// drained them.
func (c *cluster) submitPhase(ctx context.Context, s *submitter, clients, n int) (row, []string, error) {
	before := c.cpu()
	b := s.submitMany(ctx, clients, n, cheapJob)
	cpu := c.cpu().sub(before)
	if err := ctx.Err(); err != nil {
		return row{}, nil, err
	}
	elapsed := b.last.Sub(b.first)
	return row{
		phase: "Augur submit, no worker running", clients: clients, ops: n,
		rate: float64(len(b.ids)) / elapsed.Seconds(), elapsed: elapsed, lat: summarize(b.lat),
		errors: b.errors, cpu: cpu,
	}, b.ids, nil
}

// livePoll is how often the bench asks PostgreSQL whether jobs remain.
// The query reads only the partial index of live jobs, so its cost stays
// far below the jobs' own.
const livePoll = 100 * time.Millisecond

// awaitNoLiveJobs waits until no job is queued or running, polling
// PostgreSQL every poll; the bench is the private cluster's only client,
// so then every job it submitted is final.
func (c *cluster) awaitNoLiveJobs(ctx context.Context, poll, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		live, err := c.db.AnyLiveJob(ctx)
		if err == nil && !live {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("jobs still queued or running after %v", timeout)
			}
			return err
		case <-tick.C:
		}
	}
}

// outcome is what became of a set of accepted jobs.
type outcome struct {
	succeeded    int
	lastFinished time.Time       // the latest finished_at
	runtimes     []time.Duration // finished_at − created_at of each final job
	worktimes    []time.Duration // finished_at − started_at of each final job that started
}

// outcomeOf reads the jobs' final state from PostgreSQL.
func (c *cluster) outcomeOf(ctx context.Context, ids []string) (outcome, error) {
	rows, err := c.timings(ctx, ids)
	if err != nil {
		return outcome{}, err
	}
	var o outcome
	for _, r := range rows {
		if r.Status == store.StatusSucceeded {
			o.succeeded++
		}
		if r.FinishedAt != nil {
			o.runtimes = append(o.runtimes, r.FinishedAt.Sub(r.CreatedAt))
			if r.StartedAt != nil {
				o.worktimes = append(o.worktimes, r.FinishedAt.Sub(*r.StartedAt))
			}
			if r.FinishedAt.After(o.lastFinished) {
				o.lastFinished = *r.FinishedAt
			}
		}
	}
	return o, nil
}

// lost is how many of the accepted jobs did not succeed.
func (o outcome) lost(accepted int) *int { return new(accepted - o.succeeded) }

// drainPhase starts a worker of the given concurrency on the jobs left
// queued by the submit phases and waits until all are final. Its row
// shows no lost jobs: the submit measures' rows do, each for its own.
func (c *cluster) drainPhase(ctx context.Context, concurrency int, ids []string, timeout time.Duration) (row, error) {
	before := c.cpu()
	start := time.Now()
	if err := c.startWorker(ctx, concurrency); err != nil {
		return row{}, err
	}
	if err := c.awaitNoLiveJobs(ctx, livePoll, timeout); err != nil {
		return row{}, err
	}
	cpu := c.cpu().sub(before)
	o, err := c.outcomeOf(ctx, ids)
	if err != nil {
		return row{}, err
	}
	elapsed := o.lastFinished.Sub(start)
	return row{
		phase: fmt.Sprintf("Augur drain of the submitted jobs (worker concurrency %d, from its start)", concurrency),
		ops:   len(ids), rate: float64(len(ids)) / elapsed.Seconds(), elapsed: elapsed,
		errors: map[string]int{}, cpu: cpu,
	}, nil
}

// endToEndPhase submits n cheap jobs from clients goroutines while the
// worker runs, and measures from the first submission to the last job
// final (finished_at, PostgreSQL's clock on the same machine).
func (c *cluster) endToEndPhase(ctx context.Context, s *submitter, clients, n int, timeout time.Duration) (row, error) {
	before := c.cpu()
	b := s.submitMany(ctx, clients, n, cheapJob)
	if err := c.awaitNoLiveJobs(ctx, livePoll, timeout); err != nil {
		return row{}, err
	}
	cpu := c.cpu().sub(before)
	o, err := c.outcomeOf(ctx, b.ids)
	if err != nil {
		return row{}, err
	}
	elapsed := o.lastFinished.Sub(b.first)
	return row{
		phase: "Augur end to end, cheap jobs", clients: clients, ops: n,
		rate: float64(o.succeeded) / elapsed.Seconds(), elapsed: elapsed,
		lat: summarize(o.runtimes), latNote: "created→finished",
		errors: b.errors, cpu: cpu, lost: o.lost(len(b.ids)),
	}, nil
}

// timings reads the status and times of the jobs with the given ids.
func (c *cluster) timings(ctx context.Context, ids []string) ([]store.JobTiming, error) {
	parsed := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		var err error
		if parsed[i], err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("job id %q from a 202: %w", id, err)
		}
	}
	return c.db.JobTimings(ctx, parsed)
}
