package web_test

import (
	"go/build"
	"path"
	"slices"
	"strings"
	"testing"
)

// TestLayering keeps the cut of the HTTP face: the JSON API, the pages and
// admin build on the kernel and the domain, never on each other or on this
// package, and the kernel on none of them. Only this package mounts all
// three.
func TestLayering(t *testing.T) {
	t.Parallel()
	const web = "github.com/augurhq/augur/internal/web"
	parts := []string{"api", "ui", "admin"}
	forbidden := map[string][]string{
		"kernel":            append([]string{web}, parts...),
		"kernel/decodetest": append([]string{web}, parts...),
	}
	for _, p := range parts {
		forbidden[p] = []string{web}
		for _, other := range parts {
			if other != p {
				forbidden[p] = append(forbidden[p], other)
			}
		}
	}
	for dir, banned := range forbidden {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("read package %s: %v", dir, err)
		}
		for _, imp := range slices.Concat(pkg.Imports, pkg.TestImports, pkg.XTestImports) {
			for _, b := range banned {
				target := b
				if b != web {
					target = path.Join(web, b)
				}
				if imp == target || strings.HasPrefix(imp, target+"/") && b != web {
					t.Errorf("internal/web/%s imports %s; it may use only the kernel and the domain packages", dir, imp)
				}
			}
		}
	}
}
