package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// switchableNews answers with one headline, from a source that fails or
// answers as the test says.
type switchableNews struct {
	mu     sync.Mutex
	failed bool
}

func (n *switchableNews) set(failed bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failed = failed
}

func (n *switchableNews) Analyze(context.Context, sentiment.Request) (*sentiment.Report, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	polarity := 0.4
	report := &sentiment.Report{Polarity: &polarity, Label: "positive", Positive: 1,
		Articles: []sentiment.Article{{Title: "Shares rise", Source: "finviz"}},
		Sources:  []sentiment.SourceStatus{{Source: "finviz", Status: sentiment.StatusOK, Articles: 1}}}
	if n.failed {
		// One source down, the other answering: a partial failure.
		report.Sources = append(report.Sources, sentiment.SourceStatus{Source: "eodhd", Status: sentiment.StatusTimeout})
	}
	return report, nil
}

// TestNewsReadDuringAnOutageIsNotReused is issue 20, item 2: a prediction
// with sentiment made while news sources failed was reused after they
// recovered, and a result's news was reused for ever. Now a result whose
// news failed, wholly or in part, is offered to nobody, and one with news
// is reused no longer than the news cache keeps its articles.
func TestNewsReadDuringAnOutageIsNotReused(t *testing.T) {
	news := &switchableNews{failed: true}
	const lifetime = 2 * time.Second
	f := newFixtureWith(t, &revisablePrices{}, 0, func(w *jobs.Worker) {
		w.Sentiment = news
		w.NewsLifetime = lifetime
	})
	predict := func() *store.Job {
		job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
			OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
			Params: store.JSON(`{"models":["linreg"],"horizon":3,"sentiment":true,"recommendation":"evidence"}`),
		})
		require.NoError(t, err)
		require.NoError(t, f.queue.Enqueue(context.Background(), job))
		done := f.awaitFinal(t, job)
		require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
		return done
	}

	outage := predict()
	require.False(t, outage.Reused)
	news.set(false)
	recovered := predict()
	require.False(t, recovered.Reused, "the news read during the outage is not reused")
	again := predict()
	require.True(t, again.Reused, "news read in full is reused")
	require.Equal(t, recovered.ID, *again.ReusedFrom)

	// Once the news cache would have read the news again, so does the
	// next identical request.
	time.Sleep(lifetime + 100*time.Millisecond)
	later := predict()
	require.False(t, later.Reused, "news older than the cache's lifetime is read again")
}
