// Command worker runs Augur's prediction and sentiment jobs. See `worker help`.
package main

import (
	"os"
	_ "time/tzdata" // Finviz dates are New York time; images may lack a zoneinfo database

	"github.com/augurhq/augur/internal/app"
)

func main() { os.Exit(app.Main("worker", os.Args[1:])) }
