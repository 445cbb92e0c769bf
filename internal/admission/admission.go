// Package admission decides whether a user's new job is accepted, on
// which queue, and when it goes to Redis. It is the one owner of the rules
// a submission passes, in this order:
//
//  1. the cap on a user's unfinished (queued and running) jobs;
//  2. the per-minute submission rate, counted in Redis, and only for a
//     job the cap lets in;
//  3. the user's share of the critical queue: only a user's first
//     InteractivePerUser unfinished jobs go there, later interactive ones
//     go to default, so that one user's burst cannot hold every worker's
//     critical slots while another user's one job waits behind it;
//  4. the turn: a job is dispatched (put in Redis) at once only while its
//     user has fewer than DispatchPerUser jobs dispatched and unfinished,
//     or while nobody's job is held and the line in Redis is shorter than
//     the workers' slots allow; otherwise it is held in PostgreSQL, still
//     queued, and the workers dispatch it in its user's turn, one user
//     after another (the same rule, Dispatch, in the store's
//     dispatch_held_jobs). So one user's backlog never stands in front of
//     another user's job in Redis (docs/fairness.md).
//
// The store executes rules 1, 3 and 4 as a store.AdmissionRule, plain
// values, under the user's row lock, where they are exact; the store never
// calls back here, nor into Redis. Rule 2 is counted here, between the
// store's look without a lock and its decision under the lock, so that an
// idempotent replay, or a job the cap refuses, uses up no limit.
package admission

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/augurhq/augur/internal/ratelimit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// Limits are the numbers the rules apply.
type Limits struct {
	// MaxUnfinished caps one user's queued and running jobs.
	MaxUnfinished int
	// InteractivePerUser is how many of one user's unfinished jobs may be
	// on the critical queue.
	InteractivePerUser int
	// SubmitPerMinute is how many jobs one user may submit a minute.
	SubmitPerMinute int
	// RateLimitTimeout bounds the rate limiter's call to Redis (0: no
	// bound); past it the submission is let through, as when Redis is
	// down.
	RateLimitTimeout time.Duration
	// DispatchPerUser is how many of one user's unfinished jobs may be
	// dispatched to Redis before the rest wait for their turn; 0 takes no
	// turns, every job goes to Redis at once.
	DispatchPerUser int
}

// DispatchAheadPerSlot is how many tasks per worker slot wait in Redis
// beyond those running. One is enough for a slot that frees up to find
// its next task at once (the dispatch that refills the line runs as the
// task before ends); each more would put one more job between a newcomer
// and a free slot.
const DispatchAheadPerSlot = 1

// Dispatch is the rule by which jobs are dispatched to Redis or held for
// their turn, with perUser as Limits.DispatchPerUser. The web applies it
// to each submission and the workers to the held jobs; both must use the
// same.
func Dispatch(perUser int) store.DispatchRule {
	return store.DispatchRule{PerOwner: perUser, AheadPerSlot: DispatchAheadPerSlot}
}

// Policy applies the rules to submissions. It is cheap to build and safe
// for concurrent use.
type Policy struct {
	db      *store.DB
	limiter *ratelimit.Limiter
	limits  Limits
	logger  *slog.Logger
}

// New returns the policy of limits on db. A nil limiter counts no rate.
func New(db *store.DB, limiter *ratelimit.Limiter, limits Limits, logger *slog.Logger) *Policy {
	return &Policy{db: db, limiter: limiter, limits: limits, logger: logger}
}

// Outcome is an accepted submission.
type Outcome struct {
	// Job is the job stored, or the earlier one when Replayed.
	Job      *store.Job
	Replayed bool
	// Quota is what is left of the user's submission rate, when this
	// submission was counted against it; nil when it was not (a replay,
	// a refusal by the cap, no limiter, Redis down).
	Quota *Quota
}

// Quota is a user's submission rate as the limiter counted it.
type Quota struct {
	// Limit is the submissions allowed a minute; Remaining how many of
	// them are left now.
	Limit, Remaining int
}

// TooManyUnfinishedError refuses a job because its user already has the
// most unfinished jobs allowed.
type TooManyUnfinishedError struct {
	Unfinished int
}

func (e *TooManyUnfinishedError) Error() string {
	return fmt.Sprintf("you have %d queued or running jobs, the most allowed; wait for some to finish or cancel some", e.Unfinished)
}

