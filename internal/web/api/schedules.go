package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// scheduleRequest is the body of POST /api/v1/schedules: a watchlist, when
// to run it, and the prediction's parameters.
type scheduleRequest struct {
	WatchlistID int64  `json:"watchlist_id"`
	Cron        string `json:"cron"`
	TimeZone    string `json:"time_zone"`
	CatchUp     bool   `json:"catch_up"`
	predictionOptions
	// Webhook names the caller's endpoint told when each job ends.
	Webhook string `json:"webhook"`
}

// scheduleView is a schedule as the API shows it to its owner, with
// links.
type scheduleView struct {
	kernel.ScheduleView
	Links map[string]string `json:"links"`
}

func schedulePath(id int64) string { return "/api/v1/schedules/" + strconv.FormatInt(id, 10) }

func viewSchedule(s *store.Schedule) scheduleView {
	v := scheduleView{ScheduleView: kernel.ViewSchedule(s),
		Links: map[string]string{"self": schedulePath(s.ID), "watchlist": watchlistPath(s.WatchlistID)}}
	if s.LastBatchID != nil {
		v.Links["last_batch"] = batchPath(*s.LastBatchID)
	}
	return v
}

// scheduleError answers the store's refusals of a schedule.
func scheduleError(err error) error {
	switch {
	case errors.Is(err, store.ErrTooManySchedules):
		return &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "too_many_schedules", Message: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return kernel.NotFound("schedule")
	}
	return err
}

func parseScheduleID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id", Message: "schedule id must be a positive integer"}
	}
	return id, nil
}

func (s *Server) createSchedule(c *gin.Context) {
	var req scheduleRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	if req.WatchlistID < 1 {
		s.Fail(c, &jobs.FieldError{Field: "watchlist_id", Code: "required", Message: "watchlist_id is required"})
		return
	}
	next, ferr := jobs.NextOccurrence(req.Cron, req.TimeZone, time.Now())
	if ferr != nil {
		s.Fail(c, ferr)
		return
	}
	params, err := s.storedParams(c, req.predictionOptions, req.Webhook)
	if err != nil {
		s.Fail(c, err)
		return
	}
	zone := req.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	sched, err := s.DB.CreateSchedule(c.Request.Context(), store.NewSchedule{OwnerID: kernel.CurrentUser(c).ID,
		WatchlistID: req.WatchlistID, Cron: req.Cron, TimeZone: zone, Params: params, CatchUp: req.CatchUp, NextRunAt: next})
	if errors.Is(err, store.ErrNotFound) {
		s.Fail(c, &jobs.FieldError{Field: "watchlist_id", Code: "unknown_watchlist", Message: "you have no watchlist with this id"})
		return
	}
	if err != nil {
		s.Fail(c, scheduleError(err))
		return
	}
	c.Header("Location", schedulePath(sched.ID))
	c.JSON(http.StatusCreated, viewSchedule(sched))
}

// listSchedules lists the caller's schedules; the admin route lists
// everyone's.
func (s *Server) listSchedules(c *gin.Context) {
	list, err := s.DB.Schedules(c.Request.Context(), kernel.CurrentUser(c).ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.answerSchedules(c, list)
}

func (s *Server) answerSchedules(c *gin.Context, list []store.Schedule) {
	out := make([]scheduleView, len(list))
	for i := range list {
		out[i] = viewSchedule(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"schedules": out})
}

func (s *Server) getSchedule(c *gin.Context) {
	id, err := parseScheduleID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	sched, err := s.DB.Schedule(c.Request.Context(), id, kernel.CurrentUser(c).ID)
	if err != nil {
		s.Fail(c, scheduleError(err))
		return
	}
	c.JSON(http.StatusOK, viewSchedule(sched))
}

func (s *Server) deleteSchedule(c *gin.Context) {
	id, err := parseScheduleID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.DB.DeleteSchedule(c.Request.Context(), id, kernel.CurrentUser(c).ID); err != nil {
		s.Fail(c, scheduleError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) pauseSchedule(c *gin.Context)  { s.setPaused(c, true) }
func (s *Server) resumeSchedule(c *gin.Context) { s.setPaused(c, false) }

func (s *Server) setPaused(c *gin.Context, paused bool) {
	id, err := parseScheduleID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	sched, err := kernel.PauseSchedule(c.Request.Context(), s.DB, id, kernel.CurrentUser(c).ID, paused)
	if err != nil {
		s.Fail(c, scheduleError(err))
		return
	}
	c.JSON(http.StatusOK, viewSchedule(sched))
}
