package lstm

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// BenchmarkTrainSP500_504 is the product claim: the default model on the
// S&P 500's last 504 closes, the run the PyTorch reference times. train-s is
// the training time alone, as the reference reports it.
func BenchmarkTrainSP500_504(b *testing.B) {
	closes := forecasttest.Closes(b, "gspc_last504.csv")
	cfg := DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), closes, cfg, 7, nil)
		require.NoError(b, err)
		b.ReportMetric(rep.Params["train_seconds"].(float64), "train-s")
		b.ReportMetric(rep.Metrics.RMSE, "rmse")
	}
}

// BenchmarkAccuracy records test RMSE against persistence for both modes
// and three seeds on the reference series. Run it with -benchtime 1x: the
// figures are deterministic, only the seconds vary.
func BenchmarkAccuracy(b *testing.B) {
	for _, series := range []string{"gspc_last504.csv", "msft_1991_2000.csv"} {
		closes := forecasttest.Closes(b, series)
		for _, mode := range []string{ModeWindow, ModeClean} {
			for seed := range int64(3) {
				b.Run(fmt.Sprintf("%s/%s/seed%d", series, mode, seed), func(b *testing.B) {
					cfg := DefaultConfig()
					cfg.Mode, cfg.Seed = mode, seed
					for b.Loop() {
						rep, err := Run(context.Background(), closes, cfg, 1, nil)
						require.NoError(b, err)
						b.ReportMetric(rep.Metrics.RMSE, "rmse")
						b.ReportMetric(rep.Persistence.RMSE, "persistence-rmse")
						b.ReportMetric(rep.Params["train_seconds"].(float64), "train-s")
					}
				})
			}
		}
	}
}
