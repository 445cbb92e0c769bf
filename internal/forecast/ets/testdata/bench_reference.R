# Times R's forecast::ets (automatic, AICc) and forecast::thetaf (h = 10) on
# the series of reference.json, for the side-by-side speed comparison of
# bench/ets/compare.sh. Run from this folder (Debian: r-cran-forecast,
# r-cran-jsonlite):
#   Rscript bench_reference.R [REPS]
# Prints one line a series: name, then milliseconds per ets fit and per
# thetaf, each as elapsed (wall) and CPU (user + system) time: on a shared
# machine the CPU time is the fairer figure.
suppressMessages({
  library(forecast)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args) > 0) as.integer(args[1]) else 20L
ref <- fromJSON("reference.json", simplifyVector = FALSE)
per <- function(f) {
  f() # once untimed: byte-compilation and caches, as Go's benchmark warms up
  t <- system.time(for (i in seq_len(reps)) f())
  1000 * c(t[["elapsed"]], t[["user.self"]] + t[["sys.self"]]) / reps
}
for (s in ref$series) {
  y <- unlist(s$values)
  e <- per(function() ets(y))
  th <- per(function() thetaf(y, h = 10))
  cat(sprintf("%s %.4f %.4f %.4f %.4f\n", s$name, e[1], e[2], th[1], th[2]))
}
