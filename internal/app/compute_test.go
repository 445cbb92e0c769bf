package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The worker's tasks carry its compute budget down to the models: after an
// LSTM job, the budget has counted the parts of its batches.
func TestWorkerModelsRunOnTheBudget(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	job := s.await(s.submit("/api/v1/predictions", `{"ticker":"^GSPC","models":["lstm"],"lookback":120}`), final)
	require.Equal(t, "succeeded", job["status"], "error: %v", job["error"])

	families, err := s.workerReg.Gather()
	require.NoError(t, err)
	parts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "augur_compute_parts_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			parts[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	require.Contains(t, parts, "goroutine")
	require.Positive(t, parts["caller"], "the LSTM's batch parts were run off the budget")
}
