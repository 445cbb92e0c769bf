package backtest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrColumnNotFound means the requested price column is not in the header.
var ErrColumnNotFound = errors.New("column not found")

// ErrNoPrices means the chosen column holds no numeric value at all.
var ErrNoPrices = errors.New("no numeric prices")

// maxCSVBytes bounds what readSeries loads: forty years of daily bars are a
// few megabytes, so anything far larger is the wrong file, not a bigger one.
const maxCSVBytes = 64 << 20

// series is one price column of a CSV file.
type series struct {
	// column is the header of the chosen column as written in the file.
	column string
	values []float64
	// dates holds the date cell of each value, or nil without a date column.
	dates []string
}

// readSeries reads a CSV with a header row and returns one numeric column.
// column is matched case-insensitively, ignoring surrounding spaces; when it
// is empty the first of close, adj close, adjclose, price and value present
// is used, or else the second column (the first is usually a date). A date,
// datetime, timestamp or time column, if any, supplies the dates. Rows whose value is missing, not a
// number or not finite are skipped, as pandas' to_numeric(errors="coerce")
// followed by dropna does. The delimiter is sniffed from the header so
// semicolon- and tab-separated exports work too.
func readSeries(r io.Reader, column string) (series, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCSVBytes+1))
	if err != nil {
		return series{}, fmt.Errorf("read csv: %w", err)
	}
	if len(data) > maxCSVBytes {
		return series{}, fmt.Errorf("read csv: larger than %d MiB", maxCSVBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return series{}, errors.New("read csv: empty file, expected a header row")
	}
	if err != nil {
		return series{}, fmt.Errorf("read csv header: %w", err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	valueCol, err := pickColumn(names, column)
	if err != nil {
		return series{}, err
	}
	dateCol := findColumn(names, "date", "datetime", "timestamp", "time")

	s := series{column: names[valueCol]}
	if dateCol >= 0 {
		s.dates = []string{}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return series{}, fmt.Errorf("read csv: %w", err)
		}
		if valueCol >= len(rec) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[valueCol]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s.values = append(s.values, v)
		if dateCol >= 0 {
			date := ""
			if dateCol < len(rec) {
				date = strings.TrimSpace(rec[dateCol])
			}
			s.dates = append(s.dates, date)
		}
	}
	if len(s.values) == 0 {
		return series{}, fmt.Errorf("read csv column %q: %w", s.column, ErrNoPrices)
	}
	return s, nil
}

// pickColumn returns the index of the value column.
func pickColumn(names []string, column string) (int, error) {
	if column != "" {
		if i := findColumn(names, column); i >= 0 {
			return i, nil
		}
		return 0, fmt.Errorf("%w: %q is not one of %q", ErrColumnNotFound, column, names)
	}
	// The same preference as models_ref.py's load_series, so both read the
	// same series from the same file.
	if i := findColumn(names, "close", "adj close", "adjclose", "price", "value"); i >= 0 {
		return i, nil
	}
	if len(names) > 1 {
		return 1, nil
	}
	return 0, nil
}

// findColumn returns the index of the first of wanted present in names,
// compared case-insensitively, or -1.
func findColumn(names []string, wanted ...string) int {
	for _, w := range wanted {
		w = strings.TrimSpace(w)
		for i, n := range names {
			if strings.EqualFold(n, w) {
				return i
			}
		}
	}
	return -1
}

// sniffDelimiter picks the separator that occurs most in the header (the
// first non-blank line), preferring the comma on a tie.
func sniffDelimiter(data []byte) rune {
	var line []byte
	for len(data) > 0 && len(bytes.TrimSpace(line)) == 0 {
		line, data, _ = bytes.Cut(data, []byte{'\n'})
	}
	best, bestCount := ',', bytes.Count(line, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte{byte(d)}); c > bestCount {
			best, bestCount = d, c
		}
	}
	return best
}
