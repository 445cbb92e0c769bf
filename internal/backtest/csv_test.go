package backtest

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadSeries(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		input  string
		column string
		// want describes the result: column header, length, first and last value.
		wantColumn string
		wantN      int
		wantFirst  float64
		wantLast   float64
		wantDates  []string // first and last date; nil means no date column
	}{
		{
			name: "yahoo download prefers Close to Adj Close and skips the null row", file: "yahoo_quoted.csv",
			wantColumn: "Close", wantN: 60, wantFirst: 3325.540039, wantLast: 2874.560059,
			wantDates: []string{"2020-01-23", "2020-04-17"},
		},
		{
			name: "named column matched case-insensitively with spaces", file: "yahoo_quoted.csv", column: "  adj CLOSE ",
			wantColumn: "Adj Close", wantN: 60, wantFirst: 3325.540039, wantLast: 2874.560059,
			wantDates: []string{"2020-01-23", "2020-04-17"},
		},
		{
			name: "named non-price column", file: "yahoo_quoted.csv", column: "volume",
			wantColumn: "Volume", wantN: 60, wantFirst: 3764860000, wantLast: 5792140000,
			wantDates: []string{"2020-01-23", "2020-04-17"},
		},
		{
			name: "semicolons and a price column without a known date column", file: "semicolon_price.csv",
			wantColumn: "price", wantN: 60, wantFirst: 3325.540039, wantLast: 2874.560059,
		},
		{
			name: "single value column", file: "value_only.csv",
			wantColumn: "value", wantN: 30, wantFirst: 3325.540039, wantLast: 3023.939941,
		},
		{
			name:       "no known price column falls back to the second",
			input:      "day,amount\n2024-01-02,10.5\n2024-01-03,11\n",
			wantColumn: "amount", wantN: 2, wantFirst: 10.5, wantLast: 11,
			wantDates: nil,
		},
		{
			name:       "byte order mark, tabs, a short row and padded numbers",
			input:      "\ufeffTimestamp\tPrice\n1700000000\t 1.5 \n1700086400\n1700172800\t2.5\n",
			wantColumn: "Price", wantN: 2, wantFirst: 1.5, wantLast: 2.5,
			wantDates: []string{"1700000000", "1700172800"},
		},
		{
			name:       "NaN, infinity and text are skipped",
			input:      "date,close\nd1,NaN\nd2,inf\nd3,n/a\nd4,\nd5,7\n",
			wantColumn: "close", wantN: 1, wantFirst: 7, wantLast: 7,
			wantDates: []string{"d5", "d5"},
		},
		{
			name:       "leading blank lines before the header",
			input:      "\n\n Date , Close \n2024-01-02,3\n",
			wantColumn: "Close", wantN: 1, wantFirst: 3, wantLast: 3,
			wantDates: []string{"2024-01-02", "2024-01-02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input
			if tt.file != "" {
				raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
				require.NoError(t, err)
				input = string(raw)
			}
			s, err := readSeries(strings.NewReader(input), tt.column)
			require.NoError(t, err)
			require.Equal(t, tt.wantColumn, s.column)
			require.Len(t, s.values, tt.wantN)
			require.Equal(t, tt.wantFirst, s.values[0])
			require.Equal(t, tt.wantLast, s.values[len(s.values)-1])
			if tt.wantDates == nil {
				require.Nil(t, s.dates)
				return
			}
			require.Len(t, s.dates, len(s.values))
			require.Equal(t, tt.wantDates, []string{s.dates[0], s.dates[len(s.dates)-1]})
		})
	}
}

func TestReadSeriesYahooSkipsOnlyTheHoliday(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "yahoo_quoted.csv"))
	require.NoError(t, err)
	defer f.Close()
	s, err := readSeries(f, "")
	require.NoError(t, err)
	require.NotContains(t, s.dates, "2020-02-17")
	require.Contains(t, s.dates, "2020-02-14")
	require.Contains(t, s.dates, "2020-02-18")
}

func TestReadSeriesErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		column string
		want   error
		text   string
	}{
		{name: "unknown column", input: "Date,Close\n2024-01-02,1\n", column: "Open", want: ErrColumnNotFound, text: `"Open" is not one of ["Date" "Close"]`},
		{name: "no numbers in the column", input: "Date,Close\n2024-01-02,n/a\n2024-01-03,\n", want: ErrNoPrices},
		{name: "header only", input: "Date,Close\n", want: ErrNoPrices},
		{name: "empty", input: "", text: "empty file"},
		{name: "blank lines only", input: "\n\r\n\n", text: "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readSeries(strings.NewReader(tt.input), tt.column)
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
			if tt.text != "" {
				require.ErrorContains(t, err, tt.text)
			}
		})
	}
}

func TestReadSeriesRejectsHugeInput(t *testing.T) {
	_, err := readSeries(endlessDigits{block: bytes.Repeat([]byte("7"), 1<<16)}, "")
	require.ErrorContains(t, err, "larger than")
}

// endlessDigits is a reader that never ends, like a wrong path such as /dev/zero.
type endlessDigits struct{ block []byte }

func (e endlessDigits) Read(p []byte) (int, error) {
	return copy(p, e.block), nil
}

// FuzzReadSeries feeds the reader arbitrary files. Whatever the input, it
// must not panic, and a success must be a usable series.
func FuzzReadSeries(f *testing.F) {
	for _, name := range []string{"yahoo_quoted.csv", "semicolon_price.csv", "value_only.csv"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(raw, "")
		f.Add(raw, "close")
	}
	// Stooq's daily download (reference/data-sources.md), and its failure mode:
	// an HTML page where the CSV was expected.
	f.Add([]byte("Date,Open,High,Low,Close,Volume\n2025-11-19,265.53,272.21,264.1,268.56,40424500\n"), "")
	f.Add([]byte("<!DOCTYPE html><html><body>Get your apikey</body></html>\n"), "")
	f.Add([]byte("date,ticker,close\n1990-12-31,AA,5.92\n1991-01-02,AA,5.92\n"), "Close")
	f.Add([]byte("\"a\"\"b\",\"c\n1,2\n"), "c")

	f.Fuzz(func(t *testing.T, data []byte, column string) {
		s, err := readSeries(strings.NewReader(string(data)), column)
		if err != nil {
			return
		}
		require.NotEmpty(t, s.values)
		for _, v := range s.values {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "non-finite value %v", v)
		}
		if s.dates != nil {
			require.Len(t, s.dates, len(s.values))
		}
	})
}
