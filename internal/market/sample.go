package market

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// sampleFiles is real market history shipped in the binary; provenance and
// licences are in sampledata/README.md.
//
//go:embed sampledata/dj30_1991_2000_daily_close.csv sampledata/gspc_2000_2020_daily_ohlcv.csv
var sampleFiles embed.FS

const (
	dj30File = "sampledata/dj30_1991_2000_daily_close.csv"
	gspcFile = "sampledata/gspc_2000_2020_daily_ohlcv.csv"
	// SampleIndex is the ticker under which the sample provider serves the
	// S&P 500 index.
	SampleIndex = "^GSPC"
)

// sampleSeries parses the embedded files on first use, not at start-up, so
// processes that never need them pay nothing. The files are constants, so
// one parse serves every Sample in the process.
var sampleSeries = sync.OnceValues(parseSampleFiles)

// Sample serves the bundled real data: the 30 Dow Jones stocks of 2000
// (daily closes 1990-12-31 … 2001-01-02) and the S&P 500 as ^GSPC (daily
// OHLCV 2000-01-03 … 2020-04-17). It needs no network and no key, so the
// platform works offline; its series are not live.
type Sample struct{}

// NewSample returns the sample provider.
func NewSample() *Sample { return &Sample{} }

// Name returns "sample".
func (s *Sample) Name() string { return "sample" }

// Tickers lists the tickers the sample provider serves, sorted.
func (s *Sample) Tickers() ([]string, error) {
	series, err := sampleSeries()
	if err != nil {
		return nil, err
	}
	tickers := make([]string, 0, len(series))
	for t := range series {
		tickers = append(tickers, t)
	}
	slices.Sort(tickers)
	return tickers, nil
}

// History returns the ticker's bars on or after since. They are the
// process's one parsed copy, shared by every caller, which must not modify
// them: copying 2,500 bars for every job cost more than the job's model.
// The slice's capacity ends with it, so an append copies rather than
// writes into the shared array.
func (s *Sample) History(_ context.Context, ticker string, since time.Time) ([]Bar, error) {
	series, err := sampleSeries()
	if err != nil {
		return nil, err
	}
	bars, ok := series[ticker]
	if !ok {
		return nil, fmt.Errorf("sample data has no %s: %w", ticker, ErrNoSuchTicker)
	}
	start, _ := slices.BinarySearchFunc(bars, since, func(b Bar, t time.Time) int { return b.Date.Compare(t) })
	return bars[start:len(bars):len(bars)], nil
}

func parseSampleFiles() (map[string][]Bar, error) {
	dj30, err := sampleFiles.ReadFile(dj30File)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dj30File, err)
	}
	series, err := parseLongCloses(dj30)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", dj30File, err)
	}
	gspc, err := sampleFiles.ReadFile(gspcFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", gspcFile, err)
	}
	if series[SampleIndex], err = parseCSV(gspc, time.Time{}); err != nil {
		return nil, fmt.Errorf("parse %s: %w", gspcFile, err)
	}
	return series, nil
}

// parseLongCloses reads the long format date,ticker,close into one series
// per ticker. The file is ours, so any bad row is an error, not skipped.
func parseLongCloses(data []byte) (map[string][]Bar, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 3
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	series := map[string][]Bar{}
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		date, ok := parseDay(record[0])
		if !ok {
			return nil, fmt.Errorf("bad date %q", record[0])
		}
		price, err := strconv.ParseFloat(record[2], 64)
		if err != nil || !validPrice(price) {
			return nil, fmt.Errorf("bad close %q on %s", record[2], record[0])
		}
		ticker := record[1]
		series[ticker] = append(series[ticker], complete(Bar{Date: date, Close: price}))
	}
	for t, bars := range series {
		series[t] = tidy(bars, time.Time{})
	}
	return series, nil
}
