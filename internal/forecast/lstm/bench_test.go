package lstm

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkTrainSP500_504 is the product claim: the default model on the
// S&P 500's last 504 closes, the run the PyTorch reference times.
func BenchmarkTrainSP500_504(b *testing.B) {
	closes := loadCloses(b, "gspc_last504.csv")
	cfg := DefaultConfig()
	var rep any
	for b.Loop() {
		r, err := Run(context.Background(), closes, cfg, 7, nil)
		require.NoError(b, err)
		b.ReportMetric(r.Params["train_seconds"].(float64), "train-s")
		b.ReportMetric(r.Metrics.RMSE, "rmse")
		rep = r
	}
	_ = rep
}
