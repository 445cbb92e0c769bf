#!/usr/bin/env bash
# Side-by-side timing of garch.Fit and fGarch::garchFit on the same returns,
# every series of reference.json, one after the other in one run.
# Run from the repository root: bash internal/forecast/garch/testdata/bench_vs_fgarch.sh
# (Debian: r-cran-fgarch, r-cran-jsonlite). Prints the seconds to fit all
# series once in each and the ratio.
set -euo pipefail
cd "$(dirname "$0")"
go_ns=$(go test -run '^$' -bench '^BenchmarkFit$' -benchtime 50x -count 1 .. | awk '/^BenchmarkFit/ {print $3}')
r_s=$(Rscript -e '
suppressMessages({library(fGarch); library(jsonlite)})
ref <- fromJSON("reference.json")$series
fitAll <- function() for (closes in ref$closes)
  garchFit(~garch(1, 1), data = diff(log(closes)), cond.dist = "std", include.mean = TRUE, trace = FALSE)
fitAll()  # warm up
cat(median(sapply(1:10, function(i) system.time(fitAll())[["elapsed"]])))')
awk -v g="$go_ns" -v r="$r_s" 'BEGIN {
  printf "fit all %s series once: Go %.4f s, fGarch %.4f s (median of 10), fGarch/Go = %.1f\n", "reference", g/1e9, r, r/(g/1e9) }'
