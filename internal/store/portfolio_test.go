package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// requireDec compares decimals by value (10 equals 10.00).
func requireDec(t *testing.T, want string, got decimal.Decimal, msgAndArgs ...any) {
	t.Helper()
	require.Truef(t, dec(want).Equal(got), "want %s, got %s %v", want, got, msgAndArgs)
}

// exchange is a test database with two companies and two brokers.
type exchange struct {
	db        *store.DB
	cheap     *store.Broker // 0.10 %
	dear      *store.Broker // 0.25 %
	companies []string
}

func newExchange(t *testing.T) *exchange {
	t.Helper()
	ctx := context.Background()
	m := &exchange{db: dbtest.Postgres(t, "store"), companies: []string{"MSFT", "IBM"}}
	for _, sym := range m.companies {
		c, inserted, err := m.db.EnsureCompany(ctx, store.Company{Symbol: sym, Name: sym + " Corp.", Exchange: "NYSE"})
		require.NoError(t, err)
		require.True(t, inserted)
		require.True(t, c.Active)
	}
	// The dearer broker is made first, so "cheapest" cannot mean "oldest".
	var err error
	m.dear, _, err = m.db.EnsureBroker(ctx, store.Broker{Name: "Dear & Co", Email: "dear@example.com", CommissionRate: dec("0.25")})
	require.NoError(t, err)
	m.cheap, _, err = m.db.EnsureBroker(ctx, store.Broker{Name: "Cheap Trades", Email: "cheap@example.com", CommissionRate: dec("0.10")})
	require.NoError(t, err)
	requireDec(t, "0.10", m.cheap.CommissionRate)
	return m
}

func (m *exchange) order(t *testing.T, userID int64, side, symbol, qty, price string, brokerID int64) (*store.Transaction, error) {
	t.Helper()
	tx, _, err := m.db.PlaceOrder(context.Background(), store.Order{
		UserID: userID, Symbol: symbol, Side: side, Quantity: dec(qty), Quote: portfolio.Quote{Price: dec(price)}, BrokerID: brokerID,
	})
	return tx, err
}

func (m *exchange) summary(t *testing.T, userID int64) *store.Summary {
	t.Helper()
	s, err := m.db.PortfolioSummary(context.Background(), userID)
	require.NoError(t, err)
	return s
}

