package market

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func date(s string) time.Time {
	d, ok := parseDay(s)
	if !ok {
		panic("bad test date " + s)
	}
	return d
}

// parserCase is shared by the table tests of every parser.
type parserCase struct {
	name    string
	body    []byte
	since   time.Time
	want    []Bar
	wantErr error // checked with errors.Is; nil = success
}

func runParserCases(t *testing.T, parse func([]byte, time.Time) ([]Bar, error), cases []parserCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bars, err := parse(tc.body, tc.since)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, bars)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, bars)
		})
	}
}

func TestParseYahoo(t *testing.T) {
	aapl := []Bar{
		{Date: date("2025-11-19"), Open: 265.53, High: 272.21, Low: 264.10, Close: 268.56, AdjClose: 268.56, Volume: 40424500},
		{Date: date("2025-11-20"), Open: 270.83, High: 275.43, Low: 265.42, Close: 266.25, AdjClose: 266.25, Volume: 45823600},
		{Date: date("2025-11-21"), Open: 265.95, High: 273.33, Low: 265.82, Close: 271.49, AdjClose: 271.49},
	}
	runParserCases(t, parseYahoo, []parserCase{
		{name: "documented example", body: testdata(t, "yahoo/aapl_5d.json"), want: aapl},
		{name: "since drops older bars", body: testdata(t, "yahoo/aapl_5d.json"), since: date("2025-11-20"), want: aapl[1:]},
		{
			name: "null close skips the bar, other nulls are filled",
			body: testdata(t, "yahoo/nulls.json"),
			want: []Bar{
				{Date: date("2025-11-19"), Open: 268.56, High: 272.21, Low: 264.10, Close: 268.56, AdjClose: 268.0},
				{Date: date("2025-11-21"), Open: 265.95, High: 271.49, Low: 265.82, Close: 271.49, AdjClose: 271.49, Volume: 59030800},
			},
		},
		{
			name: "dates follow the exchange's zone, not UTC",
			body: testdata(t, "yahoo/sydney.json"),
			want: []Bar{{Date: date("2025-11-21"), Open: 44.1, High: 44.9, Low: 43.8, Close: 44.5, AdjClose: 44.5, Volume: 8123456}},
		},
		{name: "empty arrays", body: testdata(t, "yahoo/empty.json"), want: []Bar{}},
		{name: "window without data is empty, not an error", body: testdata(t, "yahoo/bad_request.json"), want: []Bar{}},
		{name: "unknown symbol", body: testdata(t, "yahoo/not_found.json"), wantErr: ErrNoSuchTicker},
		{name: "rate-limit text instead of JSON", body: testdata(t, "yahoo/rate_limited.txt"), wantErr: ErrMalformed},
		{name: "truncated document", body: testdata(t, "yahoo/aapl_5d.json")[:200], wantErr: ErrMalformed},
		{name: "no result and no error", body: []byte(`{"chart":{"result":[],"error":null}}`), wantErr: ErrMalformed},
		{name: "consent page", body: []byte(`<html><body>Before you continue to Yahoo</body></html>`), wantErr: ErrMalformed},
		{name: "wrong types", body: []byte(`{"chart":{"result":[{"timestamp":["x"]}],"error":null}}`), wantErr: ErrMalformed},
	})

	t.Run("other chart errors carry Yahoo's description", func(t *testing.T) {
		_, err := parseYahoo(testdata(t, "yahoo/intraday_limit.json"), time.Time{})
		require.ErrorContains(t, err, "Only 8 days worth of 1m granularity")
		require.NotErrorIs(t, err, ErrNoSuchTicker)
	})
}

