package app

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
)

// demoCompanies describes the 30 Dow Jones stocks the bundled sample data
// holds, under the names they had in 2000, where the data ends (MO was
// Philip Morris, HWP Hewlett-Packard, T AT&T Corp.). The symbols come from
// the sample provider; this table only names them, and a test checks that
// it names every one.
var demoCompanies = map[string]store.Company{
	"AA":   {Name: "Alcoa Inc.", Exchange: "NYSE", Sector: "Materials"},
	"AXP":  {Name: "American Express Company", Exchange: "NYSE", Sector: "Financials"},
	"BA":   {Name: "The Boeing Company", Exchange: "NYSE", Sector: "Industrials"},
	"C":    {Name: "Citigroup Inc.", Exchange: "NYSE", Sector: "Financials"},
	"CAT":  {Name: "Caterpillar Inc.", Exchange: "NYSE", Sector: "Industrials"},
	"DD":   {Name: "E. I. du Pont de Nemours and Company", Exchange: "NYSE", Sector: "Materials"},
	"DIS":  {Name: "The Walt Disney Company", Exchange: "NYSE", Sector: "Consumer Discretionary"},
	"EK":   {Name: "Eastman Kodak Company", Exchange: "NYSE", Sector: "Consumer Discretionary"},
	"GE":   {Name: "General Electric Company", Exchange: "NYSE", Sector: "Industrials"},
	"GM":   {Name: "General Motors Corporation", Exchange: "NYSE", Sector: "Consumer Discretionary"},
	"HD":   {Name: "The Home Depot, Inc.", Exchange: "NYSE", Sector: "Consumer Discretionary"},
	"HON":  {Name: "Honeywell International Inc.", Exchange: "NYSE", Sector: "Industrials"},
	"HWP":  {Name: "Hewlett-Packard Company", Exchange: "NYSE", Sector: "Information Technology"},
	"IBM":  {Name: "International Business Machines Corporation", Exchange: "NYSE", Sector: "Information Technology"},
	"INTC": {Name: "Intel Corporation", Exchange: "NASDAQ", Sector: "Information Technology"},
	"IP":   {Name: "International Paper Company", Exchange: "NYSE", Sector: "Materials"},
	"JNJ":  {Name: "Johnson & Johnson", Exchange: "NYSE", Sector: "Health Care"},
	"JPM":  {Name: "J.P. Morgan Chase & Co.", Exchange: "NYSE", Sector: "Financials"},
	"KO":   {Name: "The Coca-Cola Company", Exchange: "NYSE", Sector: "Consumer Staples"},
	"MCD":  {Name: "McDonald's Corporation", Exchange: "NYSE", Sector: "Consumer Discretionary"},
	"MMM":  {Name: "Minnesota Mining and Manufacturing Company (3M)", Exchange: "NYSE", Sector: "Industrials"},
	"MO":   {Name: "Philip Morris Companies Inc.", Exchange: "NYSE", Sector: "Consumer Staples"},
	"MRK":  {Name: "Merck & Co., Inc.", Exchange: "NYSE", Sector: "Health Care"},
	"MSFT": {Name: "Microsoft Corporation", Exchange: "NASDAQ", Sector: "Information Technology"},
	"PG":   {Name: "The Procter & Gamble Company", Exchange: "NYSE", Sector: "Consumer Staples"},
	"SBC":  {Name: "SBC Communications Inc.", Exchange: "NYSE", Sector: "Telecommunication Services"},
	"T":    {Name: "AT&T Corp.", Exchange: "NYSE", Sector: "Telecommunication Services"},
	"UTX":  {Name: "United Technologies Corporation", Exchange: "NYSE", Sector: "Industrials"},
	"WMT":  {Name: "Wal-Mart Stores, Inc.", Exchange: "NYSE", Sector: "Consumer Staples"},
	"XOM":  {Name: "Exxon Mobil Corporation", Exchange: "NYSE", Sector: "Energy"},
}

// demoBrokers are two brokers far enough apart in price that choosing one
// visibly changes the commission.
var demoBrokers = []store.Broker{
	{Name: "Thrifty Trades", Email: "desk@thrifty-trades.example", CommissionRate: decimal.RequireFromString("0.10")},
	{Name: "Full Service Securities", Email: "advice@full-service.example", CommissionRate: decimal.RequireFromString("0.25")},
}

// seedDemoMarket makes sure every demo company and broker exists. Rows that
// exist are left as they are, so running it again (every `make run`)
// changes nothing an admin has changed.
func seedDemoMarket(ctx context.Context, env *runtimeEnv, db *store.DB) error {
	tickers, err := market.NewSample().Tickers()
	if err != nil {
		return fmt.Errorf("list the sample's tickers: %w", err)
	}
	companies, brokers := 0, 0
	for _, symbol := range tickers {
		c, ok := demoCompanies[symbol]
		if !ok {
			continue // the S&P 500 index is no company to trade
		}
		c.Symbol = symbol
		_, inserted, err := db.EnsureCompany(ctx, c)
		if err != nil {
			return err
		}
		if inserted {
			companies++
		}
	}
	for _, b := range demoBrokers {
		_, inserted, err := db.EnsureBroker(ctx, b)
		if err != nil {
			return err
		}
		if inserted {
			brokers++
		}
	}
	fmt.Fprintf(env.stdout, "demo market: %d companies and %d brokers added\n", companies, brokers)
	return nil
}
