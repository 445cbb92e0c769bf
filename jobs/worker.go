package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	// NewsLifetime is how long a prediction's result with news in it may
	// be reused by an identical request: the sentiment cache's lifetime,
	// after which the news would be read afresh. Zero: no limit.
	NewsLifetime time.Duration
	// Webhooks enqueues the deliveries a job's end recorded; nil leaves
	// them to the reconciler's sweep.
	Webhooks *Deliverer
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
		began := time.Now()
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
		jobCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		h := &hold{Attempt: job.Attempt(), w: w, logger: logger, cancel: cancel}
		defer func() {
			if err != nil && w.release(ctx, h, t, err, logger) {
				// The attempt has nothing left for asynq to retry: see
				// stopped.
				err = nil
			}
		}()
		logger.InfoContext(ctx, "job started")
		defer w.Metrics.started(job)()
		w.publish(ctx, job)
		started := time.Now()

		stopHeartbeat := w.heartbeat(ctx, h, began)
		defer stopHeartbeat()
		progress := newProgressReporter(w, h)
		result, workErr := work(jobCtx, job, progress)
		// A write inside the work (the claim of a computation) may be the
		// one that finds the job lost.
		h.loseIfRefused(ctx, workErr, "claim")
		cutShort := workErr != nil && jobCtx.Err() != nil
		if cutShort && errors.Is(h.lost(), errLeaseLapsed) {
			workErr = errLeaseLapsed
		}
		progress.stop()
		if cutShort || h.isStale() || errors.Is(h.lost(), store.ErrJobFinished) {
			if ended := w.stopped(ctx, h, job, logger, started); ended {
				return nil
			}
		}
		if workErr != nil {
			return w.fail(ctx, h, job, result, workErr, logger, started)
		}
		success := outcome{status: store.StatusSucceeded}
		if r, ok := result.(reusedResult); ok {
			success.reusedFrom = r.from
		} else if success.doc, err = json.Marshal(result); err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if err := w.record(ctx, h, success, logger); err != nil {
			if errors.Is(err, errNotRecorded) {
				w.stopped(ctx, h, job, logger, started)
				return nil
			}
			return err
		}
		logger.InfoContext(ctx, "job succeeded", "seconds", time.Since(started).Seconds())
		w.Metrics.observe(job.Kind, store.StatusSucceeded, time.Since(started))
		w.ended(context.WithoutCancel(ctx), job)
		return nil
	}
}

