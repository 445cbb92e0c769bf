package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/store"
)

// Dispatcher puts held jobs in Redis in their owners' turns
// (docs/fairness.md). A submission is stored held, still queued, when its
// owner already has its share of jobs in the line and others wait; the
// Dispatcher picks the next jobs whenever the line may have room: after
// each task a worker ends (AfterEachTask), when a worker starts or renews
// its slots (Run), and on each reconciler pass (so that a trigger lost
// with a killed worker or an emptied Redis is made up for). A user's
// cancel needs none: a canceled job that was waiting in Redis used no
// slot, and a running one ends its task. PostgreSQL decides
// (store.DispatchHeldJobs, one round trip); the Dispatcher only enqueues
// what it was given.
type Dispatcher struct {
	db     *store.DB
	queue  *Queue
	rule   store.DispatchRule
	logger *slog.Logger
	// kick asks Run for a dispatch; a kick while one waits is one kick.
	kick chan struct{}
}

// NewDispatcher returns a dispatcher of the held jobs in db onto queue
// under rule, which must be the one the web admits jobs with
// (admission.Dispatch).
func NewDispatcher(db *store.DB, queue *Queue, rule store.DispatchRule, logger *slog.Logger) *Dispatcher {
	return &Dispatcher{db: db, queue: queue, rule: rule, logger: logger, kick: make(chan struct{}, 1)}
}

// dispatchBatch is the most jobs one call to the store dispatches; a full
// batch is followed by another.
const dispatchBatch = 50

// dispatchTimeout bounds one dispatch that Run makes.
const dispatchTimeout = 10 * time.Second

// Dispatch dispatches the held jobs whose turn it is and enqueues their
// tasks, and returns how many it dispatched. A task whose enqueue fails
// is logged and left to the reconciler, which enqueues every dispatched
// job that Redis does not hold.
func (d *Dispatcher) Dispatch(ctx context.Context) (int, error) {
	if d == nil {
		return 0, nil
	}
	total := 0
	for {
		batch, err := d.db.DispatchHeldJobs(ctx, d.rule, queues, dispatchBatch)
		if err != nil {
			return total, err
		}
		for i := range batch {
			job := batch[i].Job()
			if err := d.queue.Enqueue(ctx, job); err != nil {
				d.logger.WarnContext(ctx, "dispatched job not enqueued; the reconciler will", "job_id", job.ID, "err", err)
			}
		}
		total += len(batch)
		if len(batch) < dispatchBatch {
			return total, nil
		}
	}
}

// Start puts newly stored jobs in Redis, as the jobs of a batch are when
// submitted or scheduled: those dispatched at once are enqueued (Enqueue
// skips a held one), and when any waits for its turn, the held jobs whose
// turn it is are dispatched now, as after a task ends. It stops at the first
// enqueue that fails, Redis being then most likely down: nothing is lost,
// since the reconciler enqueues dispatched jobs Redis lacks and dispatches
// held ones on each pass.
func (d *Dispatcher) Start(ctx context.Context, created []*store.Job) {
	held := false
	for _, j := range created {
		held = held || j.WaitsForTurn()
		if err := d.queue.Enqueue(ctx, j); err != nil {
			d.logger.WarnContext(ctx, "enqueue failed; the reconciler will retry", "job_id", j.ID, "err", err)
			return
		}
	}
	if held {
		if _, err := d.Dispatch(ctx); err != nil && ctx.Err() == nil {
			d.logger.WarnContext(ctx, "dispatch of held jobs failed; the reconciler will", "err", err)
		}
	}
}

// Kick asks Run to dispatch soon, without waiting for it. Kicks that come
// while a dispatch waits to run are one dispatch: it sees every job that
// ended before it.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// AfterEachTask is asynq middleware that kicks a dispatch after every task
// the worker ends: a job that ended (or failed, or was canceled) made room
// in the line. The slot is not held for it: the line keeps a task waiting
// for each slot (AheadPerSlot), which the slot takes at once.
func (d *Dispatcher) AfterEachTask(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		defer d.Kick()
		return next.ProcessTask(ctx, t)
	})
}

// SlotsRefresh is how often a worker renews its slots in PostgreSQL, and
// slotsTTL how long they count without a renewal: a killed worker's slots
// stop sizing the line within slotsTTL.
const (
	SlotsRefresh = 10 * time.Second
	slotsTTL     = 3 * SlotsRefresh
)

// Run records that the named worker runs slots jobs at once, for the
// dispatch rule's line, renews that every SlotsRefresh, and dispatches
// after each renewal (a worker that starts fills the line it makes
// longer) and on each Kick, one dispatch at a time, until ctx ends; then
// it forgets the slots.
func (d *Dispatcher) Run(ctx context.Context, worker string, slots int) {
	tick := time.NewTicker(SlotsRefresh)
	defer tick.Stop()
	defer d.dropSlots(ctx, worker)
	renew := true
	for {
		if renew {
			if err := d.db.KeepWorkerSlots(ctx, worker, slots, slotsTTL); err != nil && ctx.Err() == nil {
				d.logger.WarnContext(ctx, "record worker slots; trying again", "err", err)
			}
		}
		d.dispatchNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			renew = true
		case <-d.kick:
			renew = false
		}
	}
}

// dispatchNow dispatches, bounded by dispatchTimeout, and logs a failure.
func (d *Dispatcher) dispatchNow(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, dispatchTimeout)
	defer cancel()
	if _, err := d.Dispatch(ctx); err != nil && ctx.Err() == nil {
		d.logger.WarnContext(ctx, "dispatch held jobs; the reconciler will", "err", err)
	}
}

// dropSlots forgets the worker's slots when it stops.
func (d *Dispatcher) dropSlots(ctx context.Context, worker string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.db.DropWorkerSlots(ctx, worker); err != nil {
		d.logger.WarnContext(ctx, "forget worker slots; they expire", "err", err)
	}
}

var (
	heldDesc = prometheus.NewDesc("augur_jobs_held",
		"Queued jobs held in PostgreSQL until their owner's turn (no task in Redis yet): work waiting, beside asynq's pending tasks.", nil, nil)
	heldOldestDesc = prometheus.NewDesc("augur_jobs_held_oldest_seconds",
		"How long the oldest job held for its owner's turn has waited since it was submitted; 0 when none.", nil, nil)
)

// HeldCollector returns a collector of augur_jobs_held and
// augur_jobs_held_oldest_seconds, read from PostgreSQL at each scrape: the
// work that waits outside Redis, which the autoscaler adds to asynq's
// pending tasks. Like asynq's queue series, one replica is enough.
func HeldCollector(db *store.DB) prometheus.Collector { return heldCollector{db} }

type heldCollector struct{ db *store.DB }

func (c heldCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- heldDesc
	ch <- heldOldestDesc
}

func (c heldCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	held, err := c.db.HeldJobStats(ctx)
	if err != nil {
		// No sample rather than a false 0: augur_dependency_up says that
		// PostgreSQL is down.
		return
	}
	ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, float64(held.Count))
	ch <- prometheus.MustNewConstMetric(heldOldestDesc, prometheus.GaugeValue, held.OldestSeconds)
}