func TestParseStooq(t *testing.T) {
	aapl := []Bar{
		{Date: date("2025-11-19"), Open: 265.53, High: 272.21, Low: 264.1, Close: 268.56, AdjClose: 268.56, Volume: 40424500},
		{Date: date("2025-11-20"), Open: 270.83, High: 275.43, Low: 265.42, Close: 266.25, AdjClose: 266.25, Volume: 45823600},
		{Date: date("2025-11-21"), Open: 265.95, High: 273.33, Low: 265.82, Close: 271.49, AdjClose: 271.49, Volume: 59030800},
	}
	runParserCases(t, parseStooq, []parserCase{
		{name: "documented example", body: testdata(t, "stooq/aapl.csv"), want: aapl},
		{name: "since", body: testdata(t, "stooq/aapl.csv"), since: date("2025-11-21"), want: aapl[2:]},
		{name: "warnings above the header", body: testdata(t, "stooq/warnings.csv"), want: aapl[:1]},
		{
			name: "index without volume",
			body: testdata(t, "stooq/index_no_volume.csv"),
			want: []Bar{
				{Date: date("2025-11-20"), Open: 6642.16, High: 6655.9, Low: 6523.41, Close: 6538.76, AdjClose: 6538.76},
				{Date: date("2025-11-21"), Open: 6557.18, High: 6666.32, Low: 6553.01, Close: 6602.99, AdjClose: 6602.99},
			},
		},
		{name: "header only", body: []byte("Date,Open,High,Low,Close,Volume\n"), want: []Bar{}},
		{name: "No data", body: testdata(t, "stooq/no_data.txt"), wantErr: ErrNoSuchTicker},
		{name: "daily hits limit", body: testdata(t, "stooq/limit.txt"), wantErr: upstream.ErrRateLimited},
		{name: "API key page", body: testdata(t, "stooq/apikey.html"), wantErr: ErrKeyRejected},
		{name: "proof-of-work wall", body: testdata(t, "stooq/pow.html"), wantErr: ErrMalformed},
		{name: "Polish header", body: []byte("Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen\n2025-11-19,1,2,0.5,1.5,10\n"), wantErr: ErrMalformed},
		{name: "empty body", body: []byte(" \n"), wantErr: ErrMalformed},
		{name: "truncated mid-row keeps the complete rows", body: testdata(t, "stooq/aapl.csv")[:85], want: aapl[:1]},
	})
}

func TestParseAlphaVantage(t *testing.T) {
	ibm := []Bar{
		{Date: date("2025-11-20"), Open: 299, High: 302.4, Low: 294.12, Close: 295.11, AdjClose: 295.11, Volume: 5120304},
		{Date: date("2025-11-21"), Open: 297.1, High: 301.98, Low: 295.5, Close: 300.75, AdjClose: 300.75, Volume: 4412001},
	}
	runParserCases(t, parseAlphaVantage, []parserCase{
		{name: "documented example, newest first in the document", body: testdata(t, "alphavantage/ibm_daily.json"), want: ibm},
		{name: "since", body: testdata(t, "alphavantage/ibm_daily.json"), since: date("2025-11-21"), want: ibm[1:]},
		{
			name: "bad rows are skipped",
			body: []byte(`{"Time Series (Daily)":{"2025-11-21":{"4. close":"n/a"},"yesterday":{"4. close":"1"},"2025-11-20":{"4. close":"2.5","5. volume":"-3"}}}`),
			want: []Bar{{Date: date("2025-11-20"), Open: 2.5, High: 2.5, Low: 2.5, Close: 2.5, AdjClose: 2.5}},
		},
		{name: "rate limit (Information)", body: testdata(t, "alphavantage/rate_limit.json"), wantErr: upstream.ErrRateLimited},
		{name: "rate limit naming the key", body: testdata(t, "alphavantage/rate_limit_detected.json"), wantErr: upstream.ErrRateLimited},
		{name: "rate limit (legacy Note)", body: testdata(t, "alphavantage/note.json"), wantErr: upstream.ErrRateLimited},
		{name: "bad symbol", body: testdata(t, "alphavantage/error_message.json"), wantErr: ErrNoSuchTicker},
		{name: "demo key", body: testdata(t, "alphavantage/demo.json"), wantErr: ErrKeyRejected},
		{name: "premium parameter", body: testdata(t, "alphavantage/premium.json"), wantErr: errPremium},
		{name: "invalid inputs", body: []byte(`{"Information":"Invalid inputs. Please refer to the API documentation https://www.alphavantage.co/documentation#newsapi and try again."}`), wantErr: ErrNoSuchTicker},
		{name: "values of the wrong type", body: []byte(`{"Time Series (Daily)":{"2025-11-21":{"4. close":300.75}}}`), wantErr: ErrMalformed},
		{name: "truncated", body: testdata(t, "alphavantage/ibm_daily.json")[:150], wantErr: ErrMalformed},
		{name: "unexpected object", body: []byte(`{"hello":"world"}`), wantErr: ErrMalformed},
		{name: "HTML", body: []byte(`<html>502 Bad Gateway</html>`), wantErr: ErrMalformed},
	})

	t.Run("unknown Information is an error with its text", func(t *testing.T) {
		_, err := parseAlphaVantage([]byte(`{"Information":"Scheduled maintenance"}`), time.Time{})
		require.ErrorContains(t, err, "Scheduled maintenance")
	})
}

