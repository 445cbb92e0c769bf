package jobs

import (
	"context"
	"log/slog"
	"strings"
	"time"

	// Time zones come with the binary: a container image may have no
	// /usr/share/zoneinfo, and a schedule "at 17:30 America/New_York"
	// must mean the same everywhere.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/augurhq/augur/internal/store"
)

// Schedule limits.
const (
	// MinScheduleGap is the least time between two occurrences of a
	// schedule: each runs a batch of up to MaxTickers jobs, and forecasts
	// of daily closes change once a day.
	MinScheduleGap = 15 * time.Minute
	// ScheduleMissedAfter is how late an occurrence may start and still
	// count as on time; one later was missed while no worker ran, and
	// runs only if the schedule catches up.
	ScheduleMissedAfter = 10 * time.Minute
	// ScheduleInterval is how often each worker looks for due schedules:
	// an occurrence starts within it.
	ScheduleInterval = 15 * time.Second
)

// cronParser reads the five fields of a standard cron expression
// (minute hour day-of-month month day-of-week) and the @daily, @weekly…
// shorthands.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule checks a cron expression and a time zone (an IANA name
// such as America/New_York) and returns the schedule they make, or a
// FieldError naming the field at fault.
func ParseSchedule(expr, zone string) (cron.Schedule, *FieldError) {
	zone = strings.TrimSpace(zone)
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || strings.EqualFold(zone, "local") {
		return nil, invalid("time_zone", "invalid_time_zone", "time_zone must be an IANA time zone such as America/New_York or UTC")
	}
	if strings.Contains(expr, "TZ=") {
		return nil, invalid("cron", "invalid_cron", "give the time zone in time_zone, not in the cron expression")
	}
	sched, err := cronParser.Parse(strings.TrimSpace(expr))
	if err != nil {
		return nil, invalid("cron", "invalid_cron", "cron must be five fields (minute hour day month weekday), e.g. \"30 17 * * 1-5\": %v", err)
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	// The gap is checked over a year of occurrences, the shortest of which
	// may come only at a month's turn.
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	prev := sched.Next(t)
	if prev.IsZero() {
		return nil, invalid("cron", "invalid_cron", "cron never fires")
	}
	for t = prev; t.Before(prev.AddDate(1, 0, 0)); {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if next.Sub(t) < MinScheduleGap {
			return nil, invalid("cron", "too_frequent", "a schedule may fire at most every %v", MinScheduleGap)
		}
		t = next
	}
	return sched, nil
}

// PlanOccurrence is the rule for a due schedule at now: an occurrence on
// time runs; occurrences missed (later than ScheduleMissedAfter) are
// skipped, except that a schedule that catches up runs the latest of them,
// once. Either way the schedule moves to its first occurrence after now.
func PlanOccurrence(s *store.Schedule, now time.Time) (store.Occurrence, error) {
	sched, ferr := ParseSchedule(s.Cron, s.TimeZone)
	if ferr != nil {
		return store.Occurrence{}, ferr
	}
	due := s.NextRunAt
	occ := store.Occurrence{At: due, Next: sched.Next(now)}
	if now.Sub(due) <= ScheduleMissedAfter {
		occ.Run = true
		return occ, nil
	}
	// Missed: find the latest occurrence not after now, counting those
	// before it.
	missed := 1
	for next := sched.Next(occ.At); !next.IsZero() && !next.After(now); next = sched.Next(next) {
		occ.At = next
		missed++
	}
	if s.CatchUp {
		occ.Run, occ.Skipped = true, missed-1
	} else {
		occ.Skipped = missed
	}
	return occ, nil
}

// NextOccurrence is the schedule's first occurrence after now.
func NextOccurrence(expr, zone string, now time.Time) (time.Time, *FieldError) {
	sched, ferr := ParseSchedule(expr, zone)
	if ferr != nil {
		return time.Time{}, ferr
	}
	return sched.Next(now), nil
}

// Scheduler fires due schedules: every worker runs one, and PostgreSQL
// lets one worker take each occurrence (store.FireDueSchedule), so an
// occurrence makes one batch however many workers look, and none is lost
// to a worker killed mid-way (its transaction rolls back, and the next
// look takes the schedule again). The batch's jobs go to Redis through the
// dispatcher, as any held job's do.
type Scheduler struct {
	DB         *store.DB
	Dispatcher *Dispatcher
	Logger     *slog.Logger
	// MaxUnfinished is the cap on a user's unfinished jobs a batch counts
	// against, as a submission's. Its jobs are held by the Dispatcher's
	// rule.
	MaxUnfinished int
	// Interval between looks.
	Interval time.Duration
}

// Run looks for due schedules at once and then every Interval until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if _, err := s.FireDue(ctx); err != nil && ctx.Err() == nil {
			s.Logger.ErrorContext(ctx, "fire due schedules", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// FireDue fires every schedule due now and returns what it did.
func (s *Scheduler) FireDue(ctx context.Context) ([]store.Fired, error) {
	var all []store.Fired
	for {
		fired, err := s.DB.FireDueSchedule(ctx, PlanOccurrence, s.MaxUnfinished, s.Dispatcher.rule, QueueLow)
		if err != nil || fired == nil {
			return all, err
		}
		all = append(all, *fired)
		s.start(ctx, fired)
	}
}

// start logs the occurrence and puts its batch's jobs in Redis
// (Dispatcher.Start).
func (s *Scheduler) start(ctx context.Context, f *store.Fired) {
	occ := f.Occurrence
	switch {
	case f.Refused != nil:
		s.Logger.WarnContext(ctx, "scheduled batch refused", "schedule_id", f.ScheduleID, "occurrence", occ.At, "err", f.Refused)
		return
	case !occ.Run:
		s.Logger.WarnContext(ctx, "schedule missed occurrences while no worker ran; skipped", "schedule_id", f.ScheduleID,
			"skipped", occ.Skipped, "next", occ.Next)
		return
	}
	s.Logger.InfoContext(ctx, "scheduled batch", "schedule_id", f.ScheduleID, "occurrence", occ.At, "batch_id", f.Batch,
		"jobs", len(f.Jobs), "skipped", occ.Skipped)
	s.Dispatcher.Start(ctx, f.Jobs)
}
