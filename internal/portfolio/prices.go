package portfolio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/market"
)

// ErrNoPrice means the price chain answered and has no price for the
// symbol. Any other error from Prices means it could not answer now.
var ErrNoPrice = errors.New("no price for this symbol")

// Quote is the price trades and valuations use: a symbol's latest close.
type Quote struct {
	Symbol string
	// Price is the close in cents.
	Price decimal.Decimal
	Date  time.Time
	// Source is the provider that served it; Live is false for local data
	// (the bundled sample, DATA_DIR's CSV files), which pages must say.
	Source string
	Live   bool
}

// Prices gives the latest close of a symbol.
type Prices interface {
	LatestClose(ctx context.Context, symbol string) (Quote, error)
}

// SeriesLoader loads a symbol's daily history; *market.Loader is one.
type SeriesLoader interface {
	Load(ctx context.Context, symbol string) (*market.Series, error)
}

// MarketPrices is Prices over the price chain.
type MarketPrices struct {
	loader SeriesLoader
}

// NewMarketPrices returns Prices reading the last bar of loader's series.
func NewMarketPrices(loader SeriesLoader) *MarketPrices {
	return &MarketPrices{loader: loader}
}

// LatestClose returns the last close of the symbol's history. The close
// arrives as a float64 from the providers; it becomes a decimal here, once,
// rounded half-up to cents, so nothing past this point does float
// arithmetic on it. A symbol no provider knows gives ErrNoPrice.
func (m *MarketPrices) LatestClose(ctx context.Context, symbol string) (Quote, error) {
	series, err := m.loader.Load(ctx, symbol)
	if errors.Is(err, market.ErrNoSuchTicker) {
		return Quote{}, fmt.Errorf("latest close of %s: %w: %w", symbol, ErrNoPrice, err)
	}
	if err != nil {
		return Quote{}, fmt.Errorf("latest close of %s: %w", symbol, err)
	}
	if len(series.Bars) == 0 {
		return Quote{}, fmt.Errorf("latest close of %s: empty history: %w", symbol, ErrNoPrice)
	}
	last := series.Bars[len(series.Bars)-1]
	// NewFromFloat takes the shortest decimal that reads back as the same
	// float, so 27.3125 stays 27.3125 and 0.1 is 0.1, not 0.1000000000000000055.
	price := Cents(decimal.NewFromFloat(last.Close))
	if !price.IsPositive() {
		return Quote{}, fmt.Errorf("latest close of %s is %v, under half a cent: %w", symbol, last.Close, ErrNoPrice)
	}
	return Quote{Symbol: series.Ticker, Price: price, Date: last.Date, Source: series.Source, Live: series.Live}, nil
}

// DailyClose is one day's close in cents.
type DailyClose struct {
	Date  time.Time
	Price decimal.Decimal
}

// Closes returns the symbol's last n closes, oldest first, each rounded
// half-up to cents as LatestClose rounds it; closes under half a cent are
// left out. It is what a chart of value over time reads.
func (m *MarketPrices) Closes(ctx context.Context, symbol string, n int) ([]DailyClose, error) {
	series, err := m.loader.Load(ctx, symbol)
	if errors.Is(err, market.ErrNoSuchTicker) {
		return nil, fmt.Errorf("closes of %s: %w: %w", symbol, ErrNoPrice, err)
	}
	if err != nil {
		return nil, fmt.Errorf("closes of %s: %w", symbol, err)
	}
	bars := series.Bars[max(0, len(series.Bars)-n):]
	out := make([]DailyClose, 0, len(bars))
	for _, b := range bars {
		if p := Cents(decimal.NewFromFloat(b.Close)); p.IsPositive() {
			out = append(out, DailyClose{Date: b.Date, Price: p})
		}
	}
	return out, nil
}
