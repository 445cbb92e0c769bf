package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

func (s *Server) indexPage(c *gin.Context) {
	s.Render(c, http.StatusOK, kernel.PageData{Title: "Predictions", Page: "index", Presets: s.presets})
}

// modelsPage shows the models' leaderboard; scripts fetch it from the API.
func (s *Server) modelsPage(c *gin.Context) {
	s.Render(c, http.StatusOK, kernel.PageData{Title: "How good are the models?", Page: "models"})
}

// docsPage is the API reference: Redoc renders /openapi.yaml in the
// browser. It is open to visitors, as the YAML is: a developer reads it
// before having an account.
func (s *Server) docsPage(c *gin.Context) {
	s.Render(c, http.StatusOK, kernel.PageData{Title: "API reference", Page: "docs"})
}

// jobRefreshSeconds is how often a job page reloads itself while the job
// runs, for a browser without JavaScript; with it, events update the page.
const jobRefreshSeconds = 3

// jobPage shows one of the user's jobs. Scripts fill in the results; the
// status, progress, error and Cancel are in the page itself, so it works
// without them.
func (s *Server) jobPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	job, err := s.DB.Job(c.Request.Context(), id, kernel.PageUser(c).ID)
	if errors.Is(err, store.ErrNotFound) {
		// Another user's job is as unknown as one that never existed.
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job of yours at this address.")
		return
	}
	if err != nil {
		s.PageFailed(c, err)
		return
	}
	data := kernel.PageData{Title: jobTitle(job), Page: "job", JobID: id.String(), Job: job}
	if !job.Final() {
		// A job waiting for its retry has nothing new to show sooner.
		data.Refresh = max(jobRefreshSeconds, kernel.PollAfter(job, time.Now()))
	}
	s.Render(c, http.StatusOK, data)
}

// jobTitle names a job for its page: what it is, and of which ticker.
func jobTitle(job *store.Job) string {
	title := "Sentiment"
	if job.Kind == store.KindPrediction {
		title = "Prediction"
	}
	if job.Ticker != "" {
		title += " · " + job.Ticker
	}
	return title
}

// cancelForm cancels a job from its page, and goes back to it.
func (s *Server) cancelForm(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	_, err = s.CancelJob(c.Request.Context(), id, kernel.PageUser(c).ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job of yours at this address.")
		return
	case errors.Is(err, store.ErrJobFinished):
		s.Flash(c, "The job had already finished; nothing was canceled.")
	case err != nil:
		s.PageFailed(c, err)
		return
	default:
		s.Flash(c, "The job was canceled.")
	}
	c.Redirect(http.StatusSeeOther, "/jobs/"+id.String())
}
