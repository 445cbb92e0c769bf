package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// getPortfolio values the user's holdings at their latest closes. A
// holding whose price cannot be had now is still listed, with the reason,
// and left out of the market totals, which "complete": false then flags:
// one provider's outage should not hide the whole portfolio.
func (s *Server) getPortfolio(c *gin.Context) {
	out, err := s.ValuePortfolio(c.Request.Context(), kernel.CurrentUser(c).ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// deposit and placeOrder take an Idempotency-Key as submissions do: the
// same key with the same request answers the first transaction again,
// marked Idempotent-Replayed, and with another request is a 422.
func (s *Server) deposit(c *gin.Context) {
	var req kernel.DepositRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	key, err := idempotencyKey(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	t, replayed, err := s.ApplyDeposit(c, kernel.CurrentUser(c).ID, req, key)
	s.answerTransaction(c, t, replayed, err)
}

func (s *Server) placeOrder(c *gin.Context) {
	var req kernel.OrderRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	key, err := idempotencyKey(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	t, replayed, err := s.ApplyOrder(c, kernel.CurrentUser(c).ID, req, key)
	s.answerTransaction(c, t, replayed, err)
}

// previewOrder is POST /api/v1/portfolio/orders/preview: what the order
// would do if placed now, trading nothing. The dashboard shows it before
// an order is placed, so that its figures come from the server's rule.
func (s *Server) previewOrder(c *gin.Context) {
	var req kernel.OrderRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	p, err := s.PreviewOrder(c, kernel.CurrentUser(c).ID, req)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// answerTransaction answers a deposit or an order: 201 with the
// transaction, the first answer again for a replay.
func (s *Server) answerTransaction(c *gin.Context, t *store.Transaction, replayed bool, err error) {
	if err != nil {
		s.Fail(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, kernel.ViewTransaction(t))
}

func (s *Server) recordDividend(c *gin.Context) {
	var req kernel.DividendRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	t, err := s.ApplyDividend(c, kernel.CurrentUser(c).ID, req)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, kernel.ViewTransaction(t))
}

func (s *Server) listTransactions(c *gin.Context) {
	limit, after, err := kernel.PageRequest(c, decodeTransactionCursor)
	if err != nil {
		s.Fail(c, err)
		return
	}
	// One row more than asked tells whether there is a next page.
	list, err := s.DB.ListTransactions(c.Request.Context(), kernel.CurrentUser(c).ID, after, limit+1)
	if err != nil {
		s.Fail(c, err)
		return
	}
	kernel.WritePage(c, "transactions", list, limit, kernel.ViewTransaction,
		func(t *store.Transaction) string {
			return encodeTransactionCursor(store.TransactionCursor{CreatedAt: t.CreatedAt, ID: t.ID})
		})
}

func encodeTransactionCursor(c store.TransactionCursor) string {
	return encodeKeyset(c.CreatedAt, strconv.FormatInt(c.ID, 10))
}

func decodeTransactionCursor(raw string) (*store.TransactionCursor, error) {
	t, rawID, err := decodeKeyset(raw)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cursor id: %w", err)
	}
	return &store.TransactionCursor{CreatedAt: t, ID: id}, nil
}

// listCompanies lists what can be traded, so that clients need not guess
// symbols.
func (s *Server) listCompanies(c *gin.Context) {
	list, err := s.DB.ActiveCompanies(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]kernel.CompanyView, 0, len(list))
	for _, co := range list {
		views = append(views, kernel.ViewCompany(&co))
	}
	c.JSON(http.StatusOK, gin.H{"companies": views})
}

// listBrokers lists the active brokers cheapest first, the first being the
// default: an order's broker_id comes from here.
func (s *Server) listBrokers(c *gin.Context) {
	list, err := s.DB.ActiveBrokers(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]kernel.BrokerRateView, 0, len(list))
	for _, b := range list {
		views = append(views, kernel.ViewBrokerRate(&b))
	}
	c.JSON(http.StatusOK, gin.H{"brokers": views})
}
