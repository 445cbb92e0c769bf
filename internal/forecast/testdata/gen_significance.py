#!/usr/bin/python3
"""Computes the reference figures for significance_test.go.

Run from this directory with Debian's numpy and scipy:

    /usr/bin/python3 gen_significance.py

and commit the JSON it writes (significance.json), so that CI needs no Python.

The Diebold-Mariano statistic is computed here from its definition with
numpy, independently of the Go code: squared-error loss differences, the
long-run variance from autocovariances up to lag h-1 (normalised by n), the
Harvey-Leybourne-Newbold correction, and a two-sided p-value from Student's
t with n-1 degrees of freedom (scipy). The errors are those of real
forecasts on the S&P 500 series the model tests share: the random walk with
drift and persistence, one step and five steps ahead, over the last 20%.
The Pesaran-Timmermann (1992) cases are computed from arrays of predicted
and realised signs with the paper's formulas (eq. 4-6), its statistic
referred to scipy's standard normal, upper tail: simulated calls with and
without skill, and a constant "up" call on a rising series, which has no
test.
"""
import json
import os

import numpy as np
import pandas as pd
import scipy
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    path = os.path.join(HERE, "..", "forecasttest", "testdata", name)
    return pd.read_csv(path)["Close"].to_numpy(float)


def dm_hln(e1, e2, h):
    d = np.asarray(e1) ** 2 - np.asarray(e2) ** 2
    n = len(d)
    dev = d - d.mean()
    gamma = [np.dot(dev[k:], dev[:n - k]) / n for k in range(h)]
    long_run = gamma[0] + 2 * sum(gamma[1:])
    dm = d.mean() / np.sqrt(long_run / n)
    stat = dm * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    p = 2 * stats.t.cdf(-abs(stat), df=n - 1)
    return float(stat), float(p)


def pesaran_timmermann(name, calls, moves):
    """calls and moves are booleans, True for up."""
    n = len(calls)
    p_hat = np.mean(calls == moves)
    py, px = moves.mean(), calls.mean()
    p_star = py * px + (1 - py) * (1 - px)
    v_p = p_star * (1 - p_star) / n
    v_star = ((2 * py - 1) ** 2 * px * (1 - px) / n + (2 * px - 1) ** 2 * py * (1 - py) / n
              + 4 * py * px * (1 - py) * (1 - px) / n ** 2)
    case = {"name": name, "n": n, "hits": int(np.sum(calls == moves)),
            "up_calls": int(calls.sum()), "up_moves": int(moves.sum())}
    if px in (0, 1) or py in (0, 1) or v_p - v_star <= 0:
        case["p_value"] = None
    else:
        case["p_value"] = float(stats.norm.sf((p_hat - p_star) / np.sqrt(v_p - v_star)))
    return case


def drift_errors(y, h):
    """h-step errors of the random walk with drift, fitted on the closes
    before each forecast origin, and of persistence, on targets from
    int(0.8 n) on."""
    cut = int(0.8 * len(y))
    e_drift, e_naive = [], []
    for i in range(cut, len(y)):
        origin = i - h
        past = y[:origin + 1]
        slope = (past[-1] - past[0]) / (len(past) - 1)
        e_drift.append(float(past[-1] + h * slope - y[i]))
        e_naive.append(float(past[-1] - y[i]))
    return e_drift, e_naive


def main():
    y = load("gspc_last504.csv")
    cases = []
    for h in (1, 5):
        e1, e2 = drift_errors(y, h)
        stat, p = dm_hln(e1, e2, h)
        cases.append({"name": f"gspc_last504_drift_vs_naive_h{h}", "h": h,
                      "e1": e1, "e2": e2, "statistic": stat, "p_value": p})
    rng = np.random.default_rng(12)
    e1 = rng.standard_normal(60)
    e2 = 1.4 * rng.standard_normal(60)
    stat, p = dm_hln(e1, e2, 3)
    cases.append({"name": "normal_60_h3", "h": 3, "e1": [float(v) for v in e1],
                  "e2": [float(v) for v in e2], "statistic": stat, "p_value": p})

    pt = []
    for name, n, skill, up in (("skilled_200", 200, 0.6, 0.5), ("coin_150", 150, 0.5, 0.55),
                               ("skilled_rising_400", 400, 0.56, 0.7), ("small_12", 12, 0.7, 0.5)):
        moves = rng.random(n) < up
        right = rng.random(n) < skill
        calls = np.where(right, moves, ~moves)
        pt.append(pesaran_timmermann(name, calls, moves))
    pt.append(pesaran_timmermann("always_up", np.ones(101, bool), rng.random(101) < 0.6))

    out = {"numpy": np.__version__, "scipy": scipy.__version__,
           "diebold_mariano": cases, "pesaran_timmermann": pt}
    with open(os.path.join(HERE, "significance.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
