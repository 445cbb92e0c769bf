package audit_test

import (
	"testing"

	"github.com/augurhq/augur/internal/dbtest"
)

// TestMain gives this package's tests private databases, and removes them
// afterwards.
func TestMain(m *testing.M) { dbtest.Main(m) }
