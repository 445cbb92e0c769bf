package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
)

// Errors of trading. The refusals that are money rules come from
// internal/portfolio (ErrInsufficientFunds, ErrInsufficientShares,
// ErrNoHolding, ErrOrderTooSmall) and reach callers wrapped, for errors.Is.
var (
	// ErrUnknownCompany means no active company has the symbol.
	ErrUnknownCompany = errors.New("no active company with this symbol")
	// ErrUnknownBroker means the chosen broker does not exist or is inactive.
	ErrUnknownBroker = errors.New("no active broker with this id")
	// ErrNoBroker means there is no active broker at all to trade through.
	ErrNoBroker = errors.New("no active broker")
)

// Transaction types.
const (
	TxBuy      = "BUY"
	TxSell     = "SELL"
	TxDividend = "DIVIDEND"
	TxDeposit  = "DEPOSIT"
)

// Transaction is one movement of a user's money or shares. Quantity, Price,
// Symbol and the broker are null for a deposit; RealisedPL is set on sells
// only.
type Transaction struct {
	ID          int64               `db:"id"`
	UserID      int64               `db:"user_id"`
	Type        string              `db:"type"`
	Symbol      sql.NullString      `db:"symbol"`
	BrokerID    sql.NullInt64       `db:"broker_id"`
	BrokerName  sql.NullString      `db:"broker_name"`
	Quantity    decimal.NullDecimal `db:"quantity"`
	Price       decimal.NullDecimal `db:"price"`
	Total       decimal.Decimal     `db:"total"`
	Commission  decimal.Decimal     `db:"commission"`
	RealisedPL  decimal.NullDecimal `db:"realised_pl"`
	Description string              `db:"description"`
	CreatedAt   time.Time           `db:"created_at"`
}

// transactionSelect reads transactions with their symbol and broker name.
const transactionSelect = `SELECT t.id, t.user_id, t.type, c.symbol, t.broker_id, b.name AS broker_name,
		t.quantity, t.price, t.total, t.commission, t.realised_pl, t.description, t.created_at
	FROM transactions t
	LEFT JOIN companies c ON c.id = t.company_id
	LEFT JOIN brokers b ON b.id = t.broker_id`

// Order sides.
const (
	SideBuy  = "buy"
	SideSell = "sell"
)

// Order is a buy or sell at a known price.
type Order struct {
	UserID   int64
	Symbol   string
	Side     string // SideBuy or SideSell
	Quantity decimal.Decimal
	// Quote is the price to trade at, in cents, with where it came from,
	// which the transaction's description keeps.
	Quote portfolio.Quote
	// BrokerID picks the broker; 0 means the cheapest active one.
	BrokerID int64
	// Idempotency is the client's key for the order, if it sent one.
	Idempotency Idempotency
	// Audit, when set, is appended in the order's transaction: a trade
	// is never made unaudited. A replay appends nothing.
	Audit *AuditAppend
}

// Idempotency is a client's Idempotency-Key for an order or a deposit,
// with the hash of the normalised request it came with. The zero value is
// none.
type Idempotency struct {
	Key         string
	RequestHash []byte
}

// IdempotentTransaction returns the user's transaction made with idem's
// key: nil when there is none (or no key), ErrIdempotencyMismatch when it
// was made by another request. Callers look before they do slow work (a
// price lookup), so that a replay needs none of it; PlaceOrder and Deposit
// look again under the wallet's lock, which decides.
func (db *DB) IdempotentTransaction(ctx context.Context, userID int64, idem Idempotency) (*Transaction, error) {
	return idempotentTransaction(ctx, querier{db: db}, userID, idem)
}

func idempotentTransaction(ctx context.Context, q querier, userID int64, idem Idempotency) (*Transaction, error) {
	if idem.Key == "" {
		return nil, nil
	}
	var earlier struct {
		ID          int64  `db:"id"`
		RequestHash []byte `db:"request_hash"`
	}
	err := q.get(ctx, &earlier, `SELECT id, request_hash FROM transactions WHERE user_id = $1 AND idempotency_key = $2`,
		userID, idem.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up transaction for idempotency key: %w", err)
	}
	if !bytes.Equal(earlier.RequestHash, idem.RequestHash) {
		return nil, ErrIdempotencyMismatch
	}
	var t Transaction
	if err := q.get(ctx, &t, transactionSelect+` WHERE t.id = $1`, earlier.ID); err != nil {
		return nil, fmt.Errorf("read transaction %d: %w", earlier.ID, err)
	}
	return &t, nil
}

