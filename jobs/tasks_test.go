package jobs_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/jobs"
)

func TestJobIDOfTaskReadsJobAndRescueTaskIDs(t *testing.T) {
	id := uuid.MustParse("0190a1c2-0000-7000-8000-000000000001")
	for taskID, want := range map[string]bool{
		id.String():        true, // a job's own task
		id.String() + ".2": true, // the rescue of its second attempt
		"asynq-generated":  false,
		"":                 false,
	} {
		got, ok := jobs.JobIDOfTask(taskID)
		require.Equal(t, want, ok, taskID)
		if want {
			require.Equal(t, id, got, taskID)
		}
	}
}