func TestParseCSV(t *testing.T) {
	msft := []Bar{
		{Date: date("2025-11-18"), Open: 495.2, High: 498, Low: 489.2, Close: 493.79, AdjClose: 493, Volume: 25112400},
		{Date: date("2025-11-19"), Open: 493, High: 496.5, Low: 490.1, Close: 487.12, AdjClose: 486.3, Volume: 23245300},
		{Date: date("2025-11-20"), Open: 490, High: 491, Low: 476.6, Close: 478.43, AdjClose: 477.6},
	}
	runParserCases(t, parseCSV, []parserCase{
		{name: "full columns, unsorted, bad rows ignored", body: testdata(t, "csv/MSFT.csv"), want: msft},
		{
			name: "quoted upper-case header, close only, extra column",
			body: testdata(t, "csv/closes_only.csv"),
			want: []Bar{
				{Date: date("2024-01-02"), Open: 187.15, High: 187.15, Low: 187.15, Close: 187.15, AdjClose: 187.15},
				{Date: date("2024-01-03"), Open: 184.25, High: 184.25, Low: 184.25, Close: 184.25, AdjClose: 184.25},
			},
		},
		{
			name: "BOM, adj_close spelling, duplicate date keeps the last",
			body: []byte("\xef\xbb\xbfDate,adj_close,Close\n2024-01-02,1,2\n2024-01-02,3,4\n"),
			want: []Bar{{Date: date("2024-01-02"), Open: 4, High: 4, Low: 4, Close: 4, AdjClose: 3}},
		},
		{name: "no close column", body: []byte("Date,Price\n2024-01-02,1\n"), wantErr: ErrMalformed},
		{name: "empty", body: nil, wantErr: ErrMalformed},
	})
}

func TestMerge(t *testing.T) {
	b := func(d string, c float64) Bar { return Bar{Date: date(d), Close: c} }
	tests := []struct {
		name         string
		older, newer []Bar
		want         []Bar
	}{
		{"newer extends", []Bar{b("2025-01-01", 1), b("2025-01-02", 2)}, []Bar{b("2025-01-03", 3)}, []Bar{b("2025-01-01", 1), b("2025-01-02", 2), b("2025-01-03", 3)}},
		{"newer wins on shared days", []Bar{b("2025-01-01", 1), b("2025-01-02", 2)}, []Bar{b("2025-01-02", 20), b("2025-01-03", 3)}, []Bar{b("2025-01-01", 1), b("2025-01-02", 20), b("2025-01-03", 3)}},
		{"interleaved", []Bar{b("2025-01-01", 1), b("2025-01-03", 3)}, []Bar{b("2025-01-02", 2)}, []Bar{b("2025-01-01", 1), b("2025-01-02", 2), b("2025-01-03", 3)}},
		{"nothing new", []Bar{b("2025-01-01", 1)}, nil, []Bar{b("2025-01-01", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, merge(tt.older, tt.newer))
		})
	}
}

