package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/jobs"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cron, zone, field string
	}{
		{"30 17 * * 1-5", "America/New_York", ""},
		{"@daily", "", ""},
		{"0 */2 * * *", "Europe/London", ""},
		{"30 17 * * 1-5", "Mars/Olympus", "time_zone"},
		{"30 17 * * 1-5", "Local", "time_zone"},
		{"30 17 * *", "UTC", "cron"},
		{"61 17 * * *", "UTC", "cron"},
		{"CRON_TZ=UTC 30 17 * * *", "UTC", "cron"},
		{"*/5 * * * *", "UTC", "cron"},
		{"0 0 30 2 *", "UTC", "cron"},
	} {
		_, ferr := jobs.ParseSchedule(tc.cron, tc.zone)
		if tc.field == "" {
			require.Nil(t, ferr, "%s %s", tc.cron, tc.zone)
			continue
		}
		require.NotNil(t, ferr, "%s %s", tc.cron, tc.zone)
		require.Equal(t, tc.field, ferr.Field, "%s %s", tc.cron, tc.zone)
	}
}

// A weekday 17:30 in New York is 21:30 UTC in summer and 22:30 in winter:
// the schedule follows the zone's clock, not a fixed offset.
func TestScheduleFollowsItsZonesClock(t *testing.T) {
	t.Parallel()
	summer, ferr := jobs.NextOccurrence("30 17 * * 1-5", "America/New_York", time.Date(2026, 7, 3, 12, 0, 0, 0, time.UTC))
	require.Nil(t, ferr)
	require.Equal(t, time.Date(2026, 7, 3, 21, 30, 0, 0, time.UTC), summer.UTC(), "Friday 3 July, EDT")
	winter, ferr := jobs.NextOccurrence("30 17 * * 1-5", "America/New_York", time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	require.Nil(t, ferr)
	require.Equal(t, time.Date(2026, 12, 7, 22, 30, 0, 0, time.UTC), winter.UTC(), "Saturday to Monday 7 December, EST")
}

func TestPlanOccurrence(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC) // Tuesday 17:30 in New York
	s := &store.Schedule{Cron: "30 17 * * 1-5", TimeZone: "America/New_York", NextRunAt: due}

	onTime, err := jobs.PlanOccurrence(s, due.Add(20*time.Second))
	require.NoError(t, err)
	require.Equal(t, store.Occurrence{Run: true, At: due, Next: due.AddDate(0, 0, 1)}, withUTC(onTime))

	// Everything was down from Tuesday to Friday noon: three occurrences
	// (Tue, Wed, Thu) were missed.
	friday := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	skipped, err := jobs.PlanOccurrence(s, friday)
	require.NoError(t, err)
	require.Equal(t, store.Occurrence{Run: false, At: due.AddDate(0, 0, 2), Skipped: 3, Next: due.AddDate(0, 0, 3)}, withUTC(skipped))

	s.CatchUp = true
	caught, err := jobs.PlanOccurrence(s, friday)
	require.NoError(t, err)
	require.Equal(t, store.Occurrence{Run: true, At: due.AddDate(0, 0, 2), Skipped: 2, Next: due.AddDate(0, 0, 3)}, withUTC(caught),
		"the latest missed occurrence runs once")
}

func withUTC(o store.Occurrence) store.Occurrence {
	o.At, o.Next = o.At.UTC(), o.Next.UTC()
	return o
}