func TestTradingHandWorked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)

	dep, _, err := m.db.Deposit(ctx, user.ID, dec("1000.00"), store.Idempotency{})
	require.NoError(t, err)
	require.Equal(t, store.TxDeposit, dep.Type)
	requireDec(t, "1000.00", dep.Total)
	require.False(t, dep.Symbol.Valid)

	// Buy 10 at 43.38 through the cheapest broker (0.10 %): total 433.80,
	// commission 0.4338 → 0.43, cost 434.23; the wallet keeps 565.77.
	buy, err := m.order(t, user.ID, store.SideBuy, "MSFT", "10", "43.38", 0)
	require.NoError(t, err)
	require.Equal(t, store.TxBuy, buy.Type)
	require.Equal(t, "MSFT", buy.Symbol.String)
	require.Equal(t, m.cheap.ID, buy.BrokerID.Int64, "no broker named: the cheapest active one")
	require.Equal(t, "Cheap Trades", buy.BrokerName.String)
	requireDec(t, "10", buy.Quantity.Decimal)
	requireDec(t, "43.38", buy.Price.Decimal)
	requireDec(t, "433.80", buy.Total)
	requireDec(t, "0.43", buy.Commission)
	require.False(t, buy.RealisedPL.Valid)
	require.Equal(t, "Bought 10 MSFT at 43.38 through Cheap Trades", buy.Description)
	requireDec(t, "565.77", m.summary(t, user.ID).Balance)

	// Sell 4 at 50.00 through the dearer broker (0.25 %): total 200.00,
	// commission 0.50, proceeds 199.50. The 4 shares carry 434.23 × 4 / 10 =
	// 173.692 → 173.69 of basis: realised 199.50 − 173.69 = 25.81.
	sell, _, err := m.db.PlaceOrder(ctx, store.Order{UserID: user.ID, Symbol: "MSFT", Side: store.SideSell, Quantity: dec("4"),
		Quote:    portfolio.Quote{Price: dec("50.00"), Date: time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC), Source: "sample"},
		BrokerID: m.dear.ID})
	require.NoError(t, err)
	require.Equal(t, "Sold 4 MSFT at 50.00 through Dear & Co (close of 2001-01-02, bundled sample data, not live)", sell.Description,
		"a trade priced from the sample says so for good")
	require.Equal(t, store.TxSell, sell.Type)
	require.Equal(t, "Dear & Co", sell.BrokerName.String)
	requireDec(t, "200.00", sell.Total)
	requireDec(t, "0.50", sell.Commission)
	requireDec(t, "25.81", sell.RealisedPL.Decimal)

	s := m.summary(t, user.ID)
	requireDec(t, "765.27", s.Balance) // 565.77 + 199.50
	requireDec(t, "25.81", s.RealisedPL)
	requireDec(t, "0.93", s.Commissions)
	requireDec(t, "1000.00", s.Deposits)
	requireDec(t, "260.54", s.TotalInvested()) // 434.23 − 173.69
	require.Len(t, s.Holdings, 1)
	h := s.Holdings[0]
	require.Equal(t, "MSFT", h.Symbol)
	require.Equal(t, "MSFT Corp.", h.Name)
	requireDec(t, "6", h.Quantity)
	requireDec(t, "43.4233", h.Position().AverageCost()) // 260.54 / 6

	// A dividend of 0.62 a share on the 6 held pays 3.72.
	div, err := m.db.RecordDividend(ctx, user.ID, "MSFT", dec("0.62"))
	require.NoError(t, err)
	require.Equal(t, store.TxDividend, div.Type)
	requireDec(t, "3.72", div.Total)
	requireDec(t, "6", div.Quantity.Decimal)
	requireDec(t, "0.62", div.Price.Decimal)
	s = m.summary(t, user.ID)
	requireDec(t, "768.99", s.Balance)
	requireDec(t, "3.72", s.Dividends)

	list, err := m.db.ListTransactions(ctx, user.ID, nil, 10)
	require.NoError(t, err)
	var types []string
	for _, tx := range list {
		types = append(types, tx.Type)
	}
	require.Equal(t, []string{store.TxDividend, store.TxSell, store.TxBuy, store.TxDeposit}, types, "newest first")
}

func TestRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("100.00"), store.Idempotency{})
	require.NoError(t, err)

	// 3 at 33.33 is 99.99, plus 0.10 commission: 100.09, a cent too many.
	_, err = m.order(t, user.ID, store.SideBuy, "MSFT", "3", "33.33", 0)
	require.ErrorIs(t, err, portfolio.ErrInsufficientFunds)
	_, err = m.order(t, user.ID, store.SideSell, "MSFT", "1", "33.33", 0)
	require.ErrorIs(t, err, portfolio.ErrInsufficientShares, "selling what was never held")
	_, err = m.db.RecordDividend(ctx, user.ID, "MSFT", dec("0.50"))
	require.ErrorIs(t, err, portfolio.ErrNoHolding)

	s := m.summary(t, user.ID)
	requireDec(t, "100.00", s.Balance)
	require.Empty(t, s.Holdings)
	list, err := m.db.ListTransactions(ctx, user.ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, list, 1, "only the deposit")

	// 1 at 99.90 plus 0.0999 → 0.10 commission is exactly 100.00: allowed,
	// leaving the wallet at zero.
	_, err = m.order(t, user.ID, store.SideBuy, "MSFT", "1", "99.90", 0)
	require.NoError(t, err)
	requireDec(t, "0", m.summary(t, user.ID).Balance)

	// Selling 1.5 of 1 is refused; selling all of it removes the holding.
	_, err = m.order(t, user.ID, store.SideSell, "MSFT", "1.5", "99.90", 0)
	require.ErrorIs(t, err, portfolio.ErrInsufficientShares)
	_, err = m.order(t, user.ID, store.SideSell, "MSFT", "1", "99.90", 0)
	require.NoError(t, err)
	require.Empty(t, m.summary(t, user.ID).Holdings)
}

func TestOrderLookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("1000.00"), store.Idempotency{})
	require.NoError(t, err)

	_, err = m.order(t, user.ID, store.SideBuy, "AAPL", "1", "10.00", 0)
	require.ErrorIs(t, err, store.ErrUnknownCompany)
	_, err = m.order(t, user.ID, store.SideBuy, "MSFT", "1", "10.00", 999)
	require.ErrorIs(t, err, store.ErrUnknownBroker)
	_, err = m.order(t, user.ID, store.SideBuy, "MSFT", "0.0001", "10.00", 0)
	require.ErrorIs(t, err, portfolio.ErrOrderTooSmall, "0.001 rounds to no cents")
	_, err = m.order(t, user.ID, "hold", "MSFT", "1", "10.00", 0)
	require.Error(t, err)

	c, err := m.db.CompanyBySymbol(ctx, "MSFT")
	require.NoError(t, err)
	require.True(t, c.Active)
	_, err = m.db.CompanyBySymbol(ctx, "AAPL")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Seeding again inserts nothing and changes nothing.
	c, inserted, err := m.db.EnsureCompany(ctx, store.Company{Symbol: "MSFT", Name: "Other"})
	require.NoError(t, err)
	require.False(t, inserted)
	require.Equal(t, "MSFT Corp.", c.Name, "an existing company is left alone")
	b, inserted, err := m.db.EnsureBroker(ctx, store.Broker{Name: "cheap trades", CommissionRate: dec("5")})
	require.NoError(t, err)
	require.False(t, inserted, "broker names are unique in any case")
	require.Equal(t, m.cheap.ID, b.ID)
	requireDec(t, "0.10", b.CommissionRate)

	s := m.summary(t, user.ID)
	requireDec(t, "1000.00", s.Balance)
	require.Empty(t, s.Holdings)
}

func TestNoBrokerAtAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	_, _, err := db.EnsureCompany(ctx, store.Company{Symbol: "MSFT", Name: "Microsoft"})
	require.NoError(t, err)
	user := dbtest.User(t, db)
	_, _, err = db.Deposit(ctx, user.ID, dec("10.00"), store.Idempotency{})
	require.NoError(t, err)
	_, _, err = db.PlaceOrder(ctx, store.Order{UserID: user.ID, Symbol: "MSFT", Side: store.SideBuy, Quantity: dec("1"), Quote: portfolio.Quote{Price: dec("1.00")}})
	require.ErrorIs(t, err, store.ErrNoBroker)
}

func TestTransactionsPageByCursorAndStayPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user, other := dbtest.User(t, m.db), dbtest.User(t, m.db)
	for _, amount := range []string{"1.00", "2.00", "3.00", "4.00", "5.00"} {
		_, _, err := m.db.Deposit(ctx, user.ID, dec(amount), store.Idempotency{})
		require.NoError(t, err)
	}
	_, _, err := m.db.Deposit(ctx, other.ID, dec("99.00"), store.Idempotency{})
	require.NoError(t, err)

	var seen []string
	var after *store.TransactionCursor
	for page := 0; ; page++ {
		list, err := m.db.ListTransactions(ctx, user.ID, after, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(list), 2)
		for _, tx := range list {
			require.Equal(t, user.ID, tx.UserID)
			seen = append(seen, tx.Total.StringFixed(2))
		}
		if len(list) < 2 {
			break
		}
		last := list[len(list)-1]
		after = &store.TransactionCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		require.Less(t, page, 5, "paging must end")
	}
	require.Equal(t, []string{"5.00", "4.00", "3.00", "2.00", "1.00"}, seen, "every row once, newest first")

	requireDec(t, "15.00", m.summary(t, user.ID).Balance)
	requireDec(t, "99.00", m.summary(t, other.ID).Balance)
	requireDec(t, "0", m.summary(t, dbtest.User(t, m.db).ID).Balance, "no wallet yet reads as zero")
}

// concurrently runs n calls of fn at once and returns their errors in
// order.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// count returns how many errors are nil and how many are target; it fails
// the test on any other error.
func count(t *testing.T, errs []error, target error) (ok, refused int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, target):
			refused++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return ok, refused
}

