package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// The bare asynq ceiling runs in the bench process on Redis database 1 of
// the private server (Augur uses database 0), with the options Augur
// gives its own tasks: a task id, a queue, a timeout and retries.
const (
	asynqDB       = 1
	asynqTaskType = "bench:noop"
	asynqQueue    = "default"
)

// asynqTask is a task of the ceiling whose payload is the time it was
// enqueued, so the handler can tell how long it waited.
func asynqTask(now time.Time) *asynq.Task {
	payload := binary.LittleEndian.AppendUint64(nil, uint64(now.UnixNano()))
	return asynq.NewTask(asynqTaskType, payload,
		asynq.TaskID(uuid.NewString()), asynq.Queue(asynqQueue),
		asynq.Timeout(10*time.Minute), asynq.MaxRetry(3))
}

// enqueueAll enqueues n tasks from clients goroutines and returns each
// Enqueue's latency and the errors by kind.
func enqueueAll(ctx context.Context, client *asynq.Client, clients, n int) ([]time.Duration, map[string]int) {
	var next atomic.Int64
	lats := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t := time.Now()
				if _, err := client.EnqueueContext(ctx, asynqTask(t)); err != nil {
					errs[i]++
					continue
				}
				lats[i] = append(lats[i], time.Since(t))
			}
		})
	}
	wg.Wait()
	var all []time.Duration
	failed := 0
	for i := range clients {
		all, failed = append(all, lats[i]...), failed+errs[i]
	}
	failures := map[string]int{}
	if failed > 0 {
		failures["enqueue"] = failed
	}
	return all, failures
}

// asynqEnqueue measures bare asynq Enqueue calls: n tasks from clients
// goroutines, with no server taking them.
func (c *cluster) asynqEnqueue(ctx context.Context, clients, n int) (row, error) {
	opt := asynq.RedisClientOpt{Addr: c.redisAddr(), DB: asynqDB, PoolSize: 2 * clients}
	client := asynq.NewClient(opt)
	defer client.Close()
	before := c.cpu()
	start := time.Now()
	lat, errs := enqueueAll(ctx, client, clients, n)
	elapsed := time.Since(start)
	cpu := c.cpu().sub(before)
	if err := ctx.Err(); err != nil {
		return row{}, err
	}
	// The next measure starts on an empty database.
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	if _, err := inspector.DeleteAllPendingTasks(asynqQueue); err != nil {
		return row{}, fmt.Errorf("empty the asynq queue: %w", err)
	}
	return row{
		phase: "bare asynq Enqueue", clients: clients, ops: len(lat),
		rate: float64(len(lat)) / elapsed.Seconds(), elapsed: elapsed, lat: summarize(lat),
		errors: errs, cpu: cpu, inProcess: true,
	}, nil
}

// asynqEndToEnd measures bare asynq from the first Enqueue to the last
// task handled: n tasks enqueued from clients goroutines while an asynq
// server with the given concurrency runs a handler that does nothing but
// note how long the task waited since its Enqueue.
func (c *cluster) asynqEndToEnd(ctx context.Context, clients, concurrency, n int) (row, error) {
	opt := asynq.RedisClientOpt{Addr: c.redisAddr(), DB: asynqDB, PoolSize: 2 * clients}
	var (
		mu      sync.Mutex
		waits   = make([]time.Duration, 0, n)
		lastRun time.Time
		allDone = make(chan struct{})
	)
	mux := asynq.NewServeMux()
	mux.HandleFunc(asynqTaskType, func(_ context.Context, t *asynq.Task) error {
		now := time.Now()
		enqueued := time.Unix(0, int64(binary.LittleEndian.Uint64(t.Payload())))
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, now.Sub(enqueued))
		lastRun = now
		if len(waits) == n {
			close(allDone)
		}
		return nil
	})
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{asynqQueue: 1},
		LogLevel:    asynq.ErrorLevel,
	})
	if err := srv.Start(mux); err != nil {
		return row{}, fmt.Errorf("start the asynq server: %w", err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()

	before := c.cpu()
	start := time.Now()
	_, errs := enqueueAll(ctx, client, clients, n)
	if failed := errs["enqueue"]; failed > 0 {
		return row{}, fmt.Errorf("bare asynq: %d of %d enqueues failed", failed, n)
	}
	select {
	case <-allDone:
	case <-ctx.Done():
		return row{}, ctx.Err()
	case <-time.After(5 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return row{}, fmt.Errorf("bare asynq: only %d of %d tasks handled after 5 minutes", len(waits), n)
	}
	cpu := c.cpu().sub(before)
	mu.Lock()
	elapsed := lastRun.Sub(start)
	lat := summarize(waits)
	mu.Unlock()
	return row{
		phase: "bare asynq end to end, no-op handler", clients: clients, ops: n,
		rate: float64(n) / elapsed.Seconds(), elapsed: elapsed, lat: lat, latNote: "enqueue→handled",
		errors: errs, cpu: cpu, inProcess: true, lost: new(0),
	}, nil
}