// TestScheduleFiresOncePerOccurrenceWithThreeWorkers: three workers'
// schedulers look for due schedules at the same moment, round after round;
// each occurrence makes exactly one batch.
func TestScheduleFiresOncePerOccurrenceWithThreeWorkers(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "jobs")
	rdb := dbtest.Redis(t)
	logger := slog.New(slog.NewTextHandler(&testlog.Buffer{}, nil))
	queue := jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})
	rule := admission.Dispatch(1)
	owner := dbtest.User(t, db).ID
	list, err := db.CreateWatchlist(ctx, owner, "three", []string{"MSFT", "KO", "IBM"})
	require.NoError(t, err)
	sched, err := db.CreateSchedule(ctx, store.NewSchedule{OwnerID: owner, WatchlistID: list.ID, Cron: "30 17 * * 1-5",
		TimeZone: "America/New_York", Params: store.JSON(`{"models":["linreg"]}`), NextRunAt: time.Now().Add(-time.Second)})
	require.NoError(t, err)

	workers := make([]*jobs.Scheduler, 3)
	for i := range workers {
		workers[i] = &jobs.Scheduler{DB: db, Dispatcher: jobs.NewDispatcher(db, queue, rule, logger), Logger: logger,
			MaxUnfinished: 10000, Interval: time.Hour}
	}
	const rounds = 5
	for round := range rounds {
		if round > 0 {
			// The next occurrence is due: a second ago.
			dbtest.Exec(t, db, fmt.Sprintf(`UPDATE schedules SET next_run_at = now() - interval '%d seconds' WHERE id = %d`, 1+round, sched.ID))
		}
		var wg sync.WaitGroup
		fired := make([][]store.Fired, len(workers))
		start := make(chan struct{})
		for i, w := range workers {
			wg.Go(func() {
				<-start
				got, err := w.FireDue(ctx)
				if err != nil {
					t.Error(err)
				}
				fired[i] = got
			})
		}
		close(start)
		wg.Wait()
		batches := 0
		for _, f := range fired {
			for _, one := range f {
				if one.Batch != nil {
					batches++
				}
			}
		}
		require.Equal(t, 1, batches, "round %d: one batch per occurrence, whichever worker made it", round)
	}
	made, err := db.Batches(ctx, owner, 100)
	require.NoError(t, err)
	require.Len(t, made, rounds)
	for _, b := range made {
		require.Len(t, b.Tickers, 3)
	}
	after, err := db.Schedule(ctx, sched.ID, owner)
	require.NoError(t, err)
	require.True(t, after.NextRunAt.After(time.Now()), "moved on to its next occurrence")
	require.NotNil(t, after.LastBatchID)
}

// An occurrence whose batch would pass the owner's cap is recorded as
// refused, makes nothing, and the schedule moves on to its next one.
func TestScheduledBatchOverTheCapIsRefusedAndTheScheduleMovesOn(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "jobs")
	rdb := dbtest.Redis(t)
	logs := &testlog.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	queue := jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})
	owner := dbtest.User(t, db).ID
	list, err := db.CreateWatchlist(ctx, owner, "three", []string{"MSFT", "KO", "IBM"})
	require.NoError(t, err)
	sched, err := db.CreateSchedule(ctx, store.NewSchedule{OwnerID: owner, WatchlistID: list.ID, Cron: "@daily",
		TimeZone: "UTC", Params: store.JSON(`{"models":["linreg"]}`), NextRunAt: time.Now().Add(-time.Second)})
	require.NoError(t, err)
	s := &jobs.Scheduler{DB: db, Dispatcher: jobs.NewDispatcher(db, queue, admission.Dispatch(1), logger),
		Logger: logger, MaxUnfinished: 2, Interval: time.Hour}
	fired, err := s.FireDue(ctx)
	require.NoError(t, err)
	require.Len(t, fired, 1)
	require.Nil(t, fired[0].Batch)
	var capped *store.BatchOverCapError
	require.ErrorAs(t, fired[0].Refused, &capped)
	require.Contains(t, logs.String(), "scheduled batch refused")
	after, err := db.Schedule(ctx, sched.ID, owner)
	require.NoError(t, err)
	require.True(t, after.NextRunAt.After(time.Now()))
	batches, err := db.Batches(ctx, owner, 10)
	require.NoError(t, err)
	require.Empty(t, batches, "nothing of the refused batch is stored")
}
