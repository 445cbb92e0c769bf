# Augur — `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
# The strict Kubernetes manifest test is a Go module of its own, so that
# k8s.io/api and its dependencies stay out of Augur's go.mod.
K8SCHECK  := deploy/k8s/check
BIN       := bin
FUZZTIME  ?= 3s
# What augur_build_info reports, stamped into bin/ and the image at link
# time: the image's build context has no .git to read them from.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT  ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || c=$$c-dirty; echo $$c; } || echo unknown)
LDFLAGS := -X github.com/augurhq/augur/internal/app.stampedVersion=$(VERSION) -X github.com/augurhq/augur/internal/app.stampedCommit=$(COMMIT)
IMAGE   ?= augur:$(VERSION)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "} {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.PHONY: deps
deps: ## download the Go modules, printing each one (the first time on a machine takes minutes)
	@echo "Go modules: downloading what is not cached yet (minutes on a new machine, silent after)"
	$(GO) mod download -x
	$(GO) -C $(K8SCHECK) mod download -x

.PHONY: build
build: deps ## build bin/web and bin/worker (static binaries)
	@echo "compiling web and worker (the first build on a machine takes a few minutes)"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/web ./cmd/web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/worker ./cmd/worker

.PHONY: image
image: ## docker build the image IMAGE (default augur:VERSION), with VERSION and COMMIT (from git) for augur_build_info
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .

.PHONY: run
run: build ## migrate, print the demo password, a token and a curl line, run web (HTTP_ADDR, :8080) and a worker; Ctrl-C stops both
	$(BIN)/web migrate --create-db
	@$(BIN)/web demo-user
	@# Both programs read the same settings; only METRICS_ADDR needs two
	@# values on one host. Web takes METRICS_ADDR (here 127.0.0.1:9090 unless
	@# set: a development machine need not publish its metrics), the worker
	@# the next port on the same host; METRICS_ADDR= (empty) turns both off.
	@# When either program exits, or on Ctrl-C, stop the other one gracefully
	@# and wait for both. No load balancer to drain here: web stops at once
	@# unless SHUTDOWN_DRAIN says otherwise.
	@web=$${METRICS_ADDR-127.0.0.1:9090}; worker=; \
		if [ -n "$$web" ]; then worker="$${web%:*}:$$(( $${web##*:} + 1 ))"; echo "metrics: web on $$web/metrics, worker on $$worker/metrics"; fi; \
		trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
		SHUTDOWN_DRAIN=$${SHUTDOWN_DRAIN:-0s} METRICS_ADDR=$$web $(BIN)/web & \
		METRICS_ADDR=$$worker $(BIN)/worker & \
		wait -n

.PHONY: test
test: deps ## go vet, then every test with -race against the local PostgreSQL and Redis (fuzz targets on their seed corpus), the 10 slowest tests, then the strict manifest test (kubectl)
	$(GO) vet ./...
	@# gotestsum (pinned in go.mod as a tool) prints go test's own output and
	@# keeps its verdict; its events file then names the slowest tests.
	@mkdir -p $(BIN)
	CI=$${CI:-true} $(GO) tool gotestsum --format standard-quiet --jsonfile $(BIN)/test-events.json -- -race -count=1 ./...; \
		rc=$$?; echo "slowest 10 tests:"; $(GO) tool gotestsum tool slowest --jsonfile $(BIN)/test-events.json --num 10; exit $$rc
	$(GO) -C $(K8SCHECK) vet ./...
	CI=$${CI:-true} $(GO) -C $(K8SCHECK) test -count=1 ./...

.PHONY: chaos
chaos: ## the full fault suite (internal/chaos): private PostgreSQL, Redis, web and two workers; prints the table (about 15 min)
	CHAOS=full $(GO) test -count=1 -v -timeout 60m -run '^TestChaos$$' ./internal/chaos

.PHONY: soak
soak: ## 10,000 cheap jobs over about 10 minutes through two workers; prints worker RSS and goroutines at start, middle and end
	SOAK=1 $(GO) test -count=1 -v -timeout 30m -run '^TestSoak$$' ./internal/chaos

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 3s); a finding fails, with the input that broke it
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz

.PHONY: lint
lint: ## gofmt, go vet, staticcheck and testifylint's go-require (pinned in go.mod as tools), go mod tidy -diff, and promtool's checks and rule tests when installed
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed on the files above"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@# require.* inside a goroutine or an HTTP handler turns a failure into a
	@# hang (testifylint's go-require; staticcheck's SA2002 covers t.FailNow).
	$(GO) tool testifylint --disable-all --enable=go-require ./...
	$(GO) mod tidy -diff
	$(GO) -C $(K8SCHECK) vet ./...
	$(GO) -C $(K8SCHECK) tool staticcheck ./...
	$(GO) -C $(K8SCHECK) mod tidy -diff
	@# promtool comes with Debian's prometheus package; without it the Go
	@# test in internal/app still checks the metric names in deploy/.
	@if command -v promtool >/dev/null; then \
		promtool check config deploy/prometheus/prometheus.yml && \
		promtool check rules deploy/prometheus/alerts.yml && \
		promtool test rules deploy/prometheus/alerts_test.yml; \
	else echo "promtool not installed: skipping the Prometheus config and rule checks"; fi

.PHONY: backup-setup
backup-setup: ## on the database host, as postgres: pgBackRest with WAL archiving, daily full and hourly incremental backups, encrypted (deploy/pgbackrest)
	bash deploy/pgbackrest/setup

.PHONY: backup-info
backup-info: ## on the database host, as postgres: pgBackRest's list of backups and the WAL archive they span
	pgbackrest --stanza=augur info

.PHONY: backup
backup: build ## a portable logical copy: pg_dump DATABASE_URL to backups/augur-<UTC time>.dump, keeping the newest of the last 7 days and 4 weeks
	$(BIN)/web backup --dir backups

.PHONY: restore
restore: build ## restore FILE=backups/….dump into a new database (DB=name to choose it) and check its schema version
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/augur-….dump [DB=name]"; exit 2; }
	$(BIN)/web restore --file "$(FILE)" $(if $(DB),--db "$(DB)")

.PHONY: bench
bench: ## model benchmarks; with Python's statsmodels and torch, and with R's forecast, the side-by-side tables too
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/forecast/...
	bash bench/models/compare.sh
	bash bench/ets/compare.sh

.PHONY: bench-load
bench-load: ## the platform's own cost: private PostgreSQL, Redis, web and worker; submit, end to end, pickup, CPU per op beside pgbench and bare asynq (3-5 min)
	$(GO) run ./bench/load $(ARGS)

.PHONY: clean
clean: ## remove built binaries
	rm -rf $(BIN)
