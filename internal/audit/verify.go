package audit

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/augurhq/augur/internal/store"
)

// verifyBatch is how many rows Verify reads at a time.
const verifyBatch = 1000

// Report is what Verify found.
type Report struct {
	// Rows is how many rows verified; First and Last are their ids (0
	// when the log is empty). Rows before First were pruned by retention.
	Rows        int64
	First, Last int64
}

// BrokenError names the first row at which the chain breaks.
type BrokenError struct {
	ID     int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at row %d: %s", e.ID, e.Reason)
}

// Verify walks the whole chain from the oldest row kept and returns a
// *BrokenError at the first row that was edited (its hash no longer
// matches its contents), or whose predecessor was removed or moved (its
// prev_hash is not the hash of the row before it). The oldest row's own
// prev_hash is not checked: retention removed its predecessor.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var r Report
	var prev []byte
	after := int64(0)
	for {
		rows, err := db.AuditChain(ctx, after, verifyBatch)
		if err != nil {
			return r, err
		}
		for i := range rows {
			e := &rows[i]
			if prev != nil && !bytes.Equal(e.PrevHash, prev) {
				return r, &BrokenError{ID: e.ID, Reason: "its prev_hash is not the hash of the row before it (a row removed, inserted or reordered before it)"}
			}
			if !bytes.Equal(Seal(e), e.Hash) {
				return r, &BrokenError{ID: e.ID, Reason: "its hash does not match its contents (the row was edited)"}
			}
			if r.First == 0 {
				r.First = e.ID
			}
			r.Rows, r.Last, prev = r.Rows+1, e.ID, e.Hash
		}
		if len(rows) < verifyBatch {
			return r, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// Prune deletes the rows older than age (0 keeps every row), oldest
// first, and records the pruning as a row of its own by the system.
func (l *Log) Prune(ctx context.Context, age time.Duration) (int64, error) {
	if age <= 0 {
		return 0, nil
	}
	ctx = WithActor(ctx, System)
	var appended *store.AuditAppend
	n, err := l.db.PruneAudit(ctx, age, func(deleted int64) *store.AuditAppend {
		appended = l.Append(ctx, Event{Action: Pruned, Details: map[string]string{
			"deleted": fmt.Sprint(deleted), "older_than": age.String()}})
		return appended
	})
	if err == nil && appended != nil {
		l.Emit(appended.Entry)
	}
	return n, err
}
