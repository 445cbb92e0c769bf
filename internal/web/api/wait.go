package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
)

// maxPreferWait caps the wait a submission may ask for with Prefer. A
// longer one would pass web's write timeout (a minute) and hold a
// connection and a stream slot for work that polling or the event stream
// follow as well; a job that takes longer than this is a job to come back
// to.
const maxPreferWait = 30 * time.Second

// preferredWait reads the wait preference of RFC 7240 from a request's
// Prefer headers: "wait=N", N whole seconds, among other preferences
// (respond-async, return=…) in any case and order, possibly with
// parameters. It returns the wait capped at maxPreferWait, and false when
// there is none or it is not a positive number of seconds: a preference a
// server does not understand it ignores (RFC 7240, section 2), and the
// answer's missing Preference-Applied says so.
func preferredWait(headers []string) (time.Duration, bool) {
	for _, h := range headers {
		for _, pref := range strings.Split(h, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			name, value, _ := strings.Cut(pref, "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			value = strings.Trim(strings.TrimSpace(value), `"`)
			secs, err := strconv.ParseUint(value, 10, 32)
			if err != nil || secs == 0 {
				return 0, false
			}
			return min(time.Duration(secs)*time.Second, maxPreferWait), true
		}
	}
	return 0, false
}

// awaitFinal holds a submission's answer until job is final or wait has
// passed, on the event hub as an event stream does, and counting against
// the same caps. It returns the job as last read (nil when no read
// succeeded), whole with its result when it is final; and whether it waited at all: over a stream cap, or while
// the server drains, it does not, and the job, accepted all the same, is
// answered 202 at once.
func (s *Server) awaitFinal(c *gin.Context, job *store.Job, wait time.Duration) (latest *store.Job, waited bool) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), wait)
	defer cancel()
	w, err := s.Hub.Watch(ctx, job.OwnerID, job.ID)
	if err != nil {
		return nil, false
	}
	defer s.Hub.Leave(w)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Read only once the watcher is in place, as an event stream
		// does: a change after this read is sure to be noted. A failed
		// read (PostgreSQL down) is tried again at the next tick.
		if state, err := s.DB.JobState(ctx, job.ID, job.OwnerID); err == nil {
			if !state.Final() {
				latest = state
			} else if full, err := s.DB.Job(ctx, job.ID, job.OwnerID); err == nil {
				return full, true
			}
		}
		recheck := eventsRecheck
		if !s.Hub.IsLive() {
			recheck = eventsPoll
		}
		timer.Reset(recheck)
		select {
		case <-ctx.Done():
			return latest, true
		case <-s.Hub.Draining():
			return latest, true
		case <-w.Notes():
		case <-timer.C:
		}
	}
}