// describe is the transaction description of a filled order: what, at
// which price from where, through whom. The price's source stays with the
// trade, so a history made on the bundled sample data, or on a DATA_DIR
// file, says so.
func describe(verb string, f portfolio.Fill, symbol, broker string, q portfolio.Quote) string {
	s := fmt.Sprintf("%s %s %s at %s through %s", verb, f.Quantity, symbol, f.Price.StringFixed(2), broker)
	if q.Source == "" {
		return s
	}
	name := market.SourceTitle(q.Source)
	origin := "from " + name
	if !q.Live {
		origin = name + ", not live"
	}
	return fmt.Sprintf("%s (close of %s, %s)", s, q.Date.Format(time.DateOnly), origin)
}

// inTx runs fn in one database transaction, committed when fn returns nil
// and rolled back otherwise.
func (db *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(querier) error) error {
	tx, err := db.pool.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// After a commit, Rollback does nothing and only reports ErrTxDone.
	defer func() { _ = tx.Rollback() }()
	if err := fn(querier{db: db, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lockWallet creates the user's wallet if it has none and locks it for the
// rest of tx, returning the balance. Every money-moving method locks the
// wallet first and the holding second, always in that order, so two of them
// can never wait on each other in a cycle; and since each takes this lock,
// one user's trades run one after another while other users' run freely.
func lockWallet(ctx context.Context, tx querier, userID int64) (decimal.Decimal, error) {
	if _, err := tx.exec(ctx, `INSERT INTO wallets (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, userID); err != nil {
		return decimal.Zero, fmt.Errorf("create wallet: %w", err)
	}
	var balance decimal.Decimal
	if err := tx.get(ctx, &balance, `SELECT balance FROM wallets WHERE user_id = $1 FOR UPDATE`, userID); err != nil {
		return decimal.Zero, fmt.Errorf("lock wallet: %w", err)
	}
	return balance, nil
}

func setBalance(ctx context.Context, tx querier, userID int64, balance decimal.Decimal) error {
	if _, err := tx.exec(ctx, `UPDATE wallets SET balance = $2, updated_at = now() WHERE user_id = $1`, userID, balance); err != nil {
		return fmt.Errorf("update wallet: %w", err)
	}
	return nil
}

// lockHolding locks the user's holding of the company for the rest of tx
// and returns it; holding nothing gives a zero position and no error.
func lockHolding(ctx context.Context, tx querier, userID, companyID int64) (portfolio.Position, error) {
	var p struct {
		Quantity  decimal.Decimal `db:"quantity"`
		CostBasis decimal.Decimal `db:"cost_basis"`
	}
	err := tx.get(ctx, &p, `SELECT quantity, cost_basis FROM holdings
		WHERE user_id = $1 AND company_id = $2 FOR UPDATE`, userID, companyID)
	if errors.Is(err, sql.ErrNoRows) {
		return portfolio.Position{}, nil
	}
	if err != nil {
		return portfolio.Position{}, fmt.Errorf("lock holding: %w", err)
	}
	return portfolio.Position{Quantity: p.Quantity, CostBasis: p.CostBasis}, nil
}

// saveHolding writes the position back; an empty one is deleted, so every
// holdings row holds shares.
func saveHolding(ctx context.Context, tx querier, userID, companyID int64, p portfolio.Position) error {
	var err error
	if p.Quantity.IsZero() {
		_, err = tx.exec(ctx, `DELETE FROM holdings WHERE user_id = $1 AND company_id = $2`, userID, companyID)
	} else {
		_, err = tx.exec(ctx, `INSERT INTO holdings (user_id, company_id, quantity, cost_basis) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, company_id) DO UPDATE
			SET quantity = EXCLUDED.quantity, cost_basis = EXCLUDED.cost_basis, updated_at = now()`,
			userID, companyID, p.Quantity, p.CostBasis)
	}
	if err != nil {
		return fmt.Errorf("save holding: %w", err)
	}
	return nil
}

// insertTransaction records t, with the client's idempotency key if any,
// and returns it as transactionSelect reads it.
func insertTransaction(ctx context.Context, tx querier, t Transaction, companyID sql.NullInt64, idem Idempotency) (*Transaction, error) {
	var key sql.NullString
	var hash []byte
	if idem.Key != "" {
		key, hash = sql.NullString{String: idem.Key, Valid: true}, idem.RequestHash
	}
	var id int64
	err := tx.get(ctx, &id, `INSERT INTO transactions
			(user_id, type, company_id, broker_id, quantity, price, total, commission, realised_pl, description,
			 idempotency_key, request_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		t.UserID, t.Type, companyID, t.BrokerID, t.Quantity, t.Price, t.Total, t.Commission, t.RealisedPL, t.Description,
		key, hash)
	if err != nil {
		return nil, fmt.Errorf("insert %s transaction: %w", t.Type, err)
	}
	var out Transaction
	if err := tx.get(ctx, &out, transactionSelect+` WHERE t.id = $1`, id); err != nil {
		return nil, fmt.Errorf("read back transaction %d: %w", id, err)
	}
	return &out, nil
}

func activeCompany(ctx context.Context, tx querier, symbol string) (*Company, error) {
	var c Company
	err := tx.get(ctx, &c, `SELECT `+companyColumns+` FROM companies WHERE symbol = $1 AND active`, symbol)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", symbol, ErrUnknownCompany)
	}
	if err != nil {
		return nil, fmt.Errorf("load company %s: %w", symbol, err)
	}
	return &c, nil
}

// chooseBroker returns the active broker with brokerID, or the cheapest
// active one (the oldest among equals) when brokerID is 0.
func chooseBroker(ctx context.Context, tx querier, brokerID int64) (*Broker, error) {
	var b Broker
	var err error
	if brokerID != 0 {
		err = tx.get(ctx, &b, `SELECT `+brokerColumns+` FROM brokers WHERE id = $1 AND active`, brokerID)
	} else {
		err = tx.get(ctx, &b, `SELECT `+brokerColumns+` FROM brokers WHERE active `+cheapestFirst+` LIMIT 1`)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows) && brokerID != 0:
		return nil, fmt.Errorf("broker %d: %w", brokerID, ErrUnknownBroker)
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNoBroker
	case err != nil:
		return nil, fmt.Errorf("choose broker: %w", err)
	}
	return &b, nil
}

// ChooseBroker is the broker an order naming brokerID (0 = none) would go
// through now, by the rule PlaceOrder follows: for an order's preview.
func (db *DB) ChooseBroker(ctx context.Context, brokerID int64) (*Broker, error) {
	return chooseBroker(ctx, querier{db: db}, brokerID)
}

// PlaceOrder buys or sells at o.Price through o's broker (or the cheapest
// active one), in one database transaction holding row locks on the wallet
// and then the holding. A buy the wallet cannot cover, total plus
// commission, fails with portfolio.ErrInsufficientFunds; a sell of more than
// is held with portfolio.ErrInsufficientShares; in both cases nothing
// changes. Other failures: ErrUnknownCompany, ErrUnknownBroker, ErrNoBroker,
// portfolio.ErrOrderTooSmall. With an idempotency key that one of the
// user's transactions already holds it trades nothing, and returns that
// transaction with replayed set, or ErrIdempotencyMismatch.
func (db *DB) PlaceOrder(ctx context.Context, o Order) (*Transaction, bool, error) {
	if o.Side != SideBuy && o.Side != SideSell {
		return nil, false, fmt.Errorf("order side %q is neither %s nor %s", o.Side, SideBuy, SideSell)
	}
	var out *Transaction
	replayed := false
	err := db.inTx(ctx, nil, func(tx querier) error {
		balance, err := lockWallet(ctx, tx, o.UserID)
		if err != nil {
			return err
		}
		// Under the wallet's lock, so that of two retries at once the
		// second finds the first's transaction.
		if out, err = idempotentTransaction(ctx, tx, o.UserID, o.Idempotency); out != nil || err != nil {
			replayed = out != nil
			return err
		}
		company, err := activeCompany(ctx, tx, o.Symbol)
		if err != nil {
			return err
		}
		broker, err := chooseBroker(ctx, tx, o.BrokerID)
		if err != nil {
			return err
		}
		position, err := lockHolding(ctx, tx, o.UserID, company.ID)
		if err != nil {
			return err
		}
		fill, err := portfolio.NewFill(o.Quantity, o.Quote.Price, broker.CommissionRate)
		if err != nil {
			return err
		}
		t := Transaction{
			UserID:     o.UserID,
			BrokerID:   sql.NullInt64{Int64: broker.ID, Valid: true},
			Quantity:   decimal.NewNullDecimal(fill.Quantity),
			Price:      decimal.NewNullDecimal(fill.Price),
			Total:      fill.Total,
			Commission: fill.Commission,
		}
		if o.Side == SideBuy {
			if balance, err = portfolio.Debit(balance, fill.Cost()); err != nil {
				return fmt.Errorf("%w: buying %s %s costs %s with commission, and the wallet holds %s",
					err, fill.Quantity, company.Symbol, fill.Cost().StringFixed(2), balance.StringFixed(2))
			}
			position = position.Buy(fill)
			t.Type = TxBuy
			t.Description = describe("Bought", fill, company.Symbol, broker.Name, o.Quote)
		} else {
			var realised decimal.Decimal
			held := position.Quantity
			if position, realised, err = position.Sell(fill); err != nil {
				return fmt.Errorf("%w: selling %s %s with %s held", err, fill.Quantity, company.Symbol, held)
			}
			balance = balance.Add(fill.Proceeds())
			t.Type = TxSell
			t.RealisedPL = decimal.NewNullDecimal(realised)
			t.Description = describe("Sold", fill, company.Symbol, broker.Name, o.Quote)
		}
		if err := saveHolding(ctx, tx, o.UserID, company.ID, position); err != nil {
			return err
		}
		if err := setBalance(ctx, tx, o.UserID, balance); err != nil {
			return err
		}
		out, err = insertTransaction(ctx, tx, t, sql.NullInt64{Int64: company.ID, Valid: true}, o.Idempotency)
		if err != nil || o.Audit == nil {
			return err
		}
		return appendAudit(ctx, tx, o.Audit)
	})
	if err != nil {
		return nil, false, err
	}
	return out, replayed, nil
}

// Deposit adds amount to the user's wallet, creating it on first use. The
// amount must already have passed portfolio.ParseDeposit. With an
// idempotency key, as PlaceOrder.
func (db *DB) Deposit(ctx context.Context, userID int64, amount decimal.Decimal, idem Idempotency) (*Transaction, bool, error) {
	return db.DepositAudited(ctx, userID, amount, idem, nil)
}

// DepositAudited is Deposit that appends audit, when set, in the
// deposit's transaction (a replay appends nothing).
func (db *DB) DepositAudited(ctx context.Context, userID int64, amount decimal.Decimal, idem Idempotency, audit *AuditAppend) (*Transaction, bool, error) {
	var out *Transaction
	replayed := false
	err := db.inTx(ctx, nil, func(tx querier) error {
		balance, err := lockWallet(ctx, tx, userID)
		if err != nil {
			return err
		}
		if out, err = idempotentTransaction(ctx, tx, userID, idem); out != nil || err != nil {
			replayed = out != nil
			return err
		}
		if err := setBalance(ctx, tx, userID, balance.Add(amount)); err != nil {
			return err
		}
		out, err = insertTransaction(ctx, tx, Transaction{
			UserID: userID, Type: TxDeposit, Total: amount, Description: "Deposit to wallet",
		}, sql.NullInt64{}, idem)
		if err != nil || audit == nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, false, err
	}
	return out, replayed, nil
}

// RecordDividend pays perShare on every share of symbol the user holds
// into the wallet, recording a DIVIDEND transaction and a dividends row.
// Holding none gives portfolio.ErrNoHolding. The company may have been
// deactivated since: shares already held still earn.
func (db *DB) RecordDividend(ctx context.Context, userID int64, symbol string, perShare decimal.Decimal) (*Transaction, error) {
	var out *Transaction
	err := db.inTx(ctx, nil, func(tx querier) error {
		balance, err := lockWallet(ctx, tx, userID)
		if err != nil {
			return err
		}
		var companyID int64
		err = tx.get(ctx, &companyID, `SELECT id FROM companies WHERE symbol = $1`, symbol)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", symbol, ErrUnknownCompany)
		}
		if err != nil {
			return fmt.Errorf("load company %s: %w", symbol, err)
		}
		position, err := lockHolding(ctx, tx, userID, companyID)
		if err != nil {
			return err
		}
		total, err := portfolio.Dividend(perShare, position.Quantity)
		if err != nil {
			return fmt.Errorf("dividend on %s: %w", symbol, err)
		}
		if err := setBalance(ctx, tx, userID, balance.Add(total)); err != nil {
			return err
		}
		out, err = insertTransaction(ctx, tx, Transaction{
			UserID: userID, Type: TxDividend,
			Quantity: decimal.NewNullDecimal(position.Quantity), Price: decimal.NewNullDecimal(perShare),
			Total:       total,
			Description: fmt.Sprintf("Dividend of %s a share on %s %s", perShare, position.Quantity, symbol),
		}, sql.NullInt64{Int64: companyID, Valid: true}, Idempotency{})
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO dividends (user_id, company_id, amount_per_share, quantity, total, transaction_id)
			VALUES ($1, $2, $3, $4, $5, $6)`, userID, companyID, perShare, position.Quantity, total, out.ID)
		if err != nil {
			return fmt.Errorf("insert dividend: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TransactionCursor marks a position in a newest-first listing.
type TransactionCursor struct {
	CreatedAt time.Time
	ID        int64
}

// ListTransactions returns up to limit of the user's transactions, newest
// first, strictly after the cursor when one is given. It reads the index
// (user_id, created_at DESC, id DESC), so a page costs the same however deep.
func (db *DB) ListTransactions(ctx context.Context, userID int64, after *TransactionCursor, limit int) ([]Transaction, error) {
	var list []Transaction
	var err error
	if after == nil {
		err = db.selectAll(ctx, &list, transactionSelect+` WHERE t.user_id = $1
			ORDER BY t.created_at DESC, t.id DESC LIMIT $2`, userID, limit)
	} else {
		err = db.selectAll(ctx, &list, transactionSelect+` WHERE t.user_id = $1
			AND (t.created_at, t.id) < ($2, $3)
			ORDER BY t.created_at DESC, t.id DESC LIMIT $4`, userID, after.CreatedAt, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	return list, nil
}

// Holding is a user's shares of one company.
type Holding struct {
	CompanyID int64           `db:"company_id"`
	Symbol    string          `db:"symbol"`
	Name      string          `db:"name"`
	Quantity  decimal.Decimal `db:"quantity"`
	CostBasis decimal.Decimal `db:"cost_basis"`
	UpdatedAt time.Time       `db:"updated_at"`
}

// Position is the holding as portfolio's rules see it.
func (h Holding) Position() portfolio.Position {
	return portfolio.Position{Quantity: h.Quantity, CostBasis: h.CostBasis}
}

// Summary is a user's portfolio without market prices: what a valuation
// starts from.
type Summary struct {
	Balance  decimal.Decimal
	Holdings []Holding
	// RealisedPL is the sum of every sell's realised profit or loss.
	RealisedPL decimal.Decimal
	// Dividends is every dividend paid in.
	Dividends decimal.Decimal
	// Commissions is every commission paid.
	Commissions decimal.Decimal
	// Deposits is every deposit made.
	Deposits decimal.Decimal
}

// TotalInvested is the cost basis of everything held now: what the shares
// still owned cost, commissions included.
func (s *Summary) TotalInvested() decimal.Decimal {
	total := decimal.Zero
	for _, h := range s.Holdings {
		total = total.Add(h.CostBasis)
	}
	return total
}

// PortfolioSummary returns the user's wallet, holdings (by symbol) and
// totals. They are read in one repeatable-read snapshot, so a trade
// committing meanwhile shows in all of them or in none.
func (db *DB) PortfolioSummary(ctx context.Context, userID int64) (*Summary, error) {
	var s Summary
	err := db.inTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx querier) error {
		err := tx.get(ctx, &s.Balance, `SELECT balance FROM wallets WHERE user_id = $1`, userID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load wallet: %w", err)
		}
		err = tx.selectAll(ctx, &s.Holdings, `SELECT h.company_id, c.symbol, c.name, h.quantity, h.cost_basis, h.updated_at
			FROM holdings h JOIN companies c ON c.id = h.company_id
			WHERE h.user_id = $1 ORDER BY c.symbol`, userID)
		if err != nil {
			return fmt.Errorf("load holdings: %w", err)
		}
		var totals struct {
			RealisedPL  decimal.Decimal `db:"realised_pl"`
			Dividends   decimal.Decimal `db:"dividends"`
			Commissions decimal.Decimal `db:"commissions"`
			Deposits    decimal.Decimal `db:"deposits"`
		}
		err = tx.get(ctx, &totals, `SELECT
				coalesce(sum(realised_pl), 0) AS realised_pl,
				coalesce(sum(total) FILTER (WHERE type = 'DIVIDEND'), 0) AS dividends,
				coalesce(sum(commission), 0) AS commissions,
				coalesce(sum(total) FILTER (WHERE type = 'DEPOSIT'), 0) AS deposits
			FROM transactions WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("sum transactions: %w", err)
		}
		s.RealisedPL, s.Dividends, s.Commissions, s.Deposits = totals.RealisedPL, totals.Dividends, totals.Commissions, totals.Deposits
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}
