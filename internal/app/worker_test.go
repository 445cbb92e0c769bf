package app

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
)

func TestATaskWhoseWorkerDiedIsRetriedAtOnce(t *testing.T) {
	task := asynq.NewTask("prediction:run", nil)
	require.Zero(t, retryDelay(0, fmt.Errorf("recoverer: %w", asynq.ErrLeaseExpired), task))
	// Any other failure backs off as asynq does by default.
	require.GreaterOrEqual(t, retryDelay(0, errors.New("connection reset by peer"), task), 15*time.Second)
}