func TestConcurrentSellsNeverOversell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("1000.00"), store.Idempotency{})
	require.NoError(t, err)
	// 10 at 10.00 with 0.10 %: cost 100.10, so 899.90 is left.
	_, err = m.order(t, user.ID, store.SideBuy, "MSFT", "10", "10.00", 0)
	require.NoError(t, err)

	// 20 sells of 1 share at once: each is 10.00 less 0.01 commission.
	errs := concurrently(20, func(int) error {
		_, _, err := m.db.PlaceOrder(ctx, store.Order{UserID: user.ID, Symbol: "MSFT", Side: store.SideSell,
			Quantity: dec("1"), Quote: portfolio.Quote{Price: dec("10.00")}})
		return err
	})
	ok, refused := count(t, errs, portfolio.ErrInsufficientShares)
	require.Equal(t, 10, ok, "exactly the 10 shares held are sold")
	require.Equal(t, 10, refused)

	s := m.summary(t, user.ID)
	require.Empty(t, s.Holdings)
	requireDec(t, "999.80", s.Balance) // 899.90 + 10 × 9.99
	// Each share carried 10.01 of basis and brought 9.99: −0.02 each.
	requireDec(t, "-0.20", s.RealisedPL)
	list, err := m.db.ListTransactions(ctx, user.ID, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 12, "deposit, buy and 10 sells; refusals leave no trace")
}

func TestConcurrentBuysNeverOverdraw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("100.00"), store.Idempotency{})
	require.NoError(t, err)

	// 20 buys of 1 share at 10.00 at once, each costing 10.01 with
	// commission: 9 fit in 100.00 (90.09), a 10th would need 100.10.
	errs := concurrently(20, func(int) error {
		_, _, err := m.db.PlaceOrder(ctx, store.Order{UserID: user.ID, Symbol: "MSFT", Side: store.SideBuy,
			Quantity: dec("1"), Quote: portfolio.Quote{Price: dec("10.00")}})
		return err
	})
	ok, refused := count(t, errs, portfolio.ErrInsufficientFunds)
	require.Equal(t, 9, ok)
	require.Equal(t, 11, refused)

	s := m.summary(t, user.ID)
	requireDec(t, "9.91", s.Balance)
	require.Len(t, s.Holdings, 1)
	requireDec(t, "9", s.Holdings[0].Quantity)
	requireDec(t, "90.09", s.Holdings[0].CostBasis)
}

// TestConcurrentMixedTradesConserveMoneyAndShares races buys, sells,
// deposits and dividends on two companies. Which sells find shares depends
// on timing, so the test asserts what must hold whatever the order: no
// deadlock or other error, and every cent and share accounted for.
func TestConcurrentMixedTradesConserveMoneyAndShares(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("1000.00"), store.Idempotency{})
	require.NoError(t, err)
	for _, sym := range m.companies {
		_, err = m.order(t, user.ID, store.SideBuy, sym, "3", "10.00", m.dear.ID)
		require.NoError(t, err)
	}
	errs := concurrently(20, func(i int) error {
		sym := m.companies[i%2]
		var err error
		switch i % 5 {
		case 0, 1:
			_, err = m.order(t, user.ID, store.SideBuy, sym, "1", "10.00", m.dear.ID)
		case 2, 3:
			_, err = m.order(t, user.ID, store.SideSell, sym, "2", "10.00", m.dear.ID)
		default:
			_, _, err = m.db.Deposit(ctx, user.ID, dec("1.00"), store.Idempotency{})
		}
		return err
	})
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, portfolio.ErrInsufficientShares)
		}
	}

	list, err := m.db.ListTransactions(ctx, user.ID, nil, 100)
	require.NoError(t, err)
	balance, shares := decimal.Zero, map[string]decimal.Decimal{}
	for _, tx := range list {
		switch tx.Type {
		case store.TxDeposit:
			balance = balance.Add(tx.Total)
		case store.TxBuy:
			balance = balance.Sub(tx.Total).Sub(tx.Commission)
			shares[tx.Symbol.String] = shares[tx.Symbol.String].Add(tx.Quantity.Decimal)
		case store.TxSell:
			balance = balance.Add(tx.Total).Sub(tx.Commission)
			shares[tx.Symbol.String] = shares[tx.Symbol.String].Sub(tx.Quantity.Decimal)
		}
	}
	s := m.summary(t, user.ID)
	requireDec(t, balance.String(), s.Balance, "the wallet is the sum of its transactions")
	for _, h := range s.Holdings {
		requireDec(t, shares[h.Symbol].String(), h.Quantity, h.Symbol)
		require.True(t, h.Quantity.IsPositive())
	}
}
