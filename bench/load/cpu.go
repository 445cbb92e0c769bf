package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procStat is the part of /proc/<pid>/stat the bench reads: who the
// parent is, and the CPU the process and its reaped children used, in
// clock ticks.
type procStat struct {
	pid, ppid                    int
	utime, stime, cutime, cstime uint64
}

// parseProcStat reads one /proc/<pid>/stat line (proc(5)). The command
// name, field 2, is in parentheses and may itself hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("no (comm) field")
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return procStat{}, fmt.Errorf("bad pid %q", b[:open])
	}
	// After the comm: state (field 3), ppid (4), …, utime (14), stime
	// (15), cutime (16), cstime (17).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("%d fields after comm, want at least 15", len(f))
	}
	s := procStat{pid: pid}
	if s.ppid, err = strconv.Atoi(f[1]); err != nil || s.ppid < 0 {
		return procStat{}, fmt.Errorf("bad ppid %q", f[1])
	}
	for i, dst := range []*uint64{&s.utime, &s.stime, &s.cutime, &s.cstime} {
		// cutime and cstime are signed in the kernel's format but never
		// negative for a live process.
		if *dst, err = strconv.ParseUint(f[11+i], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("field %d: %w", 14+i, err)
		}
	}
	return s, nil
}

// readProcStat reads the stat of one process.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// clock converts clock ticks into durations.
type clock struct{ tick time.Duration }

// newClock asks getconf for CLK_TCK, which is 100 on every Linux the
// bench is likely to meet; 100 is also the fallback.
func newClock() clock {
	hz := 100
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			hz = n
		}
	}
	return clock{tick: time.Second / time.Duration(hz)}
}

// own is the CPU a single process has used so far: its threads' user and
// system time.
func (c clock) own(pid int) (time.Duration, error) {
	s, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(s.utime+s.stime) * c.tick, nil
}

// tree is the CPU of a process and every child it has: its own, what its
// children that have exited used (reaped into its cutime and cstime),
// and what its live children used so far. For PostgreSQL's postmaster
// this covers every backend and background process of the cluster, those
// that came and went between two samples included.
//
// The root is read before and after its children: a child reaped in
// between moves its time into the root's cutime after the first read and
// out of /proc before the listing, and would be counted nowhere (the next
// reading then jumps by all of it), or, reaped after the listing, twice.
// So the reading counts only when the root's children's time did not
// change meanwhile, and is taken again otherwise.
func (c clock) tree(root int) (time.Duration, error) {
	ticks, err := treeTicks(root, readProcStat, listPIDs)
	return time.Duration(ticks) * c.tick, err
}

// treeTicks is tree in clock ticks, reading processes with stat and
// listing them with pids.
func treeTicks(root int, stat func(int) (procStat, error), pids func() ([]int, error)) (uint64, error) {
	const tries = 20
	for range tries {
		before, err := stat(root)
		if err != nil {
			return 0, err
		}
		all, err := pids()
		if err != nil {
			return 0, err
		}
		var children uint64
		for _, pid := range all {
			if pid == root {
				continue
			}
			child, err := stat(pid)
			if err != nil || child.ppid != root {
				continue // gone since the listing, or not ours
			}
			children += child.utime + child.stime + child.cutime + child.cstime
		}
		after, err := stat(root)
		if err != nil {
			return 0, err
		}
		if after.cutime+after.cstime != before.cutime+before.cstime {
			continue // a child was reaped meanwhile
		}
		return after.utime + after.stime + after.cutime + after.cstime + children, nil
	}
	return 0, fmt.Errorf("process %d reaped children through %d readings in a row", root, tries)
}

// listPIDs lists the processes in /proc.
func listPIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Roles whose CPU the table shows. The generator (the bench itself, or
// pgbench) is shown apart and left out of the totals.
const (
	roleWeb       = "web"
	roleWorker    = "worker"
	rolePostgres  = "postgres"
	roleRedis     = "redis"
	roleGenerator = "generator"
)

// systemRoles are the processes of the system under test, in table order.
var systemRoles = []string{roleWeb, roleWorker, rolePostgres, roleRedis}

// cpuUse is the CPU each role used; a role that was not running is absent.
type cpuUse map[string]time.Duration

// sub returns the CPU used between before and u: for a role that started
// in between (a worker started by the phase), all it used so far.
func (u cpuUse) sub(before cpuUse) cpuUse {
	d := cpuUse{}
	for role, v := range u {
		d[role] = v - before[role]
	}
	return d
}
