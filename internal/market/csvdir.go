package market

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/ticker"
)

// maxCSVFileBytes bounds one ticker's file: decades of daily bars are a few
// MB, so anything far larger is a mistake that should not eat the memory.
const maxCSVFileBytes = 64 << 20

// csvDir serves operator-provided files DATA_DIR/<TICKER>.csv.
type csvDir struct {
	dir string
}

func (c *csvDir) Name() string { return "csv" }

func (c *csvDir) History(_ context.Context, symbol string, since time.Time) ([]Bar, error) {
	// The symbol comes from a user. os.Root refuses any path that would
	// leave the folder (.., absolute paths, symlinks pointing out); the
	// ticker rule before it, which admits no slash and no leading dot,
	// gives a clear error for the obvious cases.
	if _, err := ticker.Normalize(symbol); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	name := symbol + ".csv"
	root, err := os.OpenRoot(c.dir)
	if err != nil {
		return nil, fmt.Errorf("csv: open DATA_DIR: %w", err)
	}
	defer root.Close()

	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Operators name files as they like; accept msft.csv for MSFT.
		f, err = root.Open(strings.ToLower(name))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("csv: no %s in DATA_DIR: %w", name, ErrNoSuchTicker)
	}
	if err != nil {
		return nil, fmt.Errorf("csv: open %s: %w", name, err)
	}
	defer f.Close()

	data, err := io.ReadAll(io.LimitReader(f, maxCSVFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("csv: read %s: %w", name, err)
	}
	if len(data) > maxCSVFileBytes {
		return nil, fmt.Errorf("csv: %s: %w: larger than %d bytes", name, ErrMalformed, maxCSVFileBytes)
	}
	bars, err := parseCSV(data, since)
	if err != nil {
		return nil, fmt.Errorf("csv: %s: %w", name, err)
	}
	return bars, nil
}
