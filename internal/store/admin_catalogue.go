package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// Companies lists every company, active or not, by symbol.
func (db *DB) Companies(ctx context.Context) ([]Company, error) {
	var list []Company
	if err := db.selectAll(ctx, &list, `SELECT `+companyColumns+` FROM companies ORDER BY symbol`); err != nil {
		return nil, fmt.Errorf("list companies: %w", err)
	}
	return list, nil
}

// Brokers lists every broker, active or not, by name.
func (db *DB) Brokers(ctx context.Context) ([]Broker, error) {
	var list []Broker
	if err := db.selectAll(ctx, &list, `SELECT `+brokerColumns+` FROM brokers ORDER BY lower(name), id`); err != nil {
		return nil, fmt.Errorf("list brokers: %w", err)
	}
	return list, nil
}

// CreateCompany inserts an active company. A symbol already taken gives
// ErrConflict.
func (db *DB) CreateCompany(ctx context.Context, c Company) (*Company, error) {
	var out Company
	err := db.get(ctx, &out, `INSERT INTO companies (symbol, name, exchange, sector)
		VALUES ($1, $2, $3, $4) RETURNING `+companyColumns, c.Symbol, c.Name, c.Exchange, c.Sector)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("company %s: %w", c.Symbol, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("insert company %s: %w", c.Symbol, err)
	}
	return &out, nil
}

// CompanyChange is an edit of a company; nil fields stay as they are. The
// symbol never changes: transactions and price history are keyed by it.
type CompanyChange struct {
	Name, Exchange, Sector *string
	Active                 *bool
}

// UpdateCompany applies change to the company with that id, or gives
// ErrNotFound.
func (db *DB) UpdateCompany(ctx context.Context, id int64, change CompanyChange) (*Company, error) {
	var out Company
	err := db.get(ctx, &out, `UPDATE companies SET
			name = coalesce($2, name), exchange = coalesce($3, exchange),
			sector = coalesce($4, sector), active = coalesce($5, active)
		WHERE id = $1 RETURNING `+companyColumns, id, change.Name, change.Exchange, change.Sector, change.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("company %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("update company %d: %w", id, err)
	}
	return &out, nil
}

// CreateBroker inserts an active broker. A name already taken, in any
// case, gives ErrConflict.
func (db *DB) CreateBroker(ctx context.Context, b Broker) (*Broker, error) {
	var out Broker
	err := db.get(ctx, &out, `INSERT INTO brokers (name, email, commission_rate)
		VALUES ($1, $2, $3) RETURNING `+brokerColumns, b.Name, b.Email, b.CommissionRate)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("broker %s: %w", b.Name, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("insert broker %s: %w", b.Name, err)
	}
	return &out, nil
}

// BrokerChange is an edit of a broker; nil fields stay as they are. A new
// rate applies to trades from now on; past ones keep what they paid.
type BrokerChange struct {
	Name, Email    *string
	CommissionRate *decimal.Decimal
	Active         *bool
}

// UpdateBroker applies change to the broker with that id, or gives
// ErrNotFound; a name another broker has gives ErrConflict.
func (db *DB) UpdateBroker(ctx context.Context, id int64, change BrokerChange) (*Broker, error) {
	var out Broker
	err := db.get(ctx, &out, `UPDATE brokers SET
			name = coalesce($2, name), email = coalesce($3, email),
			commission_rate = coalesce($4, commission_rate), active = coalesce($5, active)
		WHERE id = $1 RETURNING `+brokerColumns, id, change.Name, change.Email, decimal.NullDecimal{
		Decimal: derefDecimal(change.CommissionRate), Valid: change.CommissionRate != nil}, change.Active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("broker %d: %w", id, ErrNotFound)
	case isUniqueViolation(err):
		return nil, fmt.Errorf("broker %d: %w", id, ErrConflict)
	case err != nil:
		return nil, fmt.Errorf("update broker %d: %w", id, err)
	}
	return &out, nil
}

func derefDecimal(d *decimal.Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return *d
}

// isUniqueViolation reports whether err is PostgreSQL refusing a duplicate
// of a unique value.
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}
