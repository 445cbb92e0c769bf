#!/usr/bin/python3
"""Computes the OLS prediction intervals that linreg_interval_test.go checks.

Run from this directory with Debian's python3-statsmodels:

    /usr/bin/python3 gen_linreg_intervals.py

and commit the JSON it writes (linreg_intervals.json).

The regression is the linear-regression model's: the close h trading days
ahead on today's close, fitted on the pairs whose target lies before the
first test day, int(0.8 n), of the S&P 500 series the model tests share. The
intervals are statsmodels' OLS(...).get_prediction(x0).conf_int(obs=True,
alpha), the textbook prediction interval
ŷ ± t(n-2) · s · √(1 + 1/n + (x0 - x̄)² / Sxx), for the first five test days
and for the h closes the forecast starts from.
"""
import json
import os

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    path = os.path.join(HERE, "..", "forecasttest", "testdata", name)
    return pd.read_csv(path)["Close"].to_numpy(float)


def case(name, y, h):
    n = len(y)
    cut = int(0.8 * n)
    x, target = y[:cut - h], y[h:cut]
    fit = sm.OLS(target, sm.add_constant(x)).fit()
    x0 = np.concatenate([y[cut - h:cut - h + 5], y[n - h:]])
    pred = fit.get_prediction(sm.add_constant(x0, has_constant="add"))
    return {
        "name": name, "h": h, "x0": [float(v) for v in x0],
        "mean": [float(v) for v in pred.predicted_mean],
        "pi80": [[float(a), float(b)] for a, b in pred.conf_int(obs=True, alpha=0.2)],
        "pi95": [[float(a), float(b)] for a, b in pred.conf_int(obs=True, alpha=0.05)],
    }


def main():
    y = load("gspc_last504.csv")
    out = {"statsmodels": statsmodels.__version__,
           "cases": [case("gspc_last504_h7", y, 7), case("gspc_last504_h1", y, 1)]}
    with open(os.path.join(HERE, "linreg_intervals.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
