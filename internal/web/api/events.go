package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/web/kernel"
)

// Re-read pacing of an event stream. While the hub's subscription is live,
// the stream re-reads the job on every note and every eventsRecheck, so a
// lost Redis message delays an update but never stalls it. While it is not
// (Redis down), the stream polls PostgreSQL every eventsPoll instead of
// failing.
const (
	eventsRecheck = 5 * time.Second
	eventsPoll    = time.Second
)

// eventsWriteWindow is how long one event may take to reach the client.
// The server's write timeout would end a stream after a minute, so every
// event moves the connection's write deadline this far on instead; it is
// well over eventsRecheck, so a keep-alive always comes first, and a client
// that stops reading is let go within it.
const eventsWriteWindow = 30 * time.Second

// reconnectAfter is the reconnection delay a draining server asks of its
// streams' clients (the SSE "retry" field), in milliseconds: soon, since
// another replica is ready to serve them.
const reconnectAfter = 500

// jobEvents streams the job as Server-Sent Events: one "job" event now and
// one after every change, until the job is final, the client leaves or the
// server shuts down; then a "closing" event asks the client to reconnect,
// which EventSource does by itself.
// The events carry the job's state, never its result: the final one says
// where to GET it (result_url). A stream thus reads and sends only the
// job's state at each change, however large the result, and a client that
// wants the result fetches it once.
func (s *Server) jobEvents(c *gin.Context) {
	id, err := parseJobID(c)
	if err != nil {
		s.failJob(c, err)
		return
	}
	ctx := c.Request.Context()
	owner := kernel.CurrentUser(c).ID
	if _, err := s.DB.JobState(ctx, id, owner); err != nil {
		s.failJob(c, err)
		return
	}
	w, err := s.Hub.Watch(ctx, owner, id)
	if err != nil {
		s.failJob(c, err)
		return
	}
	defer s.Hub.Leave(w)
	// Read the job only now that the watcher is in place: a change after
	// this read is sure to be noted, or found by polling.
	job, err := s.DB.JobState(ctx, id, owner)
	if err != nil {
		s.failJob(c, err)
		return
	}

	c.Header("Content-Type", "text/event-stream")
	c.Header("X-Accel-Buffering", "no") // let nginx pass events through at once
	c.Status(http.StatusOK)

	rc := http.NewResponseController(c.Writer)
	send := func(format string, args ...any) bool {
		// A writer without deadlines (a test's recorder) has no timeout
		// to move either.
		_ = rc.SetWriteDeadline(time.Now().Add(eventsWriteWindow))
		if _, err := fmt.Fprintf(c.Writer, format, args...); err != nil {
			return false
		}
		c.Writer.Flush()
		return true
	}

	timer := time.NewTimer(0)
	defer timer.Stop()
	lastSent := ""
	for {
		view := s.view(job, false)
		if job.Final() {
			view.ResultURL = jobPath(job.ID)
		}
		doc, err := json.Marshal(view)
		if err != nil {
			return
		}
		if string(doc) != lastSent {
			lastSent = string(doc)
			if !send("event: job\ndata: %s\n\n", doc) {
				return
			}
		}
		if job.Final() {
			return
		}
		wait := eventsRecheck
		if !s.Hub.IsLive() {
			wait = eventsPoll
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.Hub.Draining():
			send("retry: %d\nevent: closing\ndata: {\"reason\":\"server shutting down\"}\n\n", reconnectAfter)
			return
		case <-w.Notes():
		case <-timer.C:
			// A comment line keeps proxies from closing an idle stream.
			if !send(": keep-alive\n\n") {
				return
			}
		}
		// A failed read (PostgreSQL down) is tried again at the next
		// tick; the client keeps the last state it was sent.
		if next, err := s.DB.JobState(ctx, id, owner); err == nil {
			job = next
		}
	}
}
