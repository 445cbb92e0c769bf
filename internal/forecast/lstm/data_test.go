package lstm

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadCloses reads the Close column of a Date,Close file in testdata.
func loadCloses(tb testing.TB, name string) []float64 {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(tb, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(tb, err)
	require.Equal(tb, []string{"Date", "Close"}, rows[0])
	closes := make([]float64, 0, len(rows)-1)
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(row[1], 64)
		require.NoError(tb, err, "row %v", row)
		closes = append(closes, v)
	}
	return closes
}
