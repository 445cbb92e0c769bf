# Reference fits of R's forecast::ets and forecast::thetaf for the ets and
# theta packages. Run from this folder (Debian: r-cran-forecast):
#   Rscript gen_reference.R /work/shared/data > reference.json
# The argument is the folder of dj30_1991_2000_daily_close.csv and
# gspc_2000_2020_daily_close.csv. The series are plain vectors (frequency 1),
# so ets considers no season and thetaf no seasonal adjustment. For every
# series: the automatic ets (AICc over R's default candidates), a few fixed
# specifications, and thetaf, each with forecasts h = 1..10 and 80%/95%
# bounds. Fixed specifications are written as ParseSpec reads them (AAdN is
# ets(model = "AAN", damped = TRUE)). The closes themselves are written too, so the Go tests need only
# this file.
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else "/work/shared/data"
dj <- read.csv(file.path(dir, "dj30_1991_2000_daily_close.csv"))
gspc <- read.csv(file.path(dir, "gspc_2000_2020_daily_close.csv"))
stock <- function(t, from, len) dj$close[dj$ticker == t][from:(from + len - 1)]
window <- function(from, to) gspc$Close[gspc$Date >= from & gspc$Date <= to]
series <- list(
  KO_1993 = stock("KO", 500, 250),
  IBM_1995 = stock("IBM", 1000, 500),
  AA_1997 = stock("AA", 1600, 750),
  DIS_1991 = stock("DIS", 1, 400),
  GSPC_2007_2009 = window("2007-06-01", "2009-05-31"),
  GSPC_2019_2020 = window("2019-03-01", "2020-06-30"),
  GSPC_2003_2005 = window("2003-01-01", "2005-12-31"),
  LOG_GSPC_2010_2011 = log(window("2010-01-01", "2011-12-31"))
)
fixed <- c("ANN", "AAN", "MNN", "MAN")
num <- function(x) sprintf("%.12g", x)
arr <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
fc <- function(f) {
  sprintf('"mean": %s, "lower80": %s, "upper80": %s, "lower95": %s, "upper95": %s',
          arr(f$mean), arr(f$lower[, 1]), arr(f$upper[, 1]), arr(f$lower[, 2]), arr(f$upper[, 2]))
}
etsrow <- function(fit, model) {
  p <- fit$par
  get <- function(n) if (is.na(p[n])) "null" else num(p[n])
  sprintf('{"model": "%s", "method": "%s", "aicc": %s, "loglik": %s, "sigma2": %s, "alpha": %s, "beta": %s, "phi": %s, "l": %s, "b": %s, %s}',
          model, fit$method, num(fit$aicc), num(fit$loglik), num(fit$sigma2),
          get("alpha"), get("beta"), get("phi"), get("l"), get("b"), fc(forecast(fit, h = 10)))
}
rows <- c()
for (name in names(series)) {
  y <- series[[name]]
  fits <- c(etsrow(ets(y), "ZZZ"))
  # damped = FALSE: with damped = NULL, R's ets(model = "AAN") would also
  # try the damped trend and keep the better.
  for (m in fixed) fits <- c(fits, etsrow(ets(y, model = m, damped = FALSE), m))
  fits <- c(fits, etsrow(ets(y, model = "AAN", damped = TRUE), "AAdN"))
  th <- thetaf(y, h = 10)
  rows <- c(rows, sprintf('  {"name": "%s", "values": %s,\n   "ets": [\n    %s],\n   "theta": {"alpha": %s, "drift": %s, "sigma2": %s, %s}}',
                          name, arr(y), paste(fits, collapse = ",\n    "),
                          num(th$model$alpha), num(th$model$drift), num(th$model$sigma), fc(th)))
}
cat(sprintf('{"r_forecast": "%s",\n "series": [\n%s\n]}\n', packageVersion("forecast"), paste(rows, collapse = ",\n")))
