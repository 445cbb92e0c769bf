package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/upstream"
)

// PriceLoader loads a ticker's daily history (market.Loader in production).
type PriceLoader interface {
	Load(ctx context.Context, ticker string) (*market.Series, error)
}

// NewsAnalyzer runs the sentiment source chain (sentiment.Analyzer in production).
type NewsAnalyzer interface {
	Analyze(ctx context.Context, req sentiment.Request) (*sentiment.Report, error)
}

// Worker runs jobs. Every handler is safe to run twice for the same job:
// delivery is at least once, results are written by job id, and a finished
// job is never run again or moved backwards. A job also runs on at most one
// worker at a time: an attempt holds its job through a lease in PostgreSQL
// that it renews while it runs, and a worker handed a job that another live
// attempt holds leaves it alone.
type Worker struct {
	DB        *store.DB
	Prices    PriceLoader
	Sentiment NewsAnalyzer
	Events    *Events
	Logger    *slog.Logger
	Metrics   *Metrics
	// ID names this worker process in the jobs it runs (store.Job.WorkerID).
	ID string
	// Lease is how long an attempt holds its job without a heartbeat; the
	// worker renews it every third of that. Must be positive.
	Lease time.Duration
	// ProgressEvery is how long a job runs before its progress is first
	// written, and the least time between two writes; zero means
	// DefaultProgressEvery.
	ProgressEvery time.Duration
	// RetryDelay must be the asynq server's RetryDelayFunc (RetryDelay in
	// production): a failed attempt records with it when the retry is
	// due, for the user to see. Nil records the failure without a time.
	RetryDelay func(retried int, err error, task *asynq.Task) time.Duration
}

// Register adds the worker's handlers to an asynq mux.
func (w *Worker) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypePrediction, w.run(w.predict))
	mux.HandleFunc(TypeSentiment, w.run(w.analyzeSentiment))
	mux.HandleFunc(TypeLeaderboard, w.run(w.computeLeaderboard))
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err: err} }

// jobFunc does one job's work and returns its result document.
type jobFunc func(ctx context.Context, job *store.Job, progress *progressReporter) (any, error)

// run wraps a jobFunc with the job's lifecycle: take the job and keep
// holding it, watch for cancellation, write the result or the error, and
// decide about retries.
func (w *Worker) run(work jobFunc) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) (err error) {
		var p Payload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode payload: %v: %w", err, asynq.SkipRetry)
		}
		// Every line logged with ctx from here on names the request.
		ctx = requestid.With(ctx, t.Headers()[RequestIDHeader])
		job, err := w.DB.StartJob(ctx, p.JobID, w.ID, w.Lease)
		switch {
		case errors.Is(err, store.ErrJobFinished):
			// A redelivery of a job that already ended (or was canceled):
			// nothing to do, and nothing to retry.
			return nil
		case errors.Is(err, store.ErrJobHeld):
			// A second copy of a job another worker is running (Redis lost
			// the task and it was enqueued again, or asynq's own lease ran
			// out while the worker lived). Running it would run the job
			// twice at once; should that worker die, its lease lapses and
			// the reconciler enqueues the job again.
			w.Logger.InfoContext(ctx, "job held by another live worker; this copy of its task is dropped", "job_id", p.JobID)
			return nil
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("job %s does not exist: %w", p.JobID, asynq.SkipRetry)
		case err != nil:
			return err
		}
		logger := w.Logger.With("job_id", job.ID, "kind", job.Kind, "ticker", job.Ticker, "attempt", job.Attempts)
		defer func() {
			if err != nil {
				w.release(ctx, job, t, err, logger)
			}
		}()
		logger.InfoContext(ctx, "job started")
		defer w.Metrics.started(job)()
		w.publish(ctx, job)
		started := time.Now()

		jobCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var lost atomic.Bool
		stopHeartbeat := w.heartbeat(ctx, job, logger, func() {
			lost.Store(true)
			cancel()
		})
		defer stopHeartbeat()
		progress := newProgressReporter(w, job.ID, logger, cancel)
		result, workErr := work(jobCtx, job, progress)
		progress.stop()

		if workErr != nil && jobCtx.Err() != nil {
			// A cancel by the user ends the context (through asynq's cancel
			// message, the progress reporter or the heartbeat). The row is
			// already final then: nothing to write and nothing to retry.
			if w.canceled(ctx, job) {
				logger.InfoContext(ctx, "job canceled")
				w.Metrics.observe(job.Kind, store.StatusCanceled, time.Since(started))
				return nil
			}
			// This attempt's lease lapsed and another took the job: the job
			// is that attempt's to finish, and a failure written here would
			// end it under its feet.
			if lost.Load() {
				logger.WarnContext(ctx, "job taken over by another worker after this attempt's lease lapsed; stopping")
				return nil
			}
		}
		if workErr != nil {
			return w.fail(ctx, job, result, workErr, logger, started)
		}
		success := outcome{status: store.StatusSucceeded}
		if r, ok := result.(reusedResult); ok {
			success.reusedFrom = r.from
		} else if success.doc, err = json.Marshal(result); err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if err := w.record(ctx, job, success, logger); err != nil {
			return err
		}
		logger.InfoContext(ctx, "job succeeded", "seconds", time.Since(started).Seconds())
		w.Metrics.observe(job.Kind, store.StatusSucceeded, time.Since(started))
		w.publish(context.WithoutCancel(ctx), job)
		return nil
	}
}

