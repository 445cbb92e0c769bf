# Rolling-origin reference errors for package crossval, from R's forecast.
# Run from this folder (Debian: r-cran-forecast):
#   Rscript gen_tscv.R > tscv.json
# Series: the last 504 closes of the S&P 500 (forecasttest's gspc_last504.csv).
# Plan: 20 origins 5 closes apart, horizon 5, the last origin leaving exactly
# 5 closes after it; expanding windows. Origin o (0-based, as in Go) fits on
# y[1:o] and forecasts y[o+1], ..., y[o+5]. Models: naive (rwf), drift
# (rwf(drift = TRUE)), ARIMA(6,1,0) by exact ML refitted at each origin, and
# ARIMA(6,1,0) fitted at the first origin only and applied to each later
# window (Arima(y, model = fit)), and Augur's linreg, which tsCV cannot
# express, by lm: at each origin o it fits y[t + 5] ~ y[t] on the pairs
# whose target lies before int(0.8 o), Augur's test split of the window, and
# forecasts step k from y[o - 5 + k] with predict.lm's prediction
# intervals. naive and drift are also run through tsCV
# and must give the same errors. The per-horizon MASE (each origin scaled by
# the in-sample MAE of its window's one-step naive forecast), coverage and
# Winkler score are computed here from R's own forecasts and bands.
# "seconds" is the wall time of each model's loop over the 20 origins, the
# second of two runs so that R's first-call warm-up is not counted, for the
# side-by-side timing (bench/models/crossval.sh).
suppressMessages(library(forecast))
y <- read.csv("../../forecasttest/testdata/gspc_last504.csv")$Close
n <- length(y); h <- 5; step <- 5; norigins <- 20
origins <- n - h - (seq_len(norigins) - 1) * step
origins <- rev(origins)
scale_of <- function(w) mean(abs(diff(w)))
winkler <- function(lo, up, a, alpha) (up - lo) + (2 / alpha) * pmax(lo - a, 0) + (2 / alpha) * pmax(a - up, 0)
run <- function(fc_at) {
  invisible(lapply(origins, function(o) fc_at(o)))
  t0 <- proc.time()[["elapsed"]]
  fcs <- lapply(origins, function(o) fc_at(o))
  secs <- proc.time()[["elapsed"]] - t0
  list(fcs = fcs, seconds = secs)
}
naive_at <- function(o) naive(y[1:o], h = h, level = c(80, 95))
drift_at <- function(o) rwf(y[1:o], h = h, drift = TRUE, level = c(80, 95))
arima_at <- function(o) forecast(Arima(y[1:o], order = c(6, 1, 0), method = "ML"), h = h, level = c(80, 95))
linreg_at <- function(o) {
  w <- y[1:o]; cut <- floor(0.8 * o); pairs <- cut - h
  x <- w[1:pairs]; target <- w[(h + 1):cut]
  fit <- lm(target ~ x)
  new <- data.frame(x = w[(o - h + 1):o])
  p80 <- predict(fit, new, interval = "prediction", level = 0.8)
  p95 <- predict(fit, new, interval = "prediction", level = 0.95)
  list(mean = p95[, "fit"], lower = cbind(p80[, "lwr"], p95[, "lwr"]), upper = cbind(p80[, "upr"], p95[, "upr"]))
}
first_fit <- Arima(y[1:origins[1]], order = c(6, 1, 0), method = "ML")
hold_at <- function(o) forecast(Arima(y[1:o], model = first_fit), h = h, level = c(80, 95))
num <- function(x) sprintf("%.12g", x)
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
models <- list(naive = naive_at, drift = drift_at, arima = arima_at, arima_hold = hold_at, linreg = linreg_at)
tscv_fn <- list(naive = function(x, h) naive(x, h = h), drift = function(x, h) rwf(x, h = h, drift = TRUE))
out <- c()
for (name in names(models)) {
  r <- run(models[[name]])
  E <- t(sapply(seq_along(origins), function(i) y[origins[i] + 1:h] - r$fcs[[i]]$mean))
  if (!is.null(tscv_fn[[name]])) {
    T <- tsCV(y, tscv_fn[[name]], h = h)
    stopifnot(isTRUE(all.equal(unname(T[origins, , drop = FALSE]), unname(E))))
  }
  scales <- sapply(origins, function(o) scale_of(y[1:o]))
  hz <- c()
  for (k in 1:h) {
    a <- y[origins + k]
    lo80 <- sapply(r$fcs, function(f) f$lower[k, 1]); up80 <- sapply(r$fcs, function(f) f$upper[k, 1])
    lo95 <- sapply(r$fcs, function(f) f$lower[k, 2]); up95 <- sapply(r$fcs, function(f) f$upper[k, 2])
    e <- E[, k]
    hz <- c(hz, sprintf('{"h": %d, "rmse": %s, "mae": %s, "mase": %s, "coverage80": %s, "coverage95": %s, "winkler95": %s}',
      k, num(sqrt(mean(e^2))), num(mean(abs(e))), num(mean(abs(e) / scales)),
      num(mean(a >= lo80 & a <= up80)), num(mean(a >= lo95 & a <= up95)), num(mean(winkler(lo95, up95, a, 0.05)))))
  }
  orows <- sapply(seq_along(origins), function(i) {
    f <- r$fcs[[i]]
    sprintf('{"index": %d, "errors": %s, "mean": %s, "lower80": %s, "upper80": %s, "lower95": %s, "upper95": %s}',
      origins[i], vec(E[i, ]), vec(f$mean), vec(f$lower[, 1]), vec(f$upper[, 1]), vec(f$lower[, 2]), vec(f$upper[, 2]))
  })
  out <- c(out, sprintf('"%s": {"seconds": %s, "horizons": [%s],\n  "origins": [\n   %s]}', name, num(r$seconds),
    paste(hz, collapse = ", "), paste(orows, collapse = ",\n   ")))
}
cat(sprintf('{"r_forecast": "%s", "origins": %d, "step": %d, "horizon": %d,\n"models": {\n%s\n}}\n',
  packageVersion("forecast"), norigins, step, h, paste(out, collapse = ",\n")))
