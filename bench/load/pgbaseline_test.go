package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pgbench15Report is pgbench 15's report of a run, as the bench reads it.
const pgbench15Report = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/augur-bench-load-1/insert.sql
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 28854
number of failed transactions: 3 (0.010%)
latency average = 0.549 ms
initial connection time = 9.817 ms
tps = 14515.301072 (without initial connection time)
`

func TestParsePgbenchSummary(t *testing.T) {
	got, err := parsePgbenchSummary(pgbench15Report)
	require.NoError(t, err)
	require.Equal(t, pgbenchSummary{processed: 28854, failed: 3, tps: 14515.301072}, got)

	// pgbench before 15 prints "processed: N/M" with -t and no failure line.
	got, err = parsePgbenchSummary("number of transactions actually processed: 100/100\ntps = 50.5 (without initial connection time)\n")
	require.NoError(t, err)
	require.Equal(t, pgbenchSummary{processed: 100, tps: 50.5}, got)

	_, err = parsePgbenchSummary("pgbench: error: connection to server failed\n")
	require.Error(t, err)
	for _, tps := range []string{"lots", "NaN", "+Inf", "-1"} {
		_, err = parsePgbenchSummary(strings.Replace(pgbench15Report, "14515.301072", tps, 1))
		require.Error(t, err, tps)
	}
}

func TestParsePgbenchLog(t *testing.T) {
	log := "0 0 523 0 1732623456 123456\n" +
		"1 0 1250 0 1732623456 123999\n" +
		"\n" +
		"1 1 failed 0 1732623456 124100\n" +
		"0 1 skipped 0 1732623456 124200 17\n"
	lat, failed, err := parsePgbenchLog(strings.NewReader(log))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{523 * time.Microsecond, 1250 * time.Microsecond}, lat)
	require.Equal(t, 2, failed)

	for _, bad := range []string{"0 0 523\n", "0 0 -5 0 1 2\n", "0 0 5ms 0 1 2\n"} {
		_, _, err := parsePgbenchLog(strings.NewReader(bad))
		require.Error(t, err, "%q", bad)
	}
}

// FuzzParsePgbenchLog checks that no log makes the parser panic, and
// that what it accepts accounts for at most one transaction a line,
// none of them with a negative latency.
func FuzzParsePgbenchLog(f *testing.F) {
	f.Add("0 0 523 0 1732623456 123456\n1 1 failed 0 1 2\n")
	f.Add("\n\n 3 4 5 6 7 8 9\n")
	f.Fuzz(func(t *testing.T, log string) {
		lat, failed, err := parsePgbenchLog(strings.NewReader(log))
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(lat)+failed, strings.Count(log, "\n")+1)
		for _, d := range lat {
			require.GreaterOrEqual(t, d, time.Duration(0))
		}
	})
}

// FuzzParsePgbenchSummary checks that no report makes the parser panic
// and that what it accepts has no negative count or rate.
func FuzzParsePgbenchSummary(f *testing.F) {
	f.Add(pgbench15Report)
	f.Add("number of transactions actually processed: 1/1\ntps = 1 (without initial connection time)")
	f.Fuzz(func(t *testing.T, report string) {
		s, err := parsePgbenchSummary(report)
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, s.processed, 0)
		require.GreaterOrEqual(t, s.failed, 0)
		require.GreaterOrEqual(t, s.tps, 0.0)
	})
}
