package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewRunDirRemovesOnlyTheFoldersOfDeadRuns(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A run killed with SIGKILL: its pid is gone.
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	mkRun := func(name string, pid int) string {
		dir := filepath.Join(tmp, runDirPattern+name)
		require.NoError(t, os.Mkdir(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(pid)), 0o644))
		return dir
	}
	killed := mkRun("killed", dead.Process.Pid)
	live := mkRun("live", os.Getpid())
	foreign := filepath.Join(tmp, runDirPattern+"nopid")
	require.NoError(t, os.Mkdir(foreign, 0o755))

	dir, err := newRunDir()
	require.NoError(t, err)
	require.NoDirExists(t, killed)
	require.DirExists(t, live)
	require.DirExists(t, foreign, "a folder without a pid file is not known to be ours")
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(os.Getpid()), string(b))
}