// stopped ends an attempt whose work was cut short or whose hold was lost,
// and reports whether it ended there: the job was canceled, it ended some
// other way while this attempt ran, or the attempt is stale (another
// attempt took the job after this one's lease lapsed; its refusal is
// logged already, as "stale attempt N refused"). Otherwise (asynq's
// deadline or shutdown ended the work, or this worker stopped it when its
// lease lapsed unrenewed) the attempt failed, and the caller records that.
//
// An attempt that ended here returns nil to asynq, stale ones included.
// The job is not this attempt's any more: its owner or an operator ended
// it, or a newer attempt runs it, under a task of its own (the
// reconciler's rescue task, or asynq's recovered copy of this one, whose
// outcome asynq then no longer takes from this handler). An error would
// have asynq retry this task, only for the retry to find the job held or
// finished and drop it; and an error on the last retry, or SkipRetry,
// would archive the task, which the reconciler would then take for a job
// that asynq gave up on, and close, under the very attempt that holds it
// if that attempt is between retries.
func (w *Worker) stopped(ctx context.Context, h *hold, job *store.Job, logger *slog.Logger, started time.Time) bool {
	if h.isStale() {
		return true
	}
	// A cancel by the user ends the context (through asynq's cancel
	// message, the progress reporter or the heartbeat). The row is final
	// then: nothing to write and nothing to retry.
	if w.canceled(ctx, job) {
		logger.InfoContext(ctx, "job canceled")
		w.Metrics.observe(job.Kind, store.StatusCanceled, time.Since(started))
		return true
	}
	if errors.Is(h.lost(), store.ErrJobFinished) {
		logger.WarnContext(ctx, "job ended while this attempt ran (closed by the reconciler or an administrator); stopping")
		return true
	}
	return false
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

// write records the outcome of attempt a in one statement, fenced by the
// attempt.
func (o outcome) write(ctx context.Context, db *store.DB, a store.Attempt) error {
	if o.reusedFrom != uuid.Nil {
		return db.FinishReused(ctx, a, o.reusedFrom)
	}
	return db.FinishJob(ctx, a, o.status, o.doc, o.errMsg)
}

// errNotRecorded means an outcome was not written because the attempt had
// lost its job (see stopped): nothing to retry.
var errNotRecorded = errors.New("outcome not recorded: the attempt no longer holds its job")

// record writes the job's final status with its result or error. The work
// behind it may have taken minutes, so a write that fails while PostgreSQL
// is unreachable is retried with backoff, keeping the result in hand, until
// the task's deadline (or finalWriteFloor from now, if later). Only when
// that runs out is the error returned, and asynq runs the job again. A
// write refused because the attempt lost the job (another took it, or it
// ended) gives errNotRecorded, and nothing is logged as the job's outcome;
// an attempt already known to be stale does not try.
func (w *Worker) record(ctx context.Context, h *hold, out outcome, logger *slog.Logger) error {
	if h.isStale() {
		return errNotRecorded
	}
	deadline := time.Now().Add(finalWriteFloor)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	writeCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	for try := 1; ; try++ {
		err := out.write(writeCtx, w.DB, h.Attempt)
		if err == nil {
			if try > 1 {
				logger.InfoContext(ctx, "job outcome recorded after retries", "status", out.status, "tries", try)
			}
			return nil
		}
		if h.loseIfRefused(ctx, err, "result") {
			return errNotRecorded
		}
		wait := upstream.Backoff(finalWriteBaseBackoff, finalWriteMaxBackoff, try-1)
		if !store.IsTransient(err) || time.Now().Add(wait).After(deadline) {
			logger.ErrorContext(ctx, "could not record the job's outcome; its result is lost and asynq will run it again",
				"status", out.status, "tries", try, "result_bytes", len(out.doc), "err", err)
			return fmt.Errorf("record %s outcome of job %s: %w", out.status, h.JobID, err)
		}
		logger.WarnContext(ctx, "recording the job's outcome failed; keeping the result and trying again",
			"status", out.status, "try", try, "retry_in", wait, "err", err)
		if err := upstream.Sleep(writeCtx, wait); err != nil {
			return fmt.Errorf("record %s outcome of job %s: %w", out.status, h.JobID, err)
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
// the lease lapses anyway. It reports true when the release was refused
// because the attempt had lost the job: then there is nothing for asynq to
// retry (see stopped).
func (w *Worker) release(ctx context.Context, h *hold, task *asynq.Task, attemptErr error, logger *slog.Logger) bool {
	retried, maxRetry := retries(ctx)
	var retryAt time.Time
	if w.RetryDelay != nil && retried < maxRetry && !errors.Is(attemptErr, asynq.SkipRetry) {
		retryAt = time.Now().Add(w.RetryDelay(retried, attemptErr, task))
	}
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := w.DB.ReleaseJob(releaseCtx, h.Attempt, attemptErr.Error(), retryAt)
	switch {
	case h.loseIfRefused(ctx, err, "release"):
		return true
	case err != nil:
		logger.WarnContext(ctx, "release job for its retry", "err", err)
		return false
	}
	w.publishID(releaseCtx, h.JobID)
	return false
}

// fail records a failed attempt. The job ends failed when the error is
// permanent or this was the last retry; otherwise asynq retries the task.
//
// A failure recorded in the job row returns nil to asynq: the row tells the
// whole story, and asynq would otherwise archive the task, where it would
// count in asynq_queue_size as if work were left. Failed jobs are counted
// by augur_jobs_finished_total{status="failed"}.
func (w *Worker) fail(ctx context.Context, h *hold, job *store.Job, partial any, workErr error, logger *slog.Logger, started time.Time) error {
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
	if err := w.record(ctx, h, outcome{status: store.StatusFailed, doc: doc, errMsg: workErr.Error()}, logger); err != nil {
		if errors.Is(err, errNotRecorded) {
			w.stopped(ctx, h, job, logger, started)
			return nil
		}
		return fmt.Errorf("%w (after %v)", err, workErr)
	}
	logger.ErrorContext(ctx, "job failed", "err", workErr)
	w.Metrics.observe(job.Kind, store.StatusFailed, time.Since(started))
	w.ended(context.WithoutCancel(ctx), job)
	return nil
}

// ended tells the job's watchers that it ended, and enqueues the webhook
// deliveries its end recorded, if its submission named an endpoint.
func (w *Worker) ended(ctx context.Context, job *store.Job) {
	w.publish(ctx, job)
	var hooked struct {
		Webhook string `json:"webhook"`
	}
	if w.Webhooks != nil && json.Unmarshal(job.Params, &hooked) == nil && hooked.Webhook != "" {
		w.Webhooks.EnqueueForJob(ctx, job.ID)
	}
}

// canceled reports whether the job was canceled while it ran.
func (w *Worker) canceled(ctx context.Context, job *store.Job) bool {
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	current, err := w.DB.Job(readCtx, job.ID, 0)
	return err == nil && current.Status == store.StatusCanceled
}

func (w *Worker) publish(ctx context.Context, job *store.Job) { w.publishID(ctx, job.ID) }

func (w *Worker) publishID(ctx context.Context, id uuid.UUID) {
	if w.Events == nil {
		return
	}
	if err := w.Events.Publish(ctx, id); err != nil {
		w.Logger.WarnContext(ctx, "publish job event", "job_id", id, "err", err)
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
	lostHolds  *prometheus.CounterVec
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
		lostHolds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_job_attempts_lost_total",
			Help: "Job attempts that lost their job while they ran, by reason: lease_lapsed (no heartbeat reached PostgreSQL for a whole JOB_LEASE, so the worker stopped the work itself) and stale (a write of the attempt was refused because another attempt had taken the job).",
		}, []string{"reason"}),
	}
	for _, reason := range []string{"lease_lapsed", "stale"} {
		m.lostHolds.WithLabelValues(reason)
	}
	reg.MustRegister(m.finished, m.duration, m.queueWait, m.inProgress, m.fit, m.lostHolds)
	return m
}

// lost counts an attempt that lost its job, for reason.
func (m *Metrics) lost(reason string) {
	if m == nil {
		return
	}
	m.lostHolds.WithLabelValues(reason).Inc()
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
