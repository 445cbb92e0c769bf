package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// watchlistRequest is the body of POST and PUT /api/v1/watchlists.
type watchlistRequest struct {
	Name    string   `json:"name"`
	Tickers []string `json:"tickers"`
}

// watchlistView is a watchlist as the API shows it.
type watchlistView struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name"`
	Tickers   []string          `json:"tickers"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Links     map[string]string `json:"links"`
}

func watchlistPath(id int64) string { return "/api/v1/watchlists/" + strconv.FormatInt(id, 10) }

func viewWatchlist(w *store.Watchlist) watchlistView {
	return watchlistView{ID: w.ID, Name: w.Name, Tickers: w.Tickers, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Links: map[string]string{"self": watchlistPath(w.ID), "batches": "/api/v1/batches"}}
}

// watchlistError answers the store's refusals of a watchlist.
func watchlistError(err error) error {
	switch {
	case errors.Is(err, store.ErrWatchlistNameTaken):
		return &kernel.Error{Status: http.StatusConflict, Code: "name_taken", Field: "name", Message: err.Error()}
	case errors.Is(err, store.ErrTooManyWatchlists):
		return &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "too_many_watchlists", Message: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return kernel.NotFound("watchlist")
	}
	return err
}

func parseWatchlistID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id", Message: "watchlist id must be a positive integer"}
	}
	return id, nil
}

func (s *Server) listWatchlists(c *gin.Context) {
	list, err := s.DB.Watchlists(c.Request.Context(), kernel.CurrentUser(c).ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]watchlistView, len(list))
	for i := range list {
		out[i] = viewWatchlist(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"watchlists": out})
}

func (s *Server) createWatchlist(c *gin.Context) {
	var req watchlistRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	name, tickers, err := kernel.CheckWatchlist(req.Name, req.Tickers)
	if err != nil {
		s.Fail(c, err)
		return
	}
	w, err := s.DB.CreateWatchlist(c.Request.Context(), kernel.CurrentUser(c).ID, name, tickers)
	if err != nil {
		s.Fail(c, watchlistError(err))
		return
	}
	c.Header("Location", watchlistPath(w.ID))
	c.JSON(http.StatusCreated, viewWatchlist(w))
}

func (s *Server) getWatchlist(c *gin.Context) {
	id, err := parseWatchlistID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	w, err := s.DB.Watchlist(c.Request.Context(), kernel.CurrentUser(c).ID, id)
	if err != nil {
		s.Fail(c, watchlistError(err))
		return
	}
	c.JSON(http.StatusOK, viewWatchlist(w))
}

func (s *Server) updateWatchlist(c *gin.Context) {
	id, err := parseWatchlistID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	var req watchlistRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	name, tickers, err := kernel.CheckWatchlist(req.Name, req.Tickers)
	if err != nil {
		s.Fail(c, err)
		return
	}
	w, err := s.DB.UpdateWatchlist(c.Request.Context(), kernel.CurrentUser(c).ID, id, name, tickers)
	if err != nil {
		s.Fail(c, watchlistError(err))
		return
	}
	c.JSON(http.StatusOK, viewWatchlist(w))
}

func (s *Server) deleteWatchlist(c *gin.Context) {
	id, err := parseWatchlistID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.DB.DeleteWatchlist(c.Request.Context(), kernel.CurrentUser(c).ID, id); err != nil {
		s.Fail(c, watchlistError(err))
		return
	}
	c.Status(http.StatusNoContent)
}
