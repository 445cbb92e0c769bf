# Reference fits of R's fGarch for garch.Fit: GARCH(1,1), Student-t errors,
# constant mean, on daily log returns of the bundled S&P 500 and Dow stocks.
# Run from this folder (Debian: r-cran-fgarch):
#   Rscript gen_reference.R > reference.json
# Each series' closes are written out, so the Go test computes the very same
# returns, diff(log(closes)). "seconds" is the median wall time of one
# garchFit on the series over 5 runs, for the side-by-side timing
# (bench_vs_fgarch.sh). "var95" is the one-day 95% value at risk after the
# last return, 1 - exp(mu + sd * qstd(0.05, nu = shape)), sd from predict.
suppressMessages(library(fGarch))
gspc <- read.csv("../../../market/sampledata/gspc_2000_2020_daily_ohlcv.csv")
dj <- read.csv("../../../market/sampledata/dj30_1991_2000_daily_close.csv")
window <- function(from, to) gspc$close[gspc$date >= from & gspc$date <= to]
stock <- function(t) tail(dj$close[dj$ticker == t], 1000)
series <- list(
  gspc_2000_2003 = window("2000-01-01", "2003-12-31"),
  gspc_2007_2009 = window("2007-01-01", "2009-12-31"),
  # the two years up to the eve of the 2020 crash (the S&P's top, 19 February)
  gspc_pre_crash = tail(window("2000-01-01", "2020-02-19"), 504),
  gspc_last504 = tail(gspc$close, 504),
  IBM = stock("IBM"), MSFT = stock("MSFT"), KO = stock("KO"), GE = stock("GE")
)
num <- function(x) sprintf("%.12g", x)
rows <- c()
for (name in names(series)) {
  closes <- series[[name]]
  r <- diff(log(closes))
  fit <- garchFit(~garch(1, 1), data = r, cond.dist = "std", include.mean = TRUE, trace = FALSE)
  times <- sapply(1:5, function(i) system.time(
    garchFit(~garch(1, 1), data = r, cond.dist = "std", include.mean = TRUE, trace = FALSE))[["elapsed"]])
  co <- coef(fit)
  pred <- predict(fit, n.ahead = 10)
  var95 <- 1 - exp(co[["mu"]] + pred$standardDeviation[1] * qstd(0.05, nu = co[["shape"]]))
  rows <- c(rows, sprintf(paste0(
    '  {"name": "%s", "mu": %s, "omega": %s, "alpha1": %s, "beta1": %s, "shape": %s,\n',
    '   "neg_log_likelihood": %s, "seconds": %s, "var95": %s,\n   "sd_forecast": [%s],\n   "closes": [%s]}'),
    name, num(co[["mu"]]), num(co[["omega"]]), num(co[["alpha1"]]), num(co[["beta1"]]), num(co[["shape"]]),
    num(fit@fit$llh), num(median(times)), num(var95), paste(num(pred$standardDeviation), collapse = ", "),
    paste(num(closes), collapse = ", ")))
}
cat(sprintf('{"fgarch": "%s",\n "series": [\n%s\n]}\n', packageVersion("fGarch"), paste(rows, collapse = ",\n")))
