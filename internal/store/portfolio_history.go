package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// ValuePoint is what a user's current holdings were worth at one day's
// closes.
type ValuePoint struct {
	Date  time.Time       `db:"date"`
	Value decimal.Decimal `db:"value"`
}

// HoldingsValueHistory values the user's current holdings at the closes of
// the last days (at most days of them) on which the price cache has a
// close for every company held, oldest first. A day missing one company's
// close is left out rather than shown as a false dip. The closes are
// stored as floats by the providers; each becomes numeric before it is
// multiplied, and the sum is rounded to cents.
func (db *DB) HoldingsValueHistory(ctx context.Context, userID int64, days int) ([]ValuePoint, error) {
	var points []ValuePoint
	err := db.pool.SelectContext(ctx, &points, `SELECT date, value FROM (
			SELECT pb.date, round(sum(h.quantity * pb.close::numeric), 2) AS value
			FROM holdings h
			JOIN companies c ON c.id = h.company_id
			JOIN price_bars pb ON pb.ticker = c.symbol
			WHERE h.user_id = $1
			GROUP BY pb.date
			HAVING count(*) = (SELECT count(*) FROM holdings WHERE user_id = $1)
			ORDER BY pb.date DESC
			LIMIT $2
		) recent ORDER BY date`, userID, days)
	if err != nil {
		return nil, fmt.Errorf("value history of user %d: %w", userID, err)
	}
	return points, nil
}
