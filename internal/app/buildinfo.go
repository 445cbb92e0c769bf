package app

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// stampedVersion and stampedCommit are set at link time by the image
// build and `make build` (-ldflags "-X github.com/augurhq/augur/internal/app.stampedVersion=…"):
// an image is built from a context without .git, where the toolchain has
// no commit to stamp. Empty when the build did not set them.
var stampedVersion, stampedCommit string

// buildInfo is augur_build_info, always 1, whose labels say which build a
// process runs: during a rolling upgrade an operator sees both versions
// side by side. The values are the ones stamped at link time, else what
// the Go toolchain stamps into a binary built from a git checkout
// (vcs.revision, vcs.modified).
func buildInfo() prometheus.Collector {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	version, commit := versionAndCommit(bi, stampedVersion, stampedCommit)
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "augur_build_info",
		Help:        "Always 1; the labels name the running build: version, git commit (-dirty when built from a modified tree) and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go": runtime.Version()},
	}, func() float64 { return 1 })
}

// versionAndCommit returns the stamped version and commit where the build
// set them, and otherwise reads the main module's version and the git
// commit from build information. A build with neither says "unknown"
// rather than nothing, so the label is never empty.
func versionAndCommit(bi *debug.BuildInfo, stampedVersion, stampedCommit string) (version, commit string) {
	version, commit = bi.Main.Version, "unknown"
	if version == "" {
		version = "unknown"
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && commit != "unknown" {
		commit += "-dirty"
	}
	if stampedVersion != "" {
		version = stampedVersion
	}
	if stampedCommit != "" {
		commit = stampedCommit
	}
	return version, commit
}
