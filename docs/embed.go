// Package docs embeds the OpenAPI description of Augur's JSON API, so the
// web server can serve it and tests can check real responses against it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
