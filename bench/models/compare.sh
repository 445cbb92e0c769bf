#!/usr/bin/env bash
# Compare Augur's Go models with the Python reference implementations
# (statsmodels ARIMA, scikit-learn LinearRegression, PyTorch LSTM) on the same
# two real series, and print one markdown table per series, then the Go
# LSTM's clean mode over three seeds. See README.md.
#
#   bench/models/compare.sh            print the tables
#   bench/models/compare.sh --readme   write them into README.md, between
#                                      its "compare.sh" markers
#
# Environment (all optional):
#   MODELS       Go models to run, comma-separated     (lstm,arima,linreg)
#   SEED         seed of both LSTMs                     (0)
#   TORCH_THREADS PyTorch thread counts to time the LSTM with (1 2)
#   PYTHON       interpreter with statsmodels, torch, sklearn and pandas
#                (default: the first of python3, /usr/bin/python3 that has them)
#   MODELS_REF   the Python reference script  (../shared/bench/models_ref.py)
#   DATA_DIR     the shared price files       (../shared/data)
#   GO_BACKTEST  the Go command, word-split   (go run ./cmd/worker backtest)
set -euo pipefail

readme=0
if [[ ${1:-} == --readme ]]; then
	readme=1
	shift
fi
if (($# > 0)); then
	echo "usage: $0 [--readme]" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
MODELS=${MODELS:-lstm,arima,linreg}
MODELS=${MODELS// /}
SEED=${SEED:-0}
TORCH_THREADS=${TORCH_THREADS:-1 2}
MODELS_REF=${MODELS_REF:-$root/../shared/bench/models_ref.py}
DATA_DIR=${DATA_DIR:-$root/../shared/data}
read -r -a go_backtest <<<"${GO_BACKTEST:-go run ./cmd/worker backtest}"

has_reference_stack() {
	"$1" -c 'import statsmodels, torch, sklearn, pandas' >/dev/null 2>&1
}

if [[ -n ${PYTHON:-} ]]; then
	candidates=("$PYTHON")
else
	# pyenv and virtualenv shims often shadow the system interpreter that
	# Debian's python3-statsmodels/-sklearn/-torch are installed for.
	candidates=(python3 /usr/bin/python3)
fi
python=
for candidate in "${candidates[@]}"; do
	if has_reference_stack "$candidate"; then
		python=$candidate
		break
	fi
done
if [[ -z $python ]]; then
	echo "compare.sh: skipped — no Python with statsmodels, torch, sklearn and pandas (tried: ${candidates[*]})."
	echo "Install them (Debian: apt-get install python3-statsmodels python3-sklearn python3-torch python3-pandas) or set PYTHON."
	exit 0
fi

for file in "$MODELS_REF" "$DATA_DIR/gspc_2000_2020_daily_close.csv" "$DATA_DIR/dj30_1991_2000_daily_close.csv"; do
	if [[ ! -r $file ]]; then
		echo "compare.sh: cannot read $file (set MODELS_REF or DATA_DIR)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The DJ30 file is long format (date,ticker,close); both sides get MSFT alone.
awk -F, '$2 == "MSFT" { print $1 "," $3 }' "$DATA_DIR/dj30_1991_2000_daily_close.csv" |
	{ echo "Date,Close"; cat; } >"$tmp/msft.csv"

# The reference implements only the original app's three models.
python_models=$(tr ',' '\n' <<<"$MODELS" | grep -xE 'lstm|arima|linreg' | paste -sd, -) || true

# compare LABEL CSV [--tail N]
compare() {
	local label=$1 csv=$2
	shift 2
	echo "== $label: Go ($MODELS) ..." >&2
	(cd "$root" && "${go_backtest[@]}" --csv "$csv" --models "$MODELS" --seed "$SEED" "$@" --json) >"$tmp/go.json"

	local py_files=() first=1 threads
	if [[ -n $python_models ]]; then
		for threads in $TORCH_THREADS; do
			local models=$python_models
			if ((!first)); then
				# Only the LSTM depends on the thread count.
				[[ ,$python_models, == *,lstm,* ]] || break
				models=lstm
			fi
			echo "== $label: Python ($models, torch threads $threads) ..." >&2
			"$python" "$MODELS_REF" "$csv" --models "$models" --seeds "$SEED" --threads "$threads" "$@" >"$tmp/py$threads.json"
			py_files+=("$threads=$tmp/py$threads.json")
			first=0
		done
	fi
	python3 - "$label" "$MODELS" "$tmp/go.json" "${py_files[@]}" <<'PY'
import json
import sys

label, order, go_path, py_args = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4:]
go = json.load(open(go_path))
py = [(int(a.split("=", 1)[0]), json.load(open(a.split("=", 1)[1]))) for a in py_args]


def py_seconds(block, model):
    if model == "lstm":
        return block["train_seconds"] + block["predict_seconds"]
    return block["seconds"]


def fmt(v, digits=4):
    return "—" if v is None else f"{v:.{digits}f}"


def secs(v):
    # Closed-form fits take microseconds, walk-forward ARIMA minutes.
    return "—" if v is None else f"{v:.4g}"


start = go.get("test_start") or f"index {go['test_start_index']}"
print(f"\n### {label}: n = {go['n']}, test starts {start}, horizon {go['horizon']}, seed {go['seed']}\n")
print("| model | Go RMSE | Python RMSE | Go seconds | Python seconds | speed ratio (Python/Go) |")
print("|---|---|---|---|---|---|")
notes = []
for model in order:
    g = go["models"][model]
    if g.get("error"):
        print(f"| {model} | error: {g['error']} | | | | |")
        continue
    runs = [(t, p[model]) for t, p in py if model in p] or [(None, None)]
    for threads, p in runs:
        name = model
        if model == "lstm" and threads is not None:
            name = f"lstm (torch {threads} thread{'s' if threads > 1 else ''})"
        ps = py_seconds(p, model) if p else None
        ratio = f"{ps / g['seconds']:.2f}" if p and g["seconds"] > 0 else "—"
        print(f"| {name} | {fmt(g['rmse'])} | {fmt(p['rmse'] if p else None)} | "
              f"{secs(g['seconds'])} | {secs(ps)} | {ratio} |")
    notes.append(f"{model}: persistence RMSE {g['persistence_rmse']:.4f} on the same test days; "
                 f"Go's {model}: {g.get('verdict') or ('beats it' if g['beats_persistence'] else 'does not beat it')}")
print()
for n in notes:
    print(f"- {n}")
PY
}

# clean_seeds prints the Go LSTM's clean mode (the Python reference's
# scaling) on both series for seeds 0, 1 and 2: one training is one draw,
# and three show how far apart draws fall.
clean_seeds() {
	[[ ,$MODELS, == *,lstm,* ]] || return 0
	echo "== Go LSTM, clean mode, seeds 0-2 ..." >&2
	echo
	echo "### Go LSTM in clean mode (MinMax scaling fitted on the training part, as the Python reference), seeds 0, 1, 2"
	echo
	echo "| series | seed 0 | seed 1 | seed 2 | persistence |"
	echo "|---|---|---|---|---|"
	local label seed
	for label in "S&P 500, last 504 days" "MSFT 1991–2000"; do
		local args=("$tmp/msft.csv")
		[[ $label == S* ]] && args=("$DATA_DIR/gspc_2000_2020_daily_close.csv" --tail 504)
		for seed in 0 1 2; do
			(cd "$root" && "${go_backtest[@]}" --csv "${args[@]}" --models lstm --lstm-mode clean --seed "$seed" --horizon 1 --json) >"$tmp/clean$seed.json"
		done
		python3 - "$label" "$tmp/clean0.json" "$tmp/clean1.json" "$tmp/clean2.json" <<'PY'
import json
import sys

runs = [json.load(open(p))["models"]["lstm"] for p in sys.argv[2:]]
print(f"| {sys.argv[1]} | " + " | ".join(f"{r['rmse']:.1f}" for r in runs) + f" | {runs[0]['persistence_rmse']:.1f} |")
PY
	done
}

report() {
	echo "Generated by \`bench/models/compare.sh --readme\` on $(date -u +%Y-%m-%d), $(nproc) CPUs," \
		"load average $(cut -d' ' -f1 /proc/loadavg) at the start, Go command \`${go_backtest[*]}\`."
	compare "S&P 500, last 504 days" "$DATA_DIR/gspc_2000_2020_daily_close.csv" --tail 504
	compare "MSFT 1991–2000, whole series" "$tmp/msft.csv"
	clean_seeds
}

if ((!readme)); then
	report
	exit 0
fi
report >"$tmp/section.md"
python3 - "$here/README.md" "$tmp/section.md" <<'PY'
import sys

path, section = sys.argv[1], open(sys.argv[2]).read().strip("\n")
begin, end = "<!-- compare.sh: begin -->", "<!-- compare.sh: end -->"
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"{path}: the {begin} and {end} markers are missing")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(f"{head}{begin}\n{section}\n{end}{tail}")
PY
echo "compare.sh: wrote the tables into $here/README.md" >&2
