package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The worker's tasks carry its compute budget down to the models: after an
// LSTM job, the budget has counted the sections of its batches.
func TestWorkerModelsRunOnTheBudget(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	job := s.await(s.submit("/api/v1/predictions", `{"ticker":"^GSPC","models":["lstm"],"lookback":120}`), final)
	require.Equal(t, "succeeded", job["status"], "error: %v", job["error"])

	families, err := s.workerReg.Gather()
	require.NoError(t, err)
	sections := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "augur_compute_sections_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			sections[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	require.Len(t, sections, 2, "%v", sections)
	require.Positive(t, sections["parallel"]+sections["serial"], "the LSTM's batches were split off the budget")
}
