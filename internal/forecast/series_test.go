package forecast_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadCloses reads the Close column of a Date,Close file in testdata.
func loadCloses(t testing.TB, name string) []float64 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 1, "no data rows in %s", name)
	require.Equal(t, []string{"Date", "Close"}, rows[0])
	closes := make([]float64, 0, len(rows)-1)
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		closes = append(closes, v)
	}
	return closes
}
