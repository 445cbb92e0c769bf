package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// recentBatches is how many batches /watchlists lists.
const recentBatches = 20

// watchlistsPage is what /watchlists shows: the lists and the recent
// batches.
type watchlistsPage struct {
	Lists     []store.Watchlist
	Batches   []store.Batch
	Schedules []store.Schedule
}

// batchPage is what a batch page shows.
type batchPage struct {
	*store.Batch
	Rows []batchRow
}

// batchRow is a ticker of a batch page, its models' figures decoded.
type batchRow struct {
	store.BatchRow
	Models []modelFigure
}

// modelFigure is one model's last forecast point and verdict, and the
// same model's forecast in the batch before.
type modelFigure struct {
	Name                   string
	Forecast, Before       float64
	HasForecast, HasBefore bool
	Verdict                string
	Beats                  bool
}

// modelResult is how BatchRow.Models holds one model.
type modelResult struct {
	Forecast *float64 `json:"forecast"`
	Verdict  string   `json:"verdict"`
	Beats    bool     `json:"beats_persistence"`
}

func (s *Server) watchlistsPage(c *gin.Context) {
	s.renderWatchlists(c, http.StatusOK, kernel.PageData{})
}

func (s *Server) renderWatchlists(c *gin.Context, status int, data kernel.PageData) {
	ctx := c.Request.Context()
	user := kernel.PageUser(c).ID
	lists, err := s.DB.Watchlists(ctx, user)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	batches, err := s.DB.Batches(ctx, user, recentBatches)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	schedules, err := s.DB.Schedules(ctx, user)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data.Title, data.Page = "Watchlists", "watchlists"
	data.Batches = watchlistsPage{Lists: lists, Batches: batches, Schedules: schedules}
	s.Render(c, status, data)
}

// splitTickers reads a ticker list as typed: separated by commas, spaces
// or new lines.
func splitTickers(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (s *Server) createWatchlistForm(c *gin.Context) {
	name, tickers, err := kernel.CheckWatchlist(c.PostForm("name"), splitTickers(c.PostForm("tickers")))
	if err == nil {
		_, err = s.DB.CreateWatchlist(c.Request.Context(), kernel.PageUser(c).ID, name, tickers)
	}
	if err != nil {
		s.watchlistFormError(c, err)
		return
	}
	s.Flash(c, "Watchlist "+name+" saved.")
	c.Redirect(http.StatusSeeOther, "/watchlists")
}

// watchlistFormError shows /watchlists again with why the form was
// refused, and what was typed.
func (s *Server) watchlistFormError(c *gin.Context, err error) {
	var msg string
	switch e := kernel.RequestError(err); {
	case errors.Is(err, store.ErrWatchlistNameTaken), errors.Is(err, store.ErrTooManyWatchlists):
		msg = err.Error() + "."
	case e != nil && e.Status < http.StatusInternalServerError:
		msg = e.Message + "."
	default:
		s.FailPage(c, err)
		return
	}
	s.renderWatchlists(c, http.StatusUnprocessableEntity, kernel.PageData{Error: capitalise(msg),
		Form: map[string]string{"name": c.PostForm("name"), "tickers": c.PostForm("tickers")}})
}

func (s *Server) deleteWatchlistForm(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil {
		err = s.DB.DeleteWatchlist(c.Request.Context(), kernel.PageUser(c).ID, id)
	}
	switch {
	case err == nil:
		s.Flash(c, "The watchlist is deleted; its batches stay.")
		c.Redirect(http.StatusSeeOther, "/watchlists")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, strconv.ErrSyntax), errors.Is(err, strconv.ErrRange):
		s.ErrorPage(c, http.StatusNotFound, "No such watchlist", "That watchlist does not exist, or is not yours.")
	default:
		s.FailPage(c, err)
	}
}

