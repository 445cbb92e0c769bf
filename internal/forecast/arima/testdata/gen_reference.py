#!/usr/bin/python3
"""Computes the statsmodels reference numbers that the Go ARIMA tests check:
log-likelihoods, forecasts and forecast variances at fixed parameters (and
of models with drift),
maximum-likelihood fits with their prediction intervals
(get_forecast(...).conf_int() at 80% and 95%), KPSS statistics and the
walk-forwards.

Run from this directory with Debian's python3-statsmodels (0.13.5):

    /usr/bin/python3 gen_reference.py            # quick parts only
    /usr/bin/python3 gen_reference.py --walk     # plus both walk-forwards (~5 min)

and commit the JSON it writes (reference.json), so that CI needs no Python.

Two log-likelihoods are recorded for every integrated model:
  loglike_differenced  SARIMAX(simple_differencing=True).loglike: the exact
                       Gaussian likelihood of the differenced series, which is
                       what the Go package computes;
  loglike_arima        tsa.arima.model.ARIMA(...).loglike: statsmodels' default,
                       which keeps the d integrated states in the state vector
                       with an approximate diffuse prior (variance 1e6) and
                       burns the first d observations. Its prior leaks the
                       series' level into the ARMA state, so it differs from
                       the exact value by a little that depends on the level.
For d = 0 the two are the same model and ARIMA's value is exact.
"""
import argparse
import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.statespace.tools import constrain_stationary_univariate
from statsmodels.tsa.stattools import kpss

HERE = os.path.dirname(os.path.abspath(__file__))

# FORECAST_STEPS is how far ahead the first fits' prediction intervals
# (get_forecast(...).conf_int()) are recorded: a week and a half of trading
# days, past the default seven-day horizon.
FORECAST_STEPS = 10


def load(name):
    return pd.read_csv(os.path.join(HERE, "..", "..", "forecasttest", "testdata", name))["Close"].to_numpy(float)


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


