// Package templates embeds Augur's HTML pages and their static assets.
package templates

import "embed"

// FS holds the *.html templates and static/.
//
//go:embed *.html static
var FS embed.FS
