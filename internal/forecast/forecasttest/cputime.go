package forecasttest

import (
	"syscall"
	"testing"
	"time"
)

// ReportCPUTime runs the benchmark loop body through b.Loop and reports,
// beside the wall time, the CPU time the process spent per operation
// ("cpu-ns/op"): on a machine shared with other work the wall time grows
// with the load, the CPU time much less, so it is the fairer figure to set
// beside another program's CPU time measured in the same run.
func ReportCPUTime(b *testing.B, body func()) {
	b.Helper()
	start := cpuTime(b)
	n := 0
	for b.Loop() {
		body()
		n++
	}
	b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(n), "cpu-ns/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
