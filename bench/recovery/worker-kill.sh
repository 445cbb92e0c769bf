#!/usr/bin/env bash
# worker-kill.sh measures what a user sees when the worker running their job
# is killed with SIGKILL (issue 9, defect 11): how long until the API says
# "worker_lost", until another worker starts attempt 2, and until the job
# is final. It runs web and two workers built from this checkout against a
# private redis-server and a scratch database on the local PostgreSQL
# (dropped at the end), submits one job per run, kills the worker holding it
# a second after it starts (the worker id in the job row is host:pid), and
# polls the API every 0.2 s.
#
#   bench/recovery/worker-kill.sh [runs]      (default 3; needs jq, bc, psql)
#
# ADMIN_URL overrides the PostgreSQL server (default: postgres on 127.0.0.1).
set -euo pipefail
runs=${1:-3}
admin=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
db=augur_bench_recovery_$$
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
since() { printf '%.1f' "$(echo "$1 - $2" | bc)"; }

cd "$root"
CGO_ENABLED=0 go build -o "$work/web" ./cmd/web
CGO_ENABLED=0 go build -o "$work/worker" ./cmd/worker
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
export DATABASE_URL=${admin%/*}/$db?sslmode=disable
export REDIS_URL=redis://127.0.0.1:$redis_port/0
export HTTP_ADDR=127.0.0.1:$(free_port)
export PRICE_SOURCES=sample SENTIMENT_SOURCES=google METRICS_ADDR= WORKER_CONCURRENCY=1
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
"$work/web" migrate --create-db >/dev/null 2>&1
token=$("$work/web" demo-user 2>/dev/null | sed -n 's/^export TOKEN=//p')
"$work/web" >"$work/web.log" 2>&1 &
pids+=($!)
start_worker() { "$work/worker" run >>"$work/worker.log" 2>&1 & pids+=($!); }
start_worker
start_worker
until curl -sf "http://$HTTP_ADDR/healthz" >/dev/null; do sleep 0.1; done

api() { curl -s -H "Authorization: Bearer $token" "$@"; }
sql() { psql -qtAX "$DATABASE_URL" -c "$1"; }
for run in $(seq 1 "$runs"); do
	id=$(api -H 'Content-Type: application/json' \
		-d '{"ticker":"^GSPC","models":["lstm","arima_auto","arima"],"lookback":20000}' \
		"http://$HTTP_ADDR/api/v1/predictions" | jq -r .id)
	until [ "$(sql "SELECT status FROM jobs WHERE id = '$id'")" = running ]; do sleep 0.1; done
	sleep 1
	holder=$(sql "SELECT worker_id FROM jobs WHERE id = '$id' AND status = 'running'")
	if [ -z "$holder" ]; then
		echo "run $run: the job finished before the kill"
		continue
	fi
	killed=$(date +%s.%N)
	kill -9 "${holder##*:}"
	lost="" retried=""
	while :; do
		job=$(api "http://$HTTP_ADDR/api/v1/jobs/$id")
		now=$(date +%s.%N)
		[ -z "$lost" ] && [ "$(jq -r '.worker_lost // false' <<<"$job")" = true ] && lost=$now
		[ -z "$retried" ] && [ "$(jq -r .attempts <<<"$job")" -ge 2 ] && retried=$now
		status=$(jq -r .status <<<"$job")
		case $status in succeeded | failed) break ;; esac
		sleep 0.2
	done
	echo "run $run: worker_lost after $(since "${lost:-$now}" "$killed") s," \
		"attempt 2 started after $(since "${retried:-$now}" "$killed") s, $status after $(since "$now" "$killed") s"
	start_worker
done