func TestContinuous(t *testing.T) {
	b := func(d string, c float64) Bar { return Bar{Date: date(d), Close: c, AdjClose: c} }
	cachedBars := []Bar{b("2025-11-17", 10), b("2025-11-18", 11), b("2025-11-19", 12)}
	tests := []struct {
		name string
		tail []Bar
		want bool
	}{
		{"overlap agrees", []Bar{b("2025-11-18", 11), b("2025-11-19", 12), b("2025-11-20", 13)}, true},
		{"float noise is no revision", []Bar{b("2025-11-18", 11.000001), b("2025-11-20", 13)}, true},
		{"the last cached day may change (it was a live session)", []Bar{b("2025-11-18", 11), b("2025-11-19", 12.5)}, true},
		{"a split rescales history", []Bar{b("2025-11-18", 5.5), b("2025-11-19", 6), b("2025-11-20", 6.5)}, false},
		{"gap after the cache", []Bar{b("2025-11-21", 13)}, false},
		{"nothing returned", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, continuous(cachedBars, tt.tail))
		})
	}
}

// checkParsed is what every fuzz target asserts: no panic (implicit), and a
// success is always a clean series a model can use.
func checkParsed(t *testing.T, bars []Bar, err error) {
	if err != nil {
		if bars != nil {
			t.Fatalf("bars %v returned with error %v", bars, err)
		}
		return
	}
	for i, b := range bars {
		for _, p := range []float64{b.Open, b.High, b.Low, b.Close, b.AdjClose} {
			if !validPrice(p) {
				t.Fatalf("bar %d has invalid price %v: %+v", i, p, b)
			}
		}
		if b.Volume < 0 {
			t.Fatalf("bar %d has negative volume: %+v", i, b)
		}
		if b.Date.Location() != time.UTC || b.Date.Hour() != 0 {
			t.Fatalf("bar %d date is not a UTC day: %v", i, b.Date)
		}
		if i > 0 && !bars[i-1].Date.Before(b.Date) {
			t.Fatalf("bars %d and %d are not strictly ascending", i-1, i)
		}
	}
}

func fuzzParser(f *testing.F, parse func([]byte, time.Time) ([]Bar, error), seeds ...string) {
	for _, name := range seeds {
		f.Add(testdata(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := parse(body, time.Time{})
		checkParsed(t, bars, err)
	})
}

func FuzzParseYahoo(f *testing.F) {
	fuzzParser(f, parseYahoo, "yahoo/aapl_5d.json", "yahoo/nulls.json", "yahoo/empty.json",
		"yahoo/not_found.json", "yahoo/bad_request.json", "yahoo/sydney.json", "yahoo/rate_limited.txt")
}

func FuzzParseStooq(f *testing.F) {
	fuzzParser(f, parseStooq, "stooq/aapl.csv", "stooq/index_no_volume.csv", "stooq/warnings.csv",
		"stooq/no_data.txt", "stooq/limit.txt", "stooq/apikey.html", "stooq/pow.html")
}

func FuzzParseAlphaVantage(f *testing.F) {
	fuzzParser(f, parseAlphaVantage, "alphavantage/ibm_daily.json", "alphavantage/rate_limit.json",
		"alphavantage/note.json", "alphavantage/error_message.json", "alphavantage/demo.json", "alphavantage/premium.json")
}

func FuzzParseCSV(f *testing.F) {
	fuzzParser(f, parseCSV, "csv/MSFT.csv", "csv/closes_only.csv", "stooq/aapl.csv", "stooq/warnings.csv")
}

// twentyYears is a realistic full-history answer: ~5,000 daily bars.
func twentyYears() []Bar { return TradingDays(date("2025-11-21"), 5000, 20) }

func BenchmarkParseYahoo(b *testing.B) {
	body := YahooChart("MSFT", twentyYears())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseYahoo(body, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseStooq(b *testing.B) {
	body := []byte(StooqCSV(twentyYears()))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseStooq(body, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
