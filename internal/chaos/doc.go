// Package chaos is Augur's fault suite. Its tests start a private
// PostgreSQL cluster, private redis-server processes, and web and worker
// programs built from this checkout; stream jobs through them; inject a
// fault (SIGKILL of a worker or of web, Redis restarted empty, PostgreSQL
// stopped, one worker's PostgreSQL connections stalled, a web process
// cut off from Redis); and then check that every accepted job reached a
// final state exactly once, with no two attempts of a job running at the
// same time and no write of an attempt that had lost its job.
//
// `go test ./internal/chaos` runs scenarios 1-3 and 7 with small counts
// (part of `make test`); CHAOS=full runs all of them at full size (`make chaos`), and
// SOAK=1 runs the soak (`make soak`). The suite never touches the machine's
// shared PostgreSQL or Redis. See docs/reliability.md for what each
// scenario proves and the figures of the last full run.
package chaos
