package web

import (
	"io/fs"
	"net/http"

	"github.com/augurhq/augur/templates"
)

// staticFiles serves the embedded templates/static folder: the pages'
// scripts and styles.
func staticFiles() http.FileSystem {
	sub, err := fs.Sub(templates.FS, "static")
	if err != nil {
		panic(err) // static/ is embedded at build time; its absence is a build bug
	}
	return http.FS(sub)
}
