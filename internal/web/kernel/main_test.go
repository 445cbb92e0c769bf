package kernel_test

import (
	"testing"

	"github.com/augurhq/augur/internal/dbtest"
)

// TestMain gives this package's tests a private Redis, and removes it
// afterwards.
func TestMain(m *testing.M) { dbtest.Main(m) }
