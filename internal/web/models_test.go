package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestModelsLeaderboard walks GET /api/v1/models through its states: the
// first call queues one leaderboard job on the low queue, later calls
// while it runs queue no other, and a finished one is served (when a
// refresh is due: TestNeedsRefresh).
func TestModelsLeaderboard(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()

	type view struct {
		Status      string          `json:"status"`
		Progress    int             `json:"progress"`
		ComputedAt  *time.Time      `json:"computed_at"`
		Refreshing  bool            `json:"refreshing"`
		Leaderboard json.RawMessage `json:"leaderboard"`
	}
	get := func(want int) view {
		resp := h.api.Do(http.MethodGet, "/api/v1/models", nil)
		require.Equal(t, want, resp.Status, "%s", resp.Body)
		var v view
		resp.Decode(t, &v)
		return v
	}

	first := get(http.StatusAccepted)
	require.Equal(t, "computing", first.Status)
	done, live, err := h.db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Nil(t, done)
	require.NotNil(t, live)
	require.Equal(t, store.KindLeaderboard, live.Kind)
	require.Equal(t, jobs.QueueLow, live.Queue)
	var params jobs.LeaderboardParams
	require.NoError(t, json.Unmarshal(live.Params, &params))
	require.Equal(t, jobs.DefaultLeaderboard(), params)
	_, err = h.queue.Task(jobs.QueueLow, live.ID)
	require.NoError(t, err, "the job is on the low queue")

	get(http.StatusAccepted)
	_, again, err := h.db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Equal(t, live.ID, again.ID, "asking again queues nothing more")

	// The worker finishes it.
	started, err := h.db.StartJob(ctx, live.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	lb := `{"series":30,"horizon":7,"workers":1,"seconds":20.5,"models":[{"model":"naive","series":30,"failed":0,"beats_persistence":0,` +
		`"median_p_value":null,"median_skill":0,"mean_hit_rate":null,"call_series":0,"mean_coverage_80":0.78,"mean_coverage_95":0.94,"seconds":0.2}]}`
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(lb), ""))
	ready := get(http.StatusOK)
	require.Equal(t, "ready", ready.Status)
	require.False(t, ready.Refreshing)
	require.NotNil(t, ready.ComputedAt)
	require.JSONEq(t, lb, string(ready.Leaderboard))
}
