package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Company is a stock that can be traded while it is active.
type Company struct {
	ID        int64     `db:"id"`
	Symbol    string    `db:"symbol"`
	Name      string    `db:"name"`
	Exchange  string    `db:"exchange"`
	Sector    string    `db:"sector"`
	Active    bool      `db:"active"`
	CreatedAt time.Time `db:"created_at"`
}

const companyColumns = `id, symbol, name, exchange, sector, active, created_at`

// Broker executes trades for a commission. CommissionRate is a percentage
// of the trade's total: 0.25 means 0.25 %.
type Broker struct {
	ID             int64           `db:"id"`
	Name           string          `db:"name"`
	Email          string          `db:"email"`
	CommissionRate decimal.Decimal `db:"commission_rate"`
	Active         bool            `db:"active"`
	CreatedAt      time.Time       `db:"created_at"`
}

const brokerColumns = `id, name, email, commission_rate, active, created_at`

// cheapestFirst orders brokers by what they charge, the older first among
// equals: the one rule for which broker an order that names none goes to.
const cheapestFirst = `ORDER BY commission_rate, id`

// EnsureCompany inserts c unless a company with its symbol exists, and
// returns the row with whether it was inserted. An existing row is returned
// as it is, so seeding again never undoes what an admin changed.
func (db *DB) EnsureCompany(ctx context.Context, c Company) (*Company, bool, error) {
	var out Company
	err := db.get(ctx, &out, `INSERT INTO companies (symbol, name, exchange, sector)
		VALUES ($1, $2, $3, $4) ON CONFLICT (symbol) DO NOTHING RETURNING `+companyColumns,
		c.Symbol, c.Name, c.Exchange, c.Sector)
	if errors.Is(err, sql.ErrNoRows) {
		existing, err := db.CompanyBySymbol(ctx, c.Symbol)
		return existing, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("insert company %s: %w", c.Symbol, err)
	}
	return &out, true, nil
}

// EnsureBroker inserts b unless a broker of that name (in any case)
// exists, and returns the row with whether it was inserted; like
// EnsureCompany, it never overwrites.
func (db *DB) EnsureBroker(ctx context.Context, b Broker) (*Broker, bool, error) {
	var out Broker
	err := db.get(ctx, &out, `INSERT INTO brokers (name, email, commission_rate)
		VALUES ($1, $2, $3) ON CONFLICT (lower(name)) DO NOTHING RETURNING `+brokerColumns,
		b.Name, b.Email, b.CommissionRate)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.get(ctx, &out, `SELECT `+brokerColumns+` FROM brokers WHERE lower(name) = lower($1)`, b.Name)
		if err != nil {
			return nil, false, fmt.Errorf("load broker %s: %w", b.Name, err)
		}
		return &out, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("insert broker %s: %w", b.Name, err)
	}
	return &out, true, nil
}

// CompanyBySymbol returns the company with that symbol, active or not, or
// ErrNotFound.
func (db *DB) CompanyBySymbol(ctx context.Context, symbol string) (*Company, error) {
	var c Company
	err := db.get(ctx, &c, `SELECT `+companyColumns+` FROM companies WHERE symbol = $1`, symbol)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load company %s: %w", symbol, err)
	}
	return &c, nil
}

// ActiveCompanies lists the companies that can be traded, by symbol.
func (db *DB) ActiveCompanies(ctx context.Context) ([]Company, error) {
	var list []Company
	if err := db.selectAll(ctx, &list, `SELECT `+companyColumns+` FROM companies WHERE active ORDER BY symbol`); err != nil {
		return nil, fmt.Errorf("list companies: %w", err)
	}
	return list, nil
}

// ActiveBrokers lists the brokers that can be traded through, cheapest
// first: the first is the one an order that names none goes to.
func (db *DB) ActiveBrokers(ctx context.Context) ([]Broker, error) {
	var list []Broker
	if err := db.selectAll(ctx, &list, `SELECT `+brokerColumns+` FROM brokers WHERE active `+cheapestFirst); err != nil {
		return nil, fmt.Errorf("list brokers: %w", err)
	}
	return list, nil
}
