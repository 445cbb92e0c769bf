package chaos

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cheapJob is a job of a few milliseconds. Identical cheap jobs each
// compute their own result (closed-form models are never coalesced).
func cheapJob() string { return `{"ticker":"MSFT","models":["naive"]}` }

// longSeeds numbers the long jobs, so that each has a seed of its own.
var longSeeds atomic.Int64

// longJob trains an LSTM on the sample S&P 500 history: tens of seconds of
// CPU on a 2-core machine in the full run, a few seconds in the short one.
// Each has its own seed: identical ones would take one another's result,
// or trained weights, and finish at once instead of training.
func longJob() string {
	return fmt.Sprintf(`{"ticker":"^GSPC","models":["lstm"],"lookback":%d,"seed":%d}`, size(3000, 20000), longSeeds.Add(1))
}

// client submits jobs as an API user would: each job has its own
// Idempotency-Key, and an answer that says "try again" (503, 429, or no
// answer at all) is retried with the same key until a 202 comes.
type client struct {
	c *cluster

	mu       sync.Mutex
	accepted map[string]string // job id by Idempotency-Key
	answers  map[int]int       // HTTP status → how many times it was answered
	unknown  []string          // answers neither 202, 429 nor 503
}

func newClient(c *cluster) *client {
	return &client{c: c, accepted: map[string]string{}, answers: map[int]int{}}
}

// submit posts one job until it is accepted or ctx ends, and returns its id
// ("" if never accepted).
func (cl *client) submit(ctx context.Context, key, body string) string {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		id, status := cl.post(ctx, key, body)
		if status != 0 {
			cl.mu.Lock()
			cl.answers[status]++
			cl.mu.Unlock()
		}
		switch status {
		case http.StatusAccepted, http.StatusOK:
			cl.mu.Lock()
			defer cl.mu.Unlock()
			if prev, ok := cl.accepted[key]; ok && prev != id {
				cl.unknown = append(cl.unknown, fmt.Sprintf("key %s answered job %s, then job %s", key, prev, id))
			}
			cl.accepted[key] = id
			return id
		case 0, http.StatusServiceUnavailable, http.StatusTooManyRequests:
		default:
			cl.mu.Lock()
			cl.unknown = append(cl.unknown, fmt.Sprintf("key %s: HTTP %d", key, status))
			cl.mu.Unlock()
		}
		// Back off before asking again, as a polite client does.
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
	return ""
}

// post sends one request; status 0 means no answer came.
func (cl *client) post(ctx context.Context, key, body string) (id string, status int) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cl.c.webAddr+"/api/v1/predictions", strings.NewReader(body))
	if err != nil {
		return "", 0
	}
	req.Header.Set("Authorization", "Bearer "+cl.c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := cl.c.http.Do(req)
	if err != nil {
		return "", 0
	}
	var job struct {
		ID string `json:"id"`
	}
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		if err := decodeJSON(resp, &job); err != nil {
			return "", 0
		}
		return job.ID, resp.StatusCode
	}
	resp.Body.Close()
	return "", resp.StatusCode
}

// stream submits n jobs, each of a body from body, from parallel senders, calling each
// accepted job's index on accepted (for a scenario's fault trigger), and
// returns when all are accepted or ctx ends. With pace, each job waits for
// a tick of it before it is sent.
func (cl *client) stream(ctx context.Context, prefix string, n, senders int, body func() string, pace <-chan time.Time, accepted func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if cl.submit(ctx, fmt.Sprintf("%s-%d", prefix, i), body()) != "" && accepted != nil {
					accepted(i)
				}
			}
		}()
	}
	for i := range n {
		if pace != nil {
			<-pace
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// ids returns every accepted job's id.
func (cl *client) ids() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	ids := make([]string, 0, len(cl.accepted))
	for _, id := range cl.accepted {
		ids = append(ids, id)
	}
	return ids
}

// idsOf returns the ids of the accepted jobs that stream submitted with
// prefix.
func (cl *client) idsOf(prefix string) []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var ids []string
	for key, id := range cl.accepted {
		if strings.HasPrefix(key, prefix+"-") {
			ids = append(ids, id)
		}
	}
	return ids
}
