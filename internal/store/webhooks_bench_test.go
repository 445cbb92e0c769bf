package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// BenchmarkFinishJob measures FinishJob, the statement that now also
// records a job's webhook events: "plain" for a job that names no
// endpoint (what every job without a webhook pays for the events' part),
// "webhook" for one whose end records a completed and a
// recommendation_changed delivery. Each iteration creates and starts a
// job with the timer stopped.
//
//	go test -run '^$' -bench FinishJob -benchtime 500x ./internal/store
func BenchmarkFinishJob(b *testing.B) {
	ctx := context.Background()
	db := dbtest.Postgres(b, "store")
	for _, hooked := range []bool{false, true} {
		name := "plain"
		if hooked {
			name = "webhook"
		}
		b.Run(name, func(b *testing.B) {
			owner := dbtest.User(b, db).ID
			params := `{}`
			if hooked {
				e := newEndpoint(b, db, owner, store.EventCompleted, store.EventRecommendationChanged)
				params = `{"webhook":"` + e.ID.String() + `"}`
			}
			action := []string{"buy", "sell"}
			i := 0
			for b.Loop() {
				b.StopTimer()
				job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT",
					Queue: "critical", Params: store.JSON(params)})
				if err != nil {
					b.Fatal(err)
				}
				started, err := db.StartJob(ctx, job.ID, "bench", time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				i++
				result := store.JSON(`{"recommendation":{"action":"` + action[i%2] + `"}}`)
				b.StartTimer()
				if err := db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, result, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
