// Command worker runs Augur's prediction and sentiment jobs. See `worker help`.
package main

import (
	"os"

	"github.com/augurhq/augur/internal/app"
)

func main() { os.Exit(app.Main("worker", os.Args[1:])) }
