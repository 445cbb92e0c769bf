// Package forecasttest gives the model tests real price series, kept once
// for every model package, and the byte encoding their fuzz targets share.
package forecasttest

import (
	"bytes"
	"embed"
	"encoding/binary"
	"encoding/csv"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// Series files in testdata/ (provenance in testdata/README.md).
const (
	SP500Last504 = "gspc_last504.csv"   // S&P 500, 504 closes to 2020-04-17
	MSFT         = "msft_1991_2000.csv" // Microsoft, 2,529 closes 1990-12-31 … 2001-01-02
)

//go:embed testdata/*.csv
var files embed.FS

// Closes returns the Close column of a Date,Close file in testdata/.
func Closes(tb testing.TB, name string) []float64 {
	tb.Helper()
	raw, err := files.ReadFile("testdata/" + name)
	require.NoError(tb, err)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(tb, err)
	require.Greater(tb, len(rows), 1, "no data rows in %s", name)
	require.Equal(tb, []string{"Date", "Close"}, rows[0])
	closes := make([]float64, 0, len(rows)-1)
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(row[1], 64)
		require.NoError(tb, err, "row %v", row)
		closes = append(closes, v)
	}
	return closes
}

// Path is the file's path on disk, for code under test that reads files.
func Path(name string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "testdata", name)
}

// EncodeSeries packs closes as little-endian float64s: the fuzz input format.
func EncodeSeries(closes []float64) []byte {
	out := make([]byte, 0, 8*len(closes))
	for _, v := range closes {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

// DecodeSeries unpacks EncodeSeries' format; a trailing partial value is ignored.
func DecodeSeries(data []byte) []float64 {
	out := make([]float64, 0, len(data)/8)
	for len(data) >= 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(data)))
		data = data[8:]
	}
	return out
}
