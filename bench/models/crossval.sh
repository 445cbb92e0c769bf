#!/usr/bin/env bash
# Rolling-origin cross-validation side by side with R's forecast, in one run:
# R's loop (internal/forecast/crossval/testdata/gen_tscv.R: naive, drift and
# ARIMA(6,1,0) refitted and held, 20 origins 5 apart, horizon 5, on the last
# 504 S&P 500 closes) and Augur's registry.CrossValidate on the same windows
# (BenchmarkCrossValidateVsR), then one markdown table with both times and
# the ratio (R seconds / Go seconds: above 1 means Go is faster).
#
#   bench/models/crossval.sh
#
# Needs /usr/bin/Rscript with r-cran-forecast.
set -euo pipefail
cd "$(dirname "$0")/../.."
rjson=$(mktemp)
gobench=$(mktemp)
trap 'rm -f "$rjson" "$gobench"' EXIT
(cd internal/forecast/crossval/testdata && /usr/bin/Rscript gen_tscv.R) >"$rjson"
go test -run '^$' -bench CrossValidateVsR -benchtime 50x ./internal/forecast/registry | tee "$gobench" >&2
/usr/bin/python3 - "$rjson" "$gobench" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))["models"]
print("| model | R seconds | Go seconds | R / Go |")
print("|---|---:|---:|---:|")
for line in open(sys.argv[2]):
    m = re.match(r"BenchmarkCrossValidateVsR/(\S+?)-\d+\s+\d+\s+([\d.]+) ns/op", line)
    if m:
        name, go = m.group(1), float(m.group(2)) / 1e9
        print(f"| {name} | {r[name]['seconds']:.4f} | {go:.4f} | {r[name]['seconds'] / go:.0f}× |")
PY
