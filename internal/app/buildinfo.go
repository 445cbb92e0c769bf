package app

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// buildInfo is augur_build_info, always 1, whose labels say which build a
// process runs: during a rolling upgrade an operator sees both versions
// side by side. The values come from what the Go toolchain stamps into
// every binary built from a git checkout (vcs.revision, vcs.modified), so
// no -ldflags are needed and a build cannot claim a commit it is not.
func buildInfo() prometheus.Collector {
	version, commit := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, commit = versionAndCommit(bi)
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "augur_build_info",
		Help:        "Always 1; the labels name the running build: module version, git commit (-dirty when built from a modified tree) and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go": runtime.Version()},
	}, func() float64 { return 1 })
}

// versionAndCommit reads the main module's version and the git commit from
// build information. A build outside a git checkout has no commit: it says
// "unknown" rather than nothing, so the label is never empty.
func versionAndCommit(bi *debug.BuildInfo) (version, commit string) {
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
	return version, commit
}
