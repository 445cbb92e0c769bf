package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// jobStateColumns are jobColumns but the result: a job's state, which is
// what its event streams send at every change. A long prediction's result
// is most of its row (764 KB for one long job), and streams that re-read
// it at the end read and sent it once each: 400 of them on one job held
// up the rest of the API for seconds.
var jobStateColumns = withoutColumn(jobColumns, "result")

// withoutColumn removes one column from a column list; a list without it
// is a programming error, found at start-up.
func withoutColumn(columns, name string) string {
	out := strings.Replace(columns, " "+name+",", "", 1)
	if out == columns {
		panic("store: column list has no " + name)
	}
	return out
}

// JobState is Job without its result, which it leaves nil: a look at
// where the job is, without the cost of what it produced.
func (db *DB) JobState(ctx context.Context, id uuid.UUID, ownerID int64) (*Job, error) {
	var row jobRow
	err := db.get(ctx, &row, `SELECT `+jobStateColumns+` FROM jobs WHERE id = $1 AND ($2 = 0 OR owner_id = $2)`, id, ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load state of job %s: %w", id, err)
	}
	j := row.job()
	return &j, nil
}
