package app

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPredictionEvaluationEndToEnd asks the API for a rolling-origin
// evaluation on the bundled S&P 500's last two years, the windows of R's
// reference (internal/forecast/crossval/testdata/gen_tscv.R), and checks
// that persistence's and drift's errors at every origin and horizon are
// R's tsCV errors, through the queue, the worker and the stored result
// (whose shape the API client checks against openapi.yaml).
func TestPredictionEvaluationEndToEnd(t *testing.T) {
	raw, err := os.ReadFile("../forecast/crossval/testdata/tscv.json")
	require.NoError(t, err)
	var ref struct {
		Models map[string]struct {
			Origins []struct {
				Index  int       `json:"index"`
				Errors []float64 `json:"errors"`
			} `json:"origins"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))

	s := newStack(t)
	s.startWorker()
	id := s.submit("/api/v1/predictions", `{"ticker":"^GSPC","models":["drift"],"horizon":5,"evaluation":{"origins":20,"step":5}}`)
	job := s.await(id, final)
	require.Equal(t, "succeeded", job["status"], "error: %v", job["error"])
	result := job["result"].(map[string]any)
	require.EqualValues(t, 504, result["data_bars"])
	evaluation := result["evaluation"].(map[string]any)
	for _, name := range []string{"naive", "drift"} {
		ev := evaluation[name].(map[string]any)
		origins := ev["origins"].([]any)
		want := ref.Models[name].Origins
		require.Len(t, origins, len(want), name)
		for i, o := range origins {
			o := o.(map[string]any)
			require.EqualValues(t, want[i].Index, o["index"], name)
			errs := o["errors"].([]any)
			for k, e := range errs {
				require.InDelta(t, want[i].Errors[k], e.(float64), 1e-6, "%s origin %d h %d", name, want[i].Index, k+1)
			}
		}
		require.Len(t, ev["horizons"], 5, name)
	}
}
