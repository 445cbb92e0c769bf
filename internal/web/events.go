package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// eventsRecheck is how often the stream re-reads the job even without a
// notification, so a lost Redis message delays an update but never stalls it.
const eventsRecheck = 5 * time.Second

// jobEvents streams the job as Server-Sent Events: one "job" event now and
// one after every change, until the job is final or the client leaves.
func (s *Server) jobEvents(c *gin.Context) {
	id, err := parseJobID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	owner := currentUser(c).ID
	if _, err := s.db.Job(ctx, id, owner); err != nil {
		s.fail(c, err)
		return
	}
	sub := s.events.Subscribe(ctx, id)
	defer sub.Close()
	// Wait until the subscription is live, then read the job: a change
	// after this read is sure to be announced.
	if _, err := sub.Receive(ctx); err != nil {
		s.fail(c, fmt.Errorf("subscribe to job events: %w", err))
		return
	}
	notes := sub.Channel()
	job, err := s.db.Job(ctx, id, owner)
	if err != nil {
		s.fail(c, err)
		return
	}

	c.Header("Content-Type", "text/event-stream")
	c.Header("X-Accel-Buffering", "no") // let nginx pass events through at once
	c.Status(http.StatusOK)

	recheck := time.NewTicker(eventsRecheck)
	defer recheck.Stop()
	lastSent := ""
	for {
		doc, err := json.Marshal(s.view(job, job.Final()))
		if err != nil {
			return
		}
		if string(doc) != lastSent {
			lastSent = string(doc)
			if _, err := fmt.Fprintf(c.Writer, "event: job\ndata: %s\n\n", doc); err != nil {
				return
			}
			c.Writer.Flush()
		}
		if job.Final() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-notes:
		case <-recheck.C:
			// A comment line keeps proxies from closing an idle stream.
			if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		}
		if job, err = s.db.Job(ctx, id, owner); err != nil {
			return
		}
	}
}
