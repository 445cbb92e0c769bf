package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
)

var _ market.Cache = (*store.DB)(nil)

func bar(date string, price float64, volume int64) market.Bar {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return market.Bar{Date: d, Open: price - 1, High: price + 1, Low: price - 2, Close: price, AdjClose: price * 0.99, Volume: volume}
}

func TestPriceBars(t *testing.T) {
	t.Parallel()
	db := dbtest.Postgres(t, "store")
	ctx := context.Background()

	tests := []struct {
		name string
		run  func(t *testing.T, ticker string)
	}{
		{"nothing cached", func(t *testing.T, ticker string) {
			bars, source, fetchedAt, err := db.PriceBars(ctx, ticker)
			require.NoError(t, err)
			require.Empty(t, bars)
			require.Empty(t, source)
			require.True(t, fetchedAt.IsZero())
		}},
		{"saved bars come back oldest first and intact", func(t *testing.T, ticker string) {
			in := []market.Bar{bar("2025-11-21", 271.49, 59030800), bar("2025-11-19", 268.56, 40424500), bar("2025-11-20", 266.25, 45823600)}
			before := time.Now().Add(-time.Second)
			require.NoError(t, db.SavePriceBars(ctx, ticker, "yahoo", in))
			bars, source, fetchedAt, err := db.PriceBars(ctx, ticker)
			require.NoError(t, err)
			require.Equal(t, []market.Bar{in[1], in[2], in[0]}, bars)
			require.Equal(t, "yahoo", source)
			require.True(t, fetchedAt.After(before), "fetched_at %v is the save time", fetchedAt)
		}},
		{"saving again overwrites by date and keeps the rest", func(t *testing.T, ticker string) {
			require.NoError(t, db.SavePriceBars(ctx, ticker, "yahoo", []market.Bar{bar("2025-11-19", 268.56, 1), bar("2025-11-20", 266.25, 2)}))
			require.NoError(t, db.SavePriceBars(ctx, ticker, "stooq", []market.Bar{bar("2025-11-20", 267, 3), bar("2025-11-21", 271.49, 4)}))
			bars, source, _, err := db.PriceBars(ctx, ticker)
			require.NoError(t, err)
			require.Equal(t, []market.Bar{bar("2025-11-19", 268.56, 1), bar("2025-11-20", 267, 3), bar("2025-11-21", 271.49, 4)}, bars)
			require.Equal(t, "stooq", source, "the latest save names the source")
		}},
		{"replace drops what the new history lacks", func(t *testing.T, ticker string) {
			require.NoError(t, db.SavePriceBars(ctx, ticker, "yahoo", []market.Bar{bar("2025-11-19", 100, 1), bar("2025-11-20", 101, 2)}))
			require.NoError(t, db.ReplacePriceBars(ctx, ticker, "alphavantage", []market.Bar{bar("2025-11-20", 50.5, 2), bar("2025-11-21", 51, 3)}))
			bars, source, _, err := db.PriceBars(ctx, ticker)
			require.NoError(t, err)
			require.Equal(t, []market.Bar{bar("2025-11-20", 50.5, 2), bar("2025-11-21", 51, 3)}, bars)
			require.Equal(t, "alphavantage", source)
		}},
		{"saving nothing is a no-op", func(t *testing.T, ticker string) {
			require.NoError(t, db.SavePriceBars(ctx, ticker, "yahoo", nil))
			bars, _, _, err := db.PriceBars(ctx, ticker)
			require.NoError(t, err)
			require.Empty(t, bars)
		}},
		{"tickers do not see each other's bars", func(t *testing.T, ticker string) {
			require.NoError(t, db.SavePriceBars(ctx, ticker+"A", "yahoo", []market.Bar{bar("2025-11-19", 1, 1)}))
			require.NoError(t, db.ReplacePriceBars(ctx, ticker+"B", "yahoo", []market.Bar{bar("2025-11-19", 2, 1)}))
			bars, _, _, err := db.PriceBars(ctx, ticker+"A")
			require.NoError(t, err)
			require.Equal(t, []market.Bar{bar("2025-11-19", 1, 1)}, bars)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, fmt.Sprintf("PB%d", i))
		})
	}
}

func TestPriceBarsLargeHistoryRoundTrip(t *testing.T) {
	t.Parallel()
	db := dbtest.Postgres(t, "store")
	ctx := context.Background()
	series, err := market.NewSample().History(ctx, market.SampleIndex, time.Time{})
	require.NoError(t, err)
	require.NoError(t, db.ReplacePriceBars(ctx, "PBGSPC", "yahoo", series))
	bars, _, _, err := db.PriceBars(ctx, "PBGSPC")
	require.NoError(t, err)
	require.Equal(t, series, bars)
}
