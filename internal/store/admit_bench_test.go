package store_test

import (
	"context"
	"testing"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// BenchmarkAdmitJob measures the store's part of a submission, one after
// another on one owner: "plain" stores the job with CreateJob and no rule;
// "admitted" is what internal/admission does with a rate limiter, the look
// without a lock (CheckAdmission) then the decision and the insert under
// the owner's lock (AdmitJob). Each stores a job, so the owner's
// unfinished jobs grow by b.N and the cap is set above them.
//
//	go test -run '^$' -bench AdmitJob -benchtime 2000x ./internal/store
func BenchmarkAdmitJob(b *testing.B) {
	ctx := context.Background()
	db := dbtest.Postgres(b, "store")
	rule := store.AdmissionRule{MaxUnfinished: 1 << 30, ShareQueue: "critical", SharePerOwner: 3, OverflowQueue: "default"}
	n := store.NewJob{Kind: store.KindPrediction, Ticker: "MSFT", Params: store.JSON(`{"models":["naive"]}`), Queue: "critical",
		RequestHash: []byte("h")}
	b.Run("plain", func(b *testing.B) {
		n.OwnerID = dbtest.User(b, db).ID
		for b.Loop() {
			if _, _, err := db.CreateJob(ctx, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("admitted", func(b *testing.B) {
		n.OwnerID = dbtest.User(b, db).ID
		for b.Loop() {
			if _, err := db.CheckAdmission(ctx, n, rule); err != nil {
				b.Fatal(err)
			}
			if a, err := db.AdmitJob(ctx, n, rule); err != nil || a.Job == nil {
				b.Fatal(a, err)
			}
		}
	})
}