// heartbeat renews the attempt's hold on the job every third of the lease
// until the returned stop is called. When the attempt turns out to have
// lost the job (canceled, or taken over after a lapse) it calls onLost and
// stops. A failed renewal (PostgreSQL unreachable) is only logged: the
// lease leaves room for two more tries.
func (w *Worker) heartbeat(ctx context.Context, job *store.Job, logger *slog.Logger, onLost func()) (stop func()) {
	// The hold must outlast the work's context: the final write, retried
	// through an outage, still needs it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(w.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := w.DB.Heartbeat(ctx, job.ID, job.Attempts, w.Lease)
			switch {
			case errors.Is(err, store.ErrNotHeld):
				onLost()
				return
			case err != nil && ctx.Err() == nil:
				logger.WarnContext(ctx, "job heartbeat failed; trying again at the next beat", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// The bounds of record's retries. finalWriteFloor is the least time an
// attempt gets to record its outcome, so that work finished just before
// the task's deadline is not thrown away for want of a moment.
const (
	finalWriteFloor       = 10 * time.Second
	finalWriteBaseBackoff = 100 * time.Millisecond
	finalWriteMaxBackoff  = 2 * time.Second
)

// outcome is how an attempt ends: its final status, with the result
// document or the error message, or, for a job that takes an identical
// job's result, that job.
type outcome struct {
	status     store.JobStatus
	doc        store.JSON
	errMsg     string
	reusedFrom uuid.UUID
}

// write records the outcome of job in one statement.
func (o outcome) write(ctx context.Context, db *store.DB, job *store.Job) error {
	if o.reusedFrom != uuid.Nil {
		return db.FinishReused(ctx, job.ID, o.reusedFrom)
	}
	return db.FinishJob(ctx, job.ID, o.status, o.doc, o.errMsg)
}

// record writes the job's final status with its result or error. The work
// behind it may have taken minutes, so a write that fails while PostgreSQL
// is unreachable is retried with backoff, keeping the result in hand, until
// the task's deadline (or finalWriteFloor from now, if later). Only when
// that runs out is the error returned, and asynq runs the job again. A job
// that is already final counts as recorded.
func (w *Worker) record(ctx context.Context, job *store.Job, out outcome, logger *slog.Logger) error {
	deadline := time.Now().Add(finalWriteFloor)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	writeCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	for try := 1; ; try++ {
		err := out.write(writeCtx, w.DB, job)
		if err == nil || errors.Is(err, store.ErrJobFinished) {
			if try > 1 {
				logger.InfoContext(ctx, "job outcome recorded after retries", "status", out.status, "tries", try)
			}
			return nil
		}
		wait := upstream.Backoff(finalWriteBaseBackoff, finalWriteMaxBackoff, try-1)
		if !store.IsTransient(err) || time.Now().Add(wait).After(deadline) {
			logger.ErrorContext(ctx, "could not record the job's outcome; its result is lost and asynq will run it again",
				"status", out.status, "tries", try, "result_bytes", len(out.doc), "err", err)
			return fmt.Errorf("record %s outcome of job %s: %w", out.status, job.ID, err)
		}
		logger.WarnContext(ctx, "recording the job's outcome failed; keeping the result and trying again",
			"status", out.status, "try", try, "retry_in", wait, "err", err)
		if err := upstream.Sleep(writeCtx, wait); err != nil {
			return fmt.Errorf("record %s outcome of job %s: %w", out.status, job.ID, err)
		}
	}
}

// retries returns how often asynq has retried the task being handled, and
// the most it will.
func retries(ctx context.Context) (retried, maxRetry int) {
	retried, _ = asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if !ok {
		maxRetry = MaxRetry
	}
	return retried, maxRetry
}

// release lets go of the job when the attempt hands it back to asynq with
// an error, so that asynq's retry may start as soon as it comes rather than
// be refused until this attempt's lease lapses. It records the error and
// when asynq will retry (asynq retries unless this was the last try or the
// error says not to), and tells the job's watchers. If the release fails,
// the lease lapses anyway.
func (w *Worker) release(ctx context.Context, job *store.Job, task *asynq.Task, attemptErr error, logger *slog.Logger) {
	retried, maxRetry := retries(ctx)
	var retryAt time.Time
	if w.RetryDelay != nil && retried < maxRetry && !errors.Is(attemptErr, asynq.SkipRetry) {
		retryAt = time.Now().Add(w.RetryDelay(retried, attemptErr, task))
	}
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.DB.ReleaseJob(releaseCtx, job.ID, job.Attempts, attemptErr.Error(), retryAt); err != nil {
		logger.WarnContext(ctx, "release job for its retry", "err", err)
		return
	}
	w.publish(releaseCtx, job)
}

// fail records a failed attempt. The job ends failed when the error is
// permanent or this was the last retry; otherwise asynq retries the task.
//
// A failure recorded in the job row returns nil to asynq: the row tells the
// whole story, and asynq would otherwise archive the task, where it would
// count in asynq_queue_size as if work were left. Failed jobs are counted
// by augur_jobs_finished_total{status="failed"}.
func (w *Worker) fail(ctx context.Context, job *store.Job, partial any, workErr error, logger *slog.Logger, started time.Time) error {
	retried, maxRetry := retries(ctx)
	var perm permanentError
	final := errors.As(workErr, &perm) || retried >= maxRetry
	if !final {
		logger.WarnContext(ctx, "job attempt failed, will retry", "err", workErr, "retry", retried, "max_retry", maxRetry)
		return workErr
	}
	// Keep what the work found before it failed (a sentiment report's
	// source statuses, say); a nil report encodes as "null" and is dropped.
	var doc store.JSON
	if b, err := json.Marshal(partial); err == nil && string(b) != "null" {
		doc = b
	}
	if err := w.record(ctx, job, outcome{status: store.StatusFailed, doc: doc, errMsg: workErr.Error()}, logger); err != nil {
		return fmt.Errorf("%w (after %v)", err, workErr)
	}
	logger.ErrorContext(ctx, "job failed", "err", workErr)
	w.Metrics.observe(job.Kind, store.StatusFailed, time.Since(started))
	w.publish(context.WithoutCancel(ctx), job)
	return nil
}

// canceled reports whether the job was canceled while it ran.
func (w *Worker) canceled(ctx context.Context, job *store.Job) bool {
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	current, err := w.DB.Job(readCtx, job.ID, 0)
	return err == nil && current.Status == store.StatusCanceled
}

func (w *Worker) publish(ctx context.Context, job *store.Job) {
	if w.Events == nil {
		return
	}
	if err := w.Events.Publish(ctx, job.ID); err != nil {
		w.Logger.WarnContext(ctx, "publish job event", "job_id", job.ID, "err", err)
	}
}

// Metrics counts finished jobs by kind and status, and their durations;
// how long jobs waited in their queue, how many run now, and how long
// each model took to fit.
type Metrics struct {
	finished   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	queueWait  *prometheus.HistogramVec
	inProgress prometheus.Gauge
	fit        *prometheus.HistogramVec
}

// NewMetrics registers the job metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_jobs_finished_total",
			Help: "Jobs that reached a final status, by kind and status.",
		}, []string{"kind", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "augur_job_duration_seconds",
			Help:    "Wall time of one job attempt that reached a final status.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "augur_job_queue_wait_seconds",
			Help:    "Time from a job's submission to the start of its first attempt, by queue.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900},
		}, []string{"queue"}),
		inProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "augur_jobs_in_progress",
			Help: "Job attempts this worker is running now.",
		}),
		fit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "augur_model_fit_seconds",
			Help: "Time one model took to fit and forecast, by model; a result reused or LSTM weights found in the cache is no fit and is not counted.",
			// From a linear regression's milliseconds to a long LSTM's minutes.
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"model"}),
	}
	reg.MustRegister(m.finished, m.duration, m.queueWait, m.inProgress, m.fit)
	return m
}

// started counts an attempt that began, and for a first attempt the time
// the job waited in its queue, by the database's clock, which stamped both
// ends. It returns the call that counts the attempt's end.
func (m *Metrics) started(job *store.Job) (done func()) {
	if m == nil {
		return func() {}
	}
	if job.Attempts == 1 && job.StartedAt != nil {
		m.queueWait.WithLabelValues(job.Queue).Observe(job.StartedAt.Sub(job.CreatedAt).Seconds())
	}
	m.inProgress.Inc()
	return m.inProgress.Dec
}

// fitted counts one model fit that took d.
func (m *Metrics) fitted(model string, d time.Duration) {
	if m == nil {
		return
	}
	m.fit.WithLabelValues(model).Observe(d.Seconds())
}

func (m *Metrics) observe(kind store.JobKind, status store.JobStatus, d time.Duration) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(string(kind), string(status)).Inc()
	m.duration.WithLabelValues(string(kind)).Observe(d.Seconds())
}
