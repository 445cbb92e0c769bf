package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

func TestNeedsRefresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	finished := func(ago time.Duration) *store.Job {
		at := now.Add(-ago)
		return &store.Job{Status: store.StatusSucceeded, FinishedAt: &at}
	}
	running := &store.Job{Status: store.StatusRunning}
	require.True(t, needsRefresh(nil, nil, now), "none yet")
	require.False(t, needsRefresh(nil, running, now), "the first is being computed")
	require.False(t, needsRefresh(finished(time.Hour), nil, now), "fresh")
	require.True(t, needsRefresh(finished(jobs.LeaderboardMaxAge+time.Minute), nil, now), "a day old")
	require.False(t, needsRefresh(finished(jobs.LeaderboardMaxAge+time.Minute), running, now), "already refreshing")
}
