package kernel

import "github.com/augurhq/augur/jobs"

// maxWatchlistName bounds a watchlist's name, as the table does.
const maxWatchlistName = 64

// CheckWatchlist validates a watchlist's name and tickers, the one rule
// for the API and the pages, and returns them as stored: the name trimmed,
// the tickers upper-cased with repeats dropped.
func CheckWatchlist(name string, tickers []string) (string, []string, error) {
	name, err := CheckText("name", name, true, maxWatchlistName)
	if err != nil {
		return "", nil, err
	}
	list, ferr := jobs.NormalizeTickers("tickers", tickers)
	if ferr != nil {
		return "", nil, ferr
	}
	return name, list, nil
}
