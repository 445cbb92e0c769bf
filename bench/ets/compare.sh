#!/usr/bin/env bash
# Side by side: Augur's ETS and Theta against R's forecast::ets and
# forecast::thetaf, fitted on the same series (those of
# internal/forecast/ets/testdata/reference.json) in one run. Prints a
# markdown table of milliseconds per fit, wall and CPU, and the ratio R / Go
# of CPU time (above 1: Go is faster).
#
#   bench/ets/compare.sh            # 20 fits a series on each side
#   REPS=50 bench/ets/compare.sh
#
# Needs /usr/bin/Rscript with r-cran-forecast and r-cran-jsonlite (Debian).
# Nixtla's statsforecast, the issue's other yardstick, is a PyPI package
# and cannot be installed on a machine without PyPI, so R it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
go=${GO:-go}
reps=${REPS:-20}
rscript=${RSCRIPT:-/usr/bin/Rscript}
if ! "$rscript" -e 'suppressMessages({library(forecast); library(jsonlite)})' >/dev/null 2>&1; then
	echo "bench/ets: skipped, $rscript with the forecast and jsonlite packages is not installed"
	exit 0
fi
r=$(mktemp) gobench=$(mktemp)
trap 'rm -f "$r" "$gobench"' EXIT

(cd internal/forecast/ets/testdata && "$rscript" bench_reference.R "$reps") >"$r"
$go test -run '^$' -bench FitReference -benchtime "${reps}x" ./internal/forecast/ets ./internal/forecast/theta >"$gobench"

# Benchmark lines: BenchmarkFitReference/NAME-P  N  WALL ns/op  CPU cpu-ns/op,
# ETS's package first, then Theta's.
awk '
FNR == 1 { file++ }
file == 1 { ets_wall[$1] = $2; ets_cpu[$1] = $3; th_wall[$1] = $4; th_cpu[$1] = $5; order[++n] = $1; next }
/^BenchmarkFitReference\// {
	name = $1; sub(/^BenchmarkFitReference\//, "", name); sub(/-[0-9]+$/, "", name)
	if (name in go_ets_wall) { go_th_wall[name] = $3 / 1e6; go_th_cpu[name] = $5 / 1e6 }
	else { go_ets_wall[name] = $3 / 1e6; go_ets_cpu[name] = $5 / 1e6 }
}
END {
	print "| series | R ets ms (wall / CPU) | Go ets ms (wall / CPU) | ets R/Go (CPU) | R thetaf ms (wall / CPU) | Go theta ms (wall / CPU) | theta R/Go (CPU) |"
	print "|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		s = order[i]
		printf "| %s | %.2f / %.2f | %.2f / %.2f | %.1f× | %.2f / %.2f | %.3f / %.3f | %.1f× |\n", s,
			ets_wall[s], ets_cpu[s], go_ets_wall[s], go_ets_cpu[s], ets_cpu[s] / go_ets_cpu[s],
			th_wall[s], th_cpu[s], go_th_wall[s], go_th_cpu[s], th_cpu[s] / go_th_cpu[s]
	}
}' "$r" "$gobench"
