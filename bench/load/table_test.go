package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTotalPerOpLeavesTheGeneratorOutUnlessItIsTheSystem(t *testing.T) {
	r := row{ops: 100, cpu: cpuUse{
		roleWeb: 40 * time.Millisecond, rolePostgres: 50 * time.Millisecond,
		roleRedis: 10 * time.Millisecond, roleGenerator: 100 * time.Millisecond,
	}}
	require.Equal(t, time.Millisecond, r.totalPerOp())
	_, measured := r.cpuPerOp(roleWorker)
	require.False(t, measured, "a worker that did not run has no CPU, not zero")

	r.inProcess = true // bare asynq: its client and server are the bench process
	require.Equal(t, 2*time.Millisecond, r.totalPerOp())
}

func TestJudgeCountsLostJobsAndRatios(t *testing.T) {
	m := measures{
		pg16:     row{rate: 1000},
		submit16: row{rate: 400, ops: 10, cpu: cpuUse{roleWeb: 4 * time.Millisecond}},
		submit8:  row{lat: latencies{n: 1, p99: 24 * time.Millisecond}, lost: new(1)},
		asynqE2E: row{rate: 100},
		e2e:      row{rate: 20, lost: new(0)},
		pickup:   row{lat: latencies{n: 1, p95: 150 * time.Millisecond}},
		fullSeq:  &row{elapsed: 10 * time.Second},
		fullConc: &row{elapsed: 11 * time.Second},
	}
	met := map[string]bool{}
	for _, g := range judge(m) {
		met[g.name] = g.met
	}
	require.Equal(t, map[string]bool{
		"Augur submit @16 / PostgreSQL INSERT @16": true,  // exactly 40%
		"Augur submit p99 @8":                      true,  // 24 ms
		"Augur end to end / bare asynq end to end": false, // 20%
		"CPU per submit (@16, all processes)":      true,  // 0.4 ms
		"CPU per cheap job (end to end, all)":      false, // no ops: nothing measured is no pass
		"idle pickup p95":                          false,
		"lost jobs, all measures":                  false, // one lost at 8 clients
		"full jobs: at once / one after another":   true,  // exactly 1.1
	}, met)
}