func (s *Server) batchPage(c *gin.Context) {
	ctx := c.Request.Context()
	user := kernel.PageUser(c).ID
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.noSuchBatch(c)
		return
	}
	b, err := s.DB.Batch(ctx, id, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.noSuchBatch(c)
		return
	case err != nil:
		s.FailPage(c, err)
		return
	}
	rows, err := s.DB.BatchRows(ctx, id, user)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	page := batchPage{Batch: b}
	for _, r := range rows {
		page.Rows = append(page.Rows, decodeBatchRow(r))
	}
	data := kernel.PageData{Title: "Batch of " + strconv.Itoa(len(b.Tickers)) + " tickers", Page: "batch", Batches: page}
	if !b.Final() {
		data.Refresh = 5
	}
	s.Render(c, http.StatusOK, data)
}

// decodeBatchRow spells out a row's models, by name, beside the same
// models' forecasts in the batch before.
func decodeBatchRow(r store.BatchRow) batchRow {
	row := batchRow{BatchRow: r}
	var now, before map[string]modelResult
	_ = json.Unmarshal(r.Models, &now)
	_ = json.Unmarshal(r.PreviousModels, &before)
	for name, m := range now {
		f := modelFigure{Name: name, Verdict: m.Verdict, Beats: m.Beats}
		if m.Forecast != nil {
			f.Forecast, f.HasForecast = *m.Forecast, true
		}
		if b, ok := before[name]; ok && b.Forecast != nil {
			f.Before, f.HasBefore = *b.Forecast, true
		}
		row.Models = append(row.Models, f)
	}
	slices.SortFunc(row.Models, func(a, b modelFigure) int { return strings.Compare(a.Name, b.Name) })
	return row
}

func (s *Server) noSuchBatch(c *gin.Context) {
	s.ErrorPage(c, http.StatusNotFound, "No such batch", "That batch does not exist, or is not yours.")
}

func (s *Server) cancelBatchForm(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.noSuchBatch(c)
		return
	}
	err = s.CancelBatch(c.Request.Context(), id, kernel.PageUser(c).ID)
	switch {
	case err == nil:
		s.Flash(c, "The batch is canceled: its unfinished jobs are stopped.")
		c.Redirect(http.StatusSeeOther, "/batches/"+id.String())
	case errors.Is(err, store.ErrNotFound):
		s.noSuchBatch(c)
	default:
		s.FailPage(c, err)
	}
}

func (s *Server) pauseScheduleForm(c *gin.Context)  { s.scheduleForm(c, "pause") }
func (s *Server) resumeScheduleForm(c *gin.Context) { s.scheduleForm(c, "resume") }
func (s *Server) deleteScheduleForm(c *gin.Context) { s.scheduleForm(c, "delete") }

// scheduleForm pauses, resumes or deletes one of the user's schedules.
func (s *Server) scheduleForm(c *gin.Context, action string) {
	ctx := c.Request.Context()
	user := kernel.PageUser(c).ID
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.noSuchSchedule(c)
		return
	}
	var done string
	switch action {
	case "delete":
		err, done = s.DB.DeleteSchedule(ctx, id, user), "The schedule is deleted; its batches stay."
	default:
		var sched *store.Schedule
		sched, err = kernel.PauseSchedule(ctx, s.DB, id, user, action == "pause")
		if err == nil {
			done = "The schedule is paused."
			if !sched.Paused {
				done = "The schedule runs again, next at " + kernel.LocalTime(sched.NextRunAt, sched.TimeZone) + "."
			}
		}
	}
	switch {
	case err == nil:
		s.Flash(c, done)
		c.Redirect(http.StatusSeeOther, "/watchlists")
	case errors.Is(err, store.ErrNotFound):
		s.noSuchSchedule(c)
	default:
		s.FailPage(c, err)
	}
}

func (s *Server) noSuchSchedule(c *gin.Context) {
	s.ErrorPage(c, http.StatusNotFound, "No such schedule", "That schedule does not exist, or is not yours.")
}