def loglike_case(name, y, order, params):
    params = np.asarray(params, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arima = ARIMA(y, order=order)
        # ARIMA with d = 0 names the mean "const" and treats it as a
        # regression on a column of ones (y - const is ARMA) with no diffuse
        # state, so for d = 0 the ARIMA model itself is the exact reference.
        exact = arima
        if order[1] > 0:
            exact = SARIMAX(y, order=order, simple_differencing=True)
        diffuse = SARIMAX(y, order=order, use_exact_diffuse=True)
        fc_model = diffuse if order[1] > 0 else arima
        fc_result = fc_model.filter(params).get_forecast(5)
        fc = fc_result.predicted_mean
        fc_var = fc_result.var_pred_mean
        fit = arima.fit()
    return {
        "name": name,
        "order": list(order),
        "param_names": list(arima.param_names),
        "params": floats(params),
        "loglike_arima": float(arima.loglike(params)),
        "loglike_differenced": float(exact.loglike(params)),
        "forecast5": floats(fc),
        "forecast5_var": floats(fc_var),
        "fit_params": floats(fit.params),
        "fit_llf_arima": float(fit.llf),
        "fit_aicc_arima": float(fit.aicc),
        "series": floats(y),
    }


def drift_case(name, y, order, params):
    """An ARIMA(p,1,q) with drift: SARIMAX with a constant ('c') in the
    differenced equation, on the exactly differenced series. For a model
    without AR terms the constant is the mean daily change, the Go drift;
    params are [drift, ma..., sigma2]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(y, order=order, trend="c", simple_differencing=True)
        fit = model.fit(disp=False)
    return {
        "name": name,
        "order": list(order),
        "param_names": list(model.param_names),
        "params": floats(params),
        "loglike": float(model.loglike(np.asarray(params, float))),
        "fit_params": floats(fit.params),
        "fit_llf": float(fit.llf),
        "series": floats(y),
    }


def first_fit(name, y, order=(6, 1, 0)):
    size = int(len(y) * 0.80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIMA(y[:size], order=order)
        fit = model.fit()
        fc = fit.get_forecast(FORECAST_STEPS)
    return {
        "name": name,
        "n": int(len(y)),
        "train": size,
        "order": list(order),
        "param_names": list(model.param_names),
        "params": floats(fit.params),
        "llf_arima": float(fit.llf),
        "forecast": floats(fc.predicted_mean),
        "forecast_var": floats(fc.var_pred_mean),
        "conf_int_80": [floats(b) for b in np.asarray(fc.conf_int(alpha=0.2))],
        "conf_int_95": [floats(b) for b in np.asarray(fc.conf_int(alpha=0.05))],
    }


def walk_forward(name, y, order=(6, 1, 0)):
    size = int(len(y) * 0.80)
    history = list(y[:size])
    preds = []
    for t in range(size, len(y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ARIMA(history, order=order).fit()
        preds.append(float(fit.forecast()[0]))
        history.append(y[t])
    err = np.asarray(preds) - y[size:]
    return {"name": name, "order": list(order), "train": size,
            "rmse": float(math.sqrt(np.mean(err ** 2))), "predictions": preds}


def kpss_case(name, x):
    lags = int(np.trunc(4 * (len(x) / 100) ** 0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stat = kpss(x, regression="c", nlags=lags)[0]
    return {"name": name, "lags": lags, "statistic": float(stat), "series": floats(x)}


def simulate_arma21(n, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + 100)
    u = np.zeros(n + 100)
    for t in range(2, n + 100):
        u[t] = 0.6 * u[t - 1] - 0.2 * u[t - 2] + e[t] + 0.4 * e[t - 1]
    return 10 + u[100:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--walk", action="store_true", help="also run both walk-forwards")
    a = ap.parse_args()

    out_path = os.path.join(HERE, "reference.json")
    previous = {}
    if os.path.exists(out_path):
        with open(out_path) as f:
            previous = json.load(f)

    gspc = load("gspc_last504.csv")
    msft = load("msft_1991_2000.csv")
    gspc_train = gspc[:int(len(gspc) * 0.8)]
    arma21 = simulate_arma21(300, 7)

    out = {
        "statsmodels": statsmodels.__version__,
        "loglike": [
            loglike_case("gspc_train_610_fitted", gspc_train, (6, 1, 0),
                         [-0.0266609148, 0.0124519480, 0.00476936754, -0.0424609639,
                          -0.0419432641, -0.00450164297, 608.691073]),
            loglike_case("msft_300_111", msft[:300], (1, 1, 1), [0.5, -0.3, 0.02]),
            loglike_case("arma21_201_const", arma21, (2, 0, 1), [10.1, 0.55, -0.15, 0.35, 1.1]),
            loglike_case("gspc_returns_103_const", np.diff(gspc_train), (1, 0, 3),
                         [1.0, -0.3, 0.25, 0.1, -0.05, 600.0]),
            loglike_case("msft_400_022", msft[:400], (0, 2, 2), [-0.9, 0.05, 0.03]),
        ],
        "drift": [
            drift_case("msft_300_011_drift", msft[:300], (0, 1, 1), [0.05, -0.1, 0.02]),
            drift_case("trend_gspc_010_drift", gspc[:200], (0, 1, 0), [1.5, 600.0]),
        ],
        "first_fit": [
            first_fit("gspc_last504", gspc),
            first_fit("msft_1991_2000", msft),
        ],
        "kpss": [
            kpss_case("gspc_last504", gspc),
            kpss_case("gspc_last504_diff", np.diff(gspc)),
            kpss_case("arma21", arma21),
        ],
        "transforms": [
            {"unconstrained": u, "constrained": floats(constrain_stationary_univariate(np.array(u)))}
            for u in ([0.5], [-1.2, 2.0], [0.5, -1.2, 2.0, 0.1, -0.3, 0.05])
        ],
        "walk_forward": previous.get("walk_forward", []),
    }
    if a.walk:
        out["walk_forward"] = [walk_forward("gspc_last504", gspc),
                               walk_forward("msft_1991_2000", msft)]
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
