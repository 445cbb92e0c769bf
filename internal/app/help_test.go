package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/registry"
)

// TestWorkerHelpListsEveryModel is defect 6 of issue 12: the help listed
// only lstm, arima and linreg.
func TestWorkerHelpListsEveryModel(t *testing.T) {
	for _, line := range []string{"worker help", "worker help backtest"} {
		code, stdout, _ := runCLI(t, nil, line)
		require.Equal(t, 0, code)
		for _, name := range registry.Names() {
			require.Contains(t, stdout, name, line)
		}
	}
	_, stdout, _ := runCLI(t, nil, "worker help")
	require.Contains(t, stdout, "lstm, arima, arima_auto, ets, theta, linreg, naive, drift")
	_, stdout, _ = runCLI(t, nil, "worker backtest -h")
	require.Contains(t, stdout, "--lstm-mode window|clean")
}