// RateLimitedError refuses a job because its user submitted the most
// allowed this minute.
type RateLimitedError struct {
	// Limit is the submissions allowed a minute.
	Limit int
	// RetryAfter is when the next submission will be counted in.
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("at most %d submissions a minute; retry later", e.Limit)
}

// rule is the part of the policy the store executes under the user's lock.
func (p *Policy) rule() store.AdmissionRule {
	return store.AdmissionRule{
		MaxUnfinished: p.limits.MaxUnfinished,
		ShareQueue:    jobs.QueueCritical, SharePerOwner: p.limits.InteractivePerUser, OverflowQueue: jobs.QueueDefault,
		Dispatch: Dispatch(p.limits.DispatchPerUser),
	}
}

// Submit stores n, asked for n.Queue, when the rules admit it, and
// returns the job with the queue the rules chose. A replay of an earlier
// submission (same idempotency key) is answered whatever the rules say,
// and counts against no limit. A refusal is a *TooManyUnfinishedError or
// a *RateLimitedError; the Outcome's Quota is set with the latter too.
//
// The rate is counted after the store's look without a lock admitted the
// job, and before the store decides again under the lock. In the rare race
// where another of the user's submissions takes the last place in between,
// the job is refused and the count is not given back.
func (p *Policy) Submit(ctx context.Context, n store.NewJob) (Outcome, error) {
	rule := p.rule()
	var out Outcome
	if p.limiter != nil {
		seen, err := p.db.CheckAdmission(ctx, n, rule)
		switch {
		case err != nil:
			return Outcome{}, err
		case seen.Replayed:
			return Outcome{Job: seen.Job, Replayed: true}, nil
		case seen.Refused:
			return Outcome{}, &TooManyUnfinishedError{Unfinished: seen.Unfinished}
		}
		if out.Quota, err = p.charge(ctx, n.OwnerID); err != nil {
			return out, err
		}
	}
	a, err := p.db.AdmitJob(ctx, n, rule)
	switch {
	case err != nil:
		return out, err
	case a.Refused:
		return out, &TooManyUnfinishedError{Unfinished: a.Unfinished}
	}
	out.Job, out.Replayed = a.Job, a.Replayed
	return out, nil
}

// charge counts one submission against the user's per-minute rate.
// Without Redis the rate cannot be counted, and the submission is let
// through: the cap on unfinished jobs, kept in PostgreSQL, still bounds
// what one user can queue, and refusing work over a limiter would turn a
// Redis outage into an API outage.
func (p *Policy) charge(ctx context.Context, user int64) (*Quota, error) {
	if p.limits.RateLimitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.limits.RateLimitTimeout)
		defer cancel()
	}
	rate := ratelimit.PerMinute(p.limits.SubmitPerMinute)
	res, err := p.limiter.Allow(ctx, "augur:ratelimit:submit:"+strconv.FormatInt(user, 10), rate)
	if err != nil {
		p.logger.WarnContext(ctx, "rate limiter unavailable; submission let through", "err", err)
		return nil, nil
	}
	quota := &Quota{Limit: rate.N, Remaining: res.Remaining}
	if !res.Allowed {
		return quota, &RateLimitedError{Limit: rate.N, RetryAfter: res.RetryAfter}
	}
	return quota, nil
}

// SubmitBatch stores n, one job per ticker on the batch queue, when the
// rules admit it. A batch counts as its jobs against the cap on
// unfinished jobs (a *store.BatchOverCapError past it), and as one
// submission against the per-minute rate: it is one request, and the cap
// already bounds what it queues. Its jobs take turns with everyone's
// (rule 4): they are stored held, and dispatched as workers dispatch, so
// that one user's 500 tickers wait behind nobody else's single job; with
// no turns (DispatchPerUser 0) they are dispatched at once. The caller
// puts the jobs returned in Redis (jobs.Dispatcher.Start).
func (p *Policy) SubmitBatch(ctx context.Context, n store.NewBatch) (*store.Batch, []*store.Job, *Quota, error) {
	n.Queue = jobs.QueueLow
	var quota *Quota
	if p.limiter != nil {
		var err error
		if quota, err = p.charge(ctx, n.OwnerID); err != nil {
			return nil, nil, quota, err
		}
	}
	b, created, err := p.db.CreateBatch(ctx, n, p.limits.MaxUnfinished, Dispatch(p.limits.DispatchPerUser))
	if err != nil {
		return nil, nil, quota, err
	}
	return b, created, quota, nil
}
