package market

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/ticker"
)

func TestSample(t *testing.T) {
	s := NewSample()
	ctx := context.Background()
	tests := []struct {
		ticker      string
		since       time.Time
		wantBars    int
		wantFirst   Bar
		wantLastDay string
	}{
		{
			ticker: "MSFT", wantBars: 2529, wantLastDay: "2001-01-02",
			wantFirst: Bar{Date: date("1990-12-31"), Open: 2.08, High: 2.08, Low: 2.08, Close: 2.08, AdjClose: 2.08},
		},
		{
			ticker: "AA", wantBars: 2529, wantLastDay: "2001-01-02",
			wantFirst: Bar{Date: date("1990-12-31"), Open: 5.92, High: 5.92, Low: 5.92, Close: 5.92, AdjClose: 5.92},
		},
		{
			// 5,104 in the shared data README: `wc -l` minus the header,
			// but the file has no final newline.
			ticker: SampleIndex, wantBars: 5105, wantLastDay: "2020-04-17",
			wantFirst: Bar{Date: date("2000-01-03"), Open: 1469.25, High: 1478, Low: 1438.359985, Close: 1455.219971, AdjClose: 1455.219971, Volume: 931800000},
		},
		{
			ticker: SampleIndex, since: date("2020-04-16"), wantBars: 2, wantLastDay: "2020-04-17",
			wantFirst: Bar{Date: date("2020-04-16"), Open: 2799.340088, High: 2806.51001, Low: 2764.320068, Close: 2799.550049, AdjClose: 2799.550049, Volume: 5179990000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.ticker+" since "+tt.since.Format(time.DateOnly), func(t *testing.T) {
			bars, err := s.History(ctx, tt.ticker, tt.since)
			require.NoError(t, err)
			require.Equal(t, tt.wantBars, len(bars))
			require.Equal(t, tt.wantFirst, bars[0])
			require.Equal(t, tt.wantLastDay, bars[len(bars)-1].Date.Format(time.DateOnly))
			checkParsed(t, bars, nil)
		})
	}

	t.Run("unknown ticker", func(t *testing.T) {
		_, err := s.History(ctx, "AAPL", time.Time{})
		require.ErrorIs(t, err, ErrNoSuchTicker)
	})

	t.Run("callers share the bars, and an append does not reach them", func(t *testing.T) {
		bars, err := s.History(ctx, "IBM", time.Time{})
		require.NoError(t, err)
		again, err := s.History(ctx, "IBM", time.Time{})
		require.NoError(t, err)
		require.Same(t, &bars[0], &again[0], "one parsed copy, not one per call")
		tail, err := s.History(ctx, "IBM", time.Date(2000, 6, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		grown := append(tail, Bar{Close: -1})
		require.NotSame(t, &tail[0], &grown[0], "an append copies")
		require.Len(t, again, len(bars))
	})

	t.Run("tickers", func(t *testing.T) {
		tickers, err := s.Tickers()
		require.NoError(t, err)
		require.Len(t, tickers, 31)
		require.Contains(t, tickers, "MSFT")
		require.Contains(t, tickers, SampleIndex)
	})
}

func TestCSVDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.Mkdir(data, 0o755))
	msft := testdata(t, "csv/MSFT.csv")
	require.NoError(t, os.WriteFile(filepath.Join(data, "MSFT.csv"), msft, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "ibm.csv"), testdata(t, "csv/closes_only.csv"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "BAD.csv"), []byte("<html>oops</html>"), 0o644))
	// Files outside DATA_DIR that a crafted ticker might try to reach.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SECRET.csv"), msft, 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "SECRET.csv"), filepath.Join(data, "LINK.csv")))

	p := &csvDir{dir: data}
	tests := []struct {
		ticker   string
		since    time.Time
		wantBars int
		wantErr  error
	}{
		{ticker: "MSFT", wantBars: 3},
		{ticker: "MSFT", since: date("2025-11-20"), wantBars: 1},
		{ticker: "IBM", wantBars: 2}, // lower-case file name
		{ticker: "AAPL", wantErr: ErrNoSuchTicker},
		{ticker: "BAD", wantErr: ErrMalformed},
		{ticker: "../SECRET", wantErr: ticker.ErrInvalid},
		{ticker: "/etc/passwd", wantErr: ticker.ErrInvalid},
		{ticker: `..\SECRET`, wantErr: ticker.ErrInvalid},
		{ticker: "LINK"}, // a symlink out of the folder: refused by os.Root
	}
	for _, tt := range tests {
		t.Run(tt.ticker, func(t *testing.T) {
			bars, err := p.History(ctx, tt.ticker, tt.since)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			case tt.wantBars == 0:
				require.Error(t, err)
				require.Nil(t, bars)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.wantBars, len(bars))
			}
		})
	}

	t.Run("missing folder", func(t *testing.T) {
		_, err := (&csvDir{dir: filepath.Join(dir, "nope")}).History(ctx, "MSFT", time.Time{})
		require.Error(t, err)
		require.NotErrorIs(t, err, ErrNoSuchTicker)
	})
}

func BenchmarkParseSampleFiles(b *testing.B) {
	for b.Loop() {
		if _, err := parseSampleFiles(); err != nil {
			b.Fatal(err)
		}
	}
}
