package a

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func work() error { return errors.New("boom") }

func TestGoStatements(t *testing.T) {
	done := make(chan error)
	go func() {
		require.NoError(t, work()) // want `require.NoError inside a goroutine`
		done <- nil
	}()
	go func() {
		if err := work(); err != nil {
			t.Fatal(err) // want `Fatal inside a goroutine`
		}
		t.Errorf("fine: Errorf only marks the test failed")
	}()
	go func() {
		func() {
			t.FailNow() // want `FailNow inside a goroutine`
		}()
	}()
	r := require.New(t)
	go func() {
		r.Equal(1, 2) // want `require.Equal inside a goroutine`
	}()
	go func() { done <- work() }()
	require.NoError(t, <-done) // on the test's goroutine: fine
	t.Fatal("fine here too")
}

func TestWaitGroupGo(t *testing.T) {
	var wg sync.WaitGroup
	wg.Go(func() {
		t.Skip("no") // want `Skip inside a goroutine`
	})
	wg.Wait()
}

func TestSubtestsStartedFromAGoroutine(t *testing.T) {
	var tb testing.TB = t
	go func() {
		t.Run("sub", func(t *testing.T) {
			require.NoError(t, work()) // a subtest's own goroutine: fine
		})
		tb.Fatalf("x") // want `Fatalf inside a goroutine`
	}()
}

func helper(t *testing.T) { require.NoError(t, work()) }

func TestNamedFunctionsAreNotFollowed(t *testing.T) {
	go helper(t)
}
