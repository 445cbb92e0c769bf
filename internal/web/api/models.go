package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// modelsView is the answer of GET /api/v1/models.
type modelsView struct {
	// Status is "ready" with a leaderboard, or "computing" before the
	// first one is done.
	Status string `json:"status"`
	// Progress is the percentage done of the leaderboard being computed.
	Progress int `json:"progress,omitempty"`
	// ComputedAt is when the leaderboard shown was finished, and
	// Refreshing whether a newer one is being computed.
	ComputedAt  *time.Time      `json:"computed_at,omitempty"`
	Refreshing  bool            `json:"refreshing,omitempty"`
	Leaderboard json.RawMessage `json:"leaderboard,omitempty"`
}

// models answers with the model leaderboard: every model on the 30 bundled
// Dow stocks, computed by a job on the low queue and kept in PostgreSQL
// like any job's result. The newest leaderboard is served while it is
// younger than jobs.LeaderboardMaxAge; an older one, or none, queues a
// fresh job (one at a time, whoever asks), and until the first is done
// the answer is 202 with its progress.
func (s *Server) models(c *gin.Context) {
	ctx := c.Request.Context()
	done, live, err := s.DB.LatestLeaderboard(ctx)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if needsRefresh(done, live, time.Now()) {
		if live, err = s.queueLeaderboard(c); err != nil {
			s.Fail(c, err)
			return
		}
	}
	if done == nil {
		c.Header("Retry-After", "5")
		c.JSON(http.StatusAccepted, modelsView{Status: "computing", Progress: live.Progress})
		return
	}
	c.JSON(http.StatusOK, modelsView{
		Status: "ready", ComputedAt: done.FinishedAt, Refreshing: live != nil, Leaderboard: json.RawMessage(done.Result),
	})
}

// needsRefresh reports whether a leaderboard job should be queued: there is
// none yet, or the newest is older than jobs.LeaderboardMaxAge, and none
// is being computed.
func needsRefresh(done, live *store.Job, now time.Time) bool {
	if live != nil {
		return false
	}
	// A succeeded job has FinishedAt: the UPDATE that made it succeed set it.
	return done == nil || now.Sub(*done.FinishedAt) > jobs.LeaderboardMaxAge
}

// queueLeaderboard stores a leaderboard job for the asking user, unless
// another request queued one meanwhile, and enqueues it. As with every
// submission, a failed enqueue is left to the reconciler.
func (s *Server) queueLeaderboard(c *gin.Context) (*store.Job, error) {
	ctx := c.Request.Context()
	params, err := json.Marshal(jobs.DefaultLeaderboard())
	if err != nil {
		return nil, fmt.Errorf("encode leaderboard params: %w", err)
	}
	job, created, err := s.DB.CreateLeaderboardJob(ctx, kernel.CurrentUser(c).ID, store.JSON(params), jobs.QueueLow)
	if errors.Is(err, store.ErrJobFinished) {
		// The live job finished between insert and lookup: one more try
		// creates the next or finds the new live one.
		job, created, err = s.DB.CreateLeaderboardJob(ctx, kernel.CurrentUser(c).ID, store.JSON(params), jobs.QueueLow)
	}
	if err != nil {
		return nil, err
	}
	if created {
		if err := s.Queue.Enqueue(ctx, job); err != nil {
			s.Logger.WarnContext(ctx, "enqueue failed; the reconciler will retry", "job_id", job.ID, "err", err)
		}
	}
	return job, nil
}
