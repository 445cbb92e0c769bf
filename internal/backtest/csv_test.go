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
			input:      "date,close\nd1,NaN\nd2,inf\nd3,n/a\nd4,\nd5,7\nd6,8\nd7,9\nd8,10\n",
			wantColumn: "close", wantN: 4, wantFirst: 7, wantLast: 10,
			wantDates: []string{"d5", "d8"},
		},
		{
			name: "decimal comma in a semicolon-separated file", file: "decimal_comma.csv",
			wantColumn: "price", wantN: 60, wantFirst: 3325.540039, wantLast: 2874.560059,
		},
		{
			name: "quoted numbers with thousands separators", file: "thousands_quoted.csv",
			wantColumn: "Close", wantN: 60, wantFirst: 3325.54, wantLast: 2874.56,
			wantDates: []string{"2020-01-23", "2020-04-17"},
		},
		{
			name:       "decimal comma with grouped thousands",
			input:      "Datum;Schluss\n2024-01-02;3.788,54\n2024-01-03;-1.234.567,5\n2024-01-04;12,\n",
			wantColumn: "Schluss", wantN: 3, wantFirst: 3788.54, wantLast: 12,
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

// TestReadSeriesCountsDroppedRows is defect 3 of issue 12: rows without a
// usable number used to vanish without a trace.
func TestReadSeriesCountsDroppedRows(t *testing.T) {
	input := "Date,Close\n2024-01-02,1\n2024-01-03,n/a\n2024-01-04,3\n\n2024-01-05,\n2024-01-08,5\n" +
		"2024-01-09,6\n2024-01-10,null\n2024-01-11,8\n2024-01-12,9\n2024-01-15,1e999\n2024-01-16,11\n2024-01-17\n2024-01-18,13\n"
	s, err := readSeries(strings.NewReader(input), "")
	require.NoError(t, err)
	require.Equal(t, []float64{1, 3, 5, 6, 8, 9, 11, 13}, s.values)
	require.Equal(t, 5, s.dropped)
	// Line 5 is blank; the dropped rows are on lines 3, 6, 9, 12 and 14,
	// and only the first few are kept.
	require.Equal(t, []int{3, 6, 9, 12, 14}[:maxDroppedLines], s.droppedLines)
}

// TestReadSeriesRefusesALossyFile: the decimal-comma file of defect 3, but
// comma-separated, so its commas cannot be decimal commas and most rows
// are lost.
func TestReadSeriesRefusesALossyFile(t *testing.T) {
	input := "Date,Close\n2024-01-02,\"3788,54\"\n2024-01-03,\"3790,1\"\n2024-01-04,3800\n2024-01-05,\"3801,5\"\n"
	_, err := readSeries(strings.NewReader(input), "")
	require.ErrorIs(t, err, ErrTooManyDropped)
	require.ErrorContains(t, err, `3 of 4 rows (no usable number at lines 2, 3, 5; the first holds "3788,54")`)
	require.ErrorContains(t, err, "more than half")

	// Exactly half is still accepted.
	input = "Date,Close\n2024-01-02,x\n2024-01-03,2\n"
	s, err := readSeries(strings.NewReader(input), "")
	require.NoError(t, err)
	require.Equal(t, 1, s.dropped)
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		cell         string
		decimalComma bool
		want         float64
		ok           bool
	}{
		{"3788.54", false, 3788.54, true},
		{" 3,788.54 ", false, 3788.54, true},
		{"1,234,567", false, 1234567, true},
		{"3788,54", false, 0, false},
		{"37,88.5", false, 0, false},
		{"3788,54", true, 3788.54, true},
		{"3.788,54", true, 3788.54, true},
		{"3,788", true, 3.788, true},
		{"3.788", true, 3.788, true},
		{"3,788.54", true, 3788.54, true},
		{"1,2,3", true, 0, false},
		{"NaN", false, 0, false},
		{"-Inf", true, 0, false},
		{"", true, 0, false},
	} {
		got, ok := parseNumber(tc.cell, tc.decimalComma)
		require.Equal(t, tc.ok, ok, "%q decimal comma %v", tc.cell, tc.decimalComma)
		require.Equal(t, tc.want, got, "%q decimal comma %v", tc.cell, tc.decimalComma)
	}
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
		{name: "no numbers in the column", input: "Date,Close\n2024-01-02,n/a\n2024-01-03,\n", want: ErrNoPrices, text: "lines 2, 3"},
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
	for _, name := range []string{"yahoo_quoted.csv", "semicolon_price.csv", "value_only.csv", "decimal_comma.csv", "thousands_quoted.csv"} {
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
		require.LessOrEqual(t, 2*s.dropped, len(s.values)+s.dropped, "more than half the rows dropped")
		require.LessOrEqual(t, len(s.droppedLines), maxDroppedLines)
		for _, v := range s.values {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "non-finite value %v", v)
		}
		if s.dates != nil {
			require.Len(t, s.dates, len(s.values))
		}
	})
}
