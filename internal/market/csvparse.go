package market

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// headerCleaner drops what varies between spellings of one column, so that
// "Adj Close", "adj_close" and "AdjClose" all read as "adjclose".
var headerCleaner = strings.NewReplacer(" ", "", "_", "", ".", "")

// parseCSV reads daily bars from a CSV document with a header row naming at
// least Date and Close (any case; Open, High, Low, Adj Close and Volume are
// optional, other columns ignored). Lines before the header, such as the
// warnings some servers print, are skipped, and so are rows with a bad date
// or close. The result is oldest first and starts at since.
func parseCSV(data []byte, since time.Time) ([]Bar, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	r.ReuseRecord = true

	var index map[string]int
	var bars []Bar
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var parseErr *csv.ParseError
			if errors.As(err, &parseErr) {
				continue
			}
			return nil, fmt.Errorf("read csv: %w", err)
		}
		if index == nil {
			index = headerIndex(record)
			continue
		}
		if b, ok := csvBar(record, index); ok {
			bars = append(bars, b)
		}
	}
	if index == nil {
		return nil, fmt.Errorf("%w: no header row with Date and Close columns", ErrMalformed)
	}
	return tidy(bars, since), nil
}

// headerIndex returns the column positions if record is a header, else nil.
func headerIndex(record []string) map[string]int {
	index := map[string]int{}
	for i, cell := range record {
		name := headerCleaner.Replace(strings.ToLower(strings.TrimSpace(cell)))
		switch name {
		case "date", "open", "high", "low", "close", "adjclose", "volume":
			if _, seen := index[name]; !seen {
				index[name] = i
			}
		}
	}
	_, hasDate := index["date"]
	_, hasClose := index["close"]
	if !hasDate || !hasClose {
		return nil
	}
	return index
}

func csvBar(record []string, index map[string]int) (Bar, bool) {
	cell := func(field string) (string, bool) {
		i, ok := index[field]
		if !ok || i >= len(record) {
			return "", false
		}
		return strings.TrimSpace(record[i]), true
	}
	number := func(field string) float64 {
		s, ok := cell(field)
		if !ok {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0
		}
		return f
	}

	dateCell, _ := cell("date")
	date, ok := parseDay(dateCell)
	if !ok {
		return Bar{}, false
	}
	b := Bar{
		Date:     date,
		Open:     number("open"),
		High:     number("high"),
		Low:      number("low"),
		Close:    number("close"),
		AdjClose: number("adjclose"),
	}
	if !validPrice(b.Close) {
		return Bar{}, false
	}
	if v := number("volume"); v > 0 && v < 1e18 {
		b.Volume = int64(v)
	}
	return complete(b), true
}
