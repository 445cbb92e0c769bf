// Command web serves Augur's pages and JSON API. See `web help`.
package main

import (
	"os"

	"github.com/augurhq/augur/internal/app"
)

func main() { os.Exit(app.Main("web", os.Args[1:])) }
