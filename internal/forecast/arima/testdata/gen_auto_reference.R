# Reference choices of R's forecast::auto.arima for arima.SelectOrder.
# Run from this folder: Rscript gen_auto_reference.R > auto_reference.json
# (Debian: r-cran-forecast). Each series' last 504 values, stepwise search
# by AICc, exact likelihood (approximation=FALSE: SelectOrder fits every
# candidate exactly), no seasonality.
suppressMessages(library(forecast))
series <- list()
for (name in colnames(EuStockMarkets)) {
  series[[name]] <- as.numeric(tail(EuStockMarkets[, name], 504))
}
series[["GSPC"]] <- read.csv("../../forecasttest/testdata/gspc_last504.csv")$Close
msft <- read.csv("../../forecasttest/testdata/msft_1991_2000.csv")$Close
series[["MSFT"]] <- tail(msft, 504)
num <- function(x) sprintf("%.10g", x)
rows <- c()
for (name in names(series)) {
  y <- series[[name]]
  fit <- auto.arima(y, seasonal = FALSE, approximation = FALSE)
  o <- arimaorder(fit)
  drift <- "drift" %in% names(fit$coef)
  roots <- c(0)
  if (o[1] > 0) roots <- c(roots, 1 / abs(polyroot(c(1, -fit$model$phi))))
  if (o[3] > 0) roots <- c(roots, 1 / abs(polyroot(c(1, fit$model$theta))))
  rows <- c(rows, sprintf(
    '  {"name": "%s", "p": %d, "d": %d, "q": %d, "drift": %s, "aicc": %s, "max_inverse_root": %s,\n   "values": [%s]}',
    name, o[1], o[2], o[3], tolower(drift), num(fit$aicc), num(max(roots)), paste(num(y), collapse = ", ")))
}
cat(sprintf('{"r_forecast": "%s",\n "series": [\n%s\n]}\n', packageVersion("forecast"), paste(rows, collapse = ",\n")))
