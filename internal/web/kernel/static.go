package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/templates"
)

// staticAssets are the embedded templates/static files: the pages' scripts,
// styles and icon. Pages link them with a hash of their content in the
// URL, so a browser may keep each for a year and still never runs an old
// script after a deploy.
type staticAssets struct {
	files fs.FS
	// hashes maps a file's name to the start of its SHA-256.
	hashes map[string]string
}

// loadStaticAssets hashes every embedded static file once, at start-up.
func loadStaticAssets() (*staticAssets, error) {
	sub, err := fs.Sub(templates.FS, "static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	a := &staticAssets{files: sub, hashes: map[string]string{}}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash static files: %w", err)
	}
	return a, nil
}

// url is the address pages link a static file by. An unknown name is a
// template bug, which parsing the pages at start-up cannot catch, so it
// fails the render instead of linking a file that is not there.
func (a *staticAssets) url(name string) (string, error) {
	h, ok := a.hashes[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// serve answers /static/*file. Asked for by its current hash, a file may
// be cached for a year; asked for without it (or by an old one), the
// browser must check again each time.
func (a *staticAssets) serve(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	h, ok := a.hashes[name]
	if !ok {
		c.String(http.StatusNotFound, "no such file")
		return
	}
	if c.Query("v") == h {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	http.ServeFileFS(c.Writer, c.Request, a.files, name)
}

// favicon answers /favicon.ico, which browsers and crawlers ask for
// whatever the page links, with the SVG icon.
func (a *staticAssets) favicon(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.Header("Content-Type", "image/svg+xml")
	http.ServeFileFS(c.Writer, c.Request, a.files, "favicon.svg")
}

// ServeStatic answers /static/*file with the embedded static files.
func (k *Kernel) ServeStatic(c *gin.Context) { k.assets.serve(c) }

// Favicon answers /favicon.ico.
func (k *Kernel) Favicon(c *gin.Context) { k.assets.favicon(c) }
