package kernel

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// maxWatchlistName bounds a watchlist's name, as the table does.
const maxWatchlistName = 64

// CheckWatchlist validates a watchlist's name and tickers, the one rule
// for the API and the pages, and returns them as stored: the name trimmed,
// the tickers upper-cased with repeats dropped.
func CheckWatchlist(name string, tickers []string) (string, []string, error) {
	name, err := CheckText("name", name, true, maxWatchlistName)
	if err != nil {
		return "", nil, err
	}
	list, ferr := jobs.NormalizeTickers("tickers", tickers)
	if ferr != nil {
		return "", nil, ferr
	}
	return name, list, nil
}

// LocalTime is t on the clock of zone (an IANA name), as people read it:
// "2026-12-08 17:30 EST". A zone that cannot be loaded shows UTC.
func LocalTime(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// PauseSchedule pauses or resumes the owner's schedule, the one rule for
// the API and the pages: a resumed schedule starts again at its next
// occurrence from now, so occurrences missed while paused never run.
func PauseSchedule(ctx context.Context, db *store.DB, id, owner int64, paused bool) (*store.Schedule, error) {
	s, err := db.Schedule(ctx, id, owner)
	if err != nil {
		return nil, err
	}
	next, ferr := jobs.NextOccurrence(s.Cron, s.TimeZone, time.Now())
	if ferr != nil {
		return nil, ferr
	}
	if err := db.PauseSchedule(ctx, id, owner, paused, next); err != nil {
		return nil, err
	}
	return db.Schedule(ctx, id, owner)
}

// ScheduleView is a schedule as the API shows it to its owner and to an
// admin.
type ScheduleView struct {
	ID            int64           `json:"id"`
	OwnerID       int64           `json:"owner_id"`
	WatchlistID   int64           `json:"watchlist_id"`
	WatchlistName string          `json:"watchlist_name"`
	Cron          string          `json:"cron"`
	TimeZone      string          `json:"time_zone"`
	CatchUp       bool            `json:"catch_up"`
	Paused        bool            `json:"paused"`
	Params        json.RawMessage `json:"params"`
	// NextRunAt is in UTC; NextRunLocal the same moment on the
	// schedule's own clock.
	NextRunAt    time.Time  `json:"next_run_at"`
	NextRunLocal string     `json:"next_run_local"`
	LastRunAt    *time.Time `json:"last_run_at,omitempty"`
	LastBatchID  *uuid.UUID `json:"last_batch_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// ViewSchedule is s as the API shows it.
func ViewSchedule(s *store.Schedule) ScheduleView {
	return ScheduleView{ID: s.ID, OwnerID: s.OwnerID, WatchlistID: s.WatchlistID, WatchlistName: s.WatchlistName, Cron: s.Cron,
		TimeZone: s.TimeZone, CatchUp: s.CatchUp, Paused: s.Paused, Params: json.RawMessage(s.Params),
		NextRunAt: s.NextRunAt.UTC(), NextRunLocal: LocalTime(s.NextRunAt, s.TimeZone), LastRunAt: s.LastRunAt,
		LastBatchID: s.LastBatchID, CreatedAt: s.CreatedAt}
}
