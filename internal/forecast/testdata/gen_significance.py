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
The binomial p-values are scipy.stats.binomtest's two-sided exact test
against 0.5.
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

    binomial = []
    for k, n in ((0, 1), (1, 1), (5, 10), (3, 10), (61, 100), (39, 100), (8, 9), (230, 403), (55, 101)):
        binomial.append({"hits": k, "n": n,
                         "p_value": float(stats.binomtest(k, n, 0.5).pvalue)})

    out = {"numpy": np.__version__, "scipy": scipy.__version__,
           "diebold_mariano": cases, "binomial": binomial}
    with open(os.path.join(HERE, "significance.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
