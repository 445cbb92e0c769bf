package backtest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ErrColumnNotFound means the requested price column is not in the header.
var ErrColumnNotFound = errors.New("column not found")

// ErrNoPrices means the chosen column holds no numeric value at all.
var ErrNoPrices = errors.New("no numeric prices")

// ErrTooManyDropped means more than half the rows of the chosen column hold
// no usable number. A series with holes that large is the wrong column or a
// number format the reader does not know, and a backtest on the remnant
// would look valid while measuring something else.
var ErrTooManyDropped = errors.New("too many rows without a usable number")

// maxDroppedLines is how many line numbers of dropped rows are kept: enough
// to find the pattern in an editor, short enough for an error message.
const maxDroppedLines = 5

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
	// dropped counts the data rows skipped for want of a usable number, and
	// droppedLines holds the line numbers of the first few of them.
	dropped      int
	droppedLines []int
	// firstDropped is the value cell of the first dropped row, for messages.
	firstDropped string
}

// readSeries reads a CSV with a header row and returns one numeric column.
// column is matched case-insensitively, ignoring surrounding spaces; when it
// is empty the first of close, adj close, adjclose, price and value present
// is used, or else the second column (the first is usually a date). A date,
// datetime, timestamp or time column, if any, supplies the dates. The
// delimiter is sniffed from the header so semicolon- and tab-separated
// exports work too, and numbers may carry thousands separators or, in
// semicolon-separated files, a decimal comma (see parseNumber).
//
// Rows whose value is missing, not a number or not finite are skipped, as
// pandas' to_numeric(errors="coerce") followed by dropna does, but counted:
// the series records how many and where the first few were, and a file that
// loses more than half its rows is refused with ErrTooManyDropped.
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
	decimalComma := cr.Comma == ';'
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return series{}, fmt.Errorf("read csv: %w", err)
		}
		cell := ""
		if valueCol < len(rec) {
			cell = rec[valueCol]
		}
		v, ok := parseNumber(cell, decimalComma)
		if !ok {
			line, _ := cr.FieldPos(0)
			s.drop(line, cell)
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
		return series{}, fmt.Errorf("read csv column %q: %w%s", s.column, ErrNoPrices, s.droppedSummary())
	}
	if rows := len(s.values) + s.dropped; 2*s.dropped > rows {
		return series{}, fmt.Errorf("read csv column %q: %w: %d of %d rows%s; a file that loses more than half its rows is refused, "+
			"check the column and the number format (a decimal comma is read only in ;-separated files)",
			s.column, ErrTooManyDropped, s.dropped, rows, s.droppedSummary())
	}
	return s, nil
}

// drop records a skipped row at line whose value cell was cell.
func (s *series) drop(line int, cell string) {
	if s.dropped == 0 {
		s.firstDropped = cell
	}
	s.dropped++
	if len(s.droppedLines) < maxDroppedLines {
		s.droppedLines = append(s.droppedLines, line)
	}
}

// droppedSummary describes the dropped rows for an error message, or is
// empty when none were dropped.
func (s *series) droppedSummary() string {
	if s.dropped == 0 {
		return ""
	}
	lines := make([]string, len(s.droppedLines))
	for i, l := range s.droppedLines {
		lines[i] = strconv.Itoa(l)
	}
	more := ""
	if s.dropped > len(s.droppedLines) {
		more = ", …"
	}
	return fmt.Sprintf(" (no usable number at lines %s%s; the first holds %q)", strings.Join(lines, ", "), more, s.firstDropped)
}

// Number formats parseNumber accepts beyond strconv's: grouped thousands
// with a decimal point (3,788.54), and with a decimal comma either grouped
// with points (3.788,54) or not (3788,54).
var (
	thousandsCommas = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$`)
	decimalCommaNum = regexp.MustCompile(`^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d*$`)
)

// parseNumber reads a price cell. A comma in a number is a thousands
// separator when it groups digits in threes before an optional decimal
// point; in a semicolon-separated file, where spreadsheets set to a
// decimal comma write their CSV, a comma followed by digits is the decimal
// comma, and points before it group thousands. A cell such as "3,788" in a
// semicolon-separated file is therefore 3.788, as the spreadsheet meant.
// Only finite numbers count.
func parseNumber(cell string, decimalComma bool) (float64, bool) {
	cell = strings.TrimSpace(cell)
	switch {
	case decimalComma && decimalCommaNum.MatchString(cell):
		cell = strings.ReplaceAll(cell, ".", "")
		cell = strings.Replace(cell, ",", ".", 1)
	case thousandsCommas.MatchString(cell):
		cell = strings.ReplaceAll(cell, ",", "")
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
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
