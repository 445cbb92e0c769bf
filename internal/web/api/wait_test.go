package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPreferredWait(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    time.Duration
		ok      bool
	}{
		{nil, 0, false},
		{[]string{"wait=5"}, 5 * time.Second, true},
		{[]string{"respond-async, wait=10"}, 10 * time.Second, true},
		{[]string{"return=minimal", "Wait = 3 ; foo=bar"}, 3 * time.Second, true},
		{[]string{`wait="7"`}, 7 * time.Second, true},
		{[]string{"wait=3600"}, maxPreferWait, true},
		{[]string{"wait=99999999999999999999"}, 0, false},
		{[]string{"wait=0"}, 0, false},
		{[]string{"wait=-1"}, 0, false},
		{[]string{"wait=1.5"}, 0, false},
		{[]string{"wait"}, 0, false},
		{[]string{"waiting=5"}, 0, false},
		{[]string{"respond-async"}, 0, false},
	} {
		got, ok := preferredWait(tc.headers)
		require.Equal(t, tc.ok, ok, "%q", tc.headers)
		require.Equal(t, tc.want, got, "%q", tc.headers)
	}
}

// FuzzPreferredWait: whatever a client sends in Prefer, the wait is
// either refused or between a second and the cap.
func FuzzPreferredWait(f *testing.F) {
	for _, seed := range []string{"wait=5", "respond-async, wait=10", "wait=\"7\";x=y", "wait=0", ",,;=", "wait=1e9"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got, ok := preferredWait([]string{header})
		if ok && (got < time.Second || got > maxPreferWait) {
			t.Fatalf("wait %v out of bounds for %q", got, header)
		}
		if !ok && got != 0 {
			t.Fatalf("refused preference with a wait %v", got)
		}
	})
}
