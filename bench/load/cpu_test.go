package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	// A real line, with a command name that holds a space and parentheses.
	line := "2213 (postgres: (15) ckpt) S 2212 2212 2212 0 -1 4194368 1137 0 0 0 41 17 3 4 20 0 1 0 2510 226279424 4127\n"
	got, err := parseProcStat([]byte(line))
	require.NoError(t, err)
	require.Equal(t, procStat{pid: 2213, ppid: 2212, utime: 41, stime: 17, cutime: 3, cstime: 4}, got)

	for _, bad := range []string{
		"",
		"12 cat R 1 1",                           // no (comm)
		"x (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 3 4", // pid not a number
		"12 (cat) R 1 1 1",                       // too few fields
		"12 (cat) R 1 1 1 0 -1 0 0 0 0 0 -1 2 3 4", // negative utime
	} {
		_, err := parseProcStat([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}

func TestReadProcStatOfThisProcess(t *testing.T) {
	s, err := readProcStat(os.Getpid())
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), s.pid)
	require.Equal(t, os.Getppid(), s.ppid)
}

func TestCPUUseSub(t *testing.T) {
	before := cpuUse{roleWeb: time.Second, rolePostgres: 2 * time.Second}
	after := cpuUse{roleWeb: 3 * time.Second, rolePostgres: 5 * time.Second, roleWorker: time.Second}
	// A role that started in between counts whole; one absent after is absent.
	require.Equal(t, cpuUse{roleWeb: 2 * time.Second, rolePostgres: 3 * time.Second, roleWorker: time.Second}, after.sub(before))
}

// FuzzParseProcStat checks that no input makes the parser panic, that
// what it accepts is sane, and that any command name, however odd, and
// any counters survive a line laid out as the kernel does.
func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 1 1 1"), "init", 0, uint64(5), uint64(6), uint64(7), uint64(8))
	f.Add([]byte("7 (a) b) R 1"), ") (x) ", 1, uint64(0), uint64(1), uint64(2), uint64(3))
	f.Fuzz(func(t *testing.T, raw []byte, comm string, ppid int, utime, stime, cutime, cstime uint64) {
		if s, err := parseProcStat(raw); err == nil {
			require.Positive(t, s.pid)
			require.GreaterOrEqual(t, s.ppid, 0)
		}
		if ppid < 0 {
			return
		}
		line := fmt.Sprintf("42 (%s) S %d 1 1 0 -1 4194560 10 0 0 0 %d %d %d %d 20 0 1 0 5 6 7\n", comm, ppid, utime, stime, cutime, cstime)
		s, err := parseProcStat([]byte(line))
		require.NoError(t, err, line)
		require.Equal(t, procStat{pid: 42, ppid: ppid, utime: utime, stime: stime, cutime: cutime, cstime: cstime}, s)
	})
}

// fakeProcs is a process table that a child leaves, reaped into its
// parent's cutime, at a chosen read of the table: after the root's first
// read, before the listing.
type fakeProcs struct {
	reads, reapAt int
	root, child   procStat
	reaped        bool
}

// read counts one read of the table, and reaps the child at the chosen
// one.
func (f *fakeProcs) read() {
	f.reads++
	if f.reads == f.reapAt && !f.reaped {
		f.reaped = true
		f.root.cutime += f.child.utime
		f.root.cstime += f.child.stime
	}
}

func (f *fakeProcs) stat(pid int) (procStat, error) {
	f.read()
	switch {
	case pid == f.root.pid:
		return f.root, nil
	case pid == f.child.pid && !f.reaped:
		return f.child, nil
	}
	return procStat{}, os.ErrNotExist
}

func (f *fakeProcs) pids() ([]int, error) {
	f.read()
	return []int{f.root.pid, f.child.pid}, nil
}

// TestTreeCountsAChildReapedMidReadingOnce: a child reaped at any point of
// a reading is counted once: in its parent's cutime, or as itself. Before,
// one reaped between the root's read and the listing was counted nowhere,
// and the next reading jumped back up.
func TestTreeCountsAChildReapedMidReadingOnce(t *testing.T) {
	for reapAt := 1; reapAt <= 5; reapAt++ {
		f := &fakeProcs{reapAt: reapAt,
			root:  procStat{pid: 10, utime: 100, stime: 50, cutime: 1000, cstime: 500},
			child: procStat{pid: 11, ppid: 10, utime: 70, stime: 30}}
		ticks, err := treeTicks(10, f.stat, f.pids)
		require.NoError(t, err)
		require.EqualValues(t, 100+50+1000+500+70+30, ticks, "the child reaped at read %d", reapAt)
	}
}
