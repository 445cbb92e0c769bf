package app

import (
	"bufio"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

// TestPreferWait is issue 22 item 7: with Prefer: wait=N a submission is
// answered 201 with the finished job when it ends within N seconds, and
// 202 with its latest state when it does not; Preference-Applied says the
// server waited. A wait takes one of the user's event stream slots, and
// over their cap the job is accepted with a 202 at once.
func TestPreferWait(t *testing.T) {
	s := newStack(t, "EVENT_STREAMS_PER_USER=1")

	// No worker runs yet, so this job cannot end within its second.
	resp := s.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`, "Prefer", "respond-async, wait=1")
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	require.Equal(t, "wait=1", resp.Header.Get("Preference-Applied"))
	queued := resp.Map(t)
	require.Equal(t, "queued", queued["status"])

	// The user's one stream slot taken by a stream on that job, the next
	// submission does not wait, and is accepted all the same.
	req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/jobs/"+queued["id"].(string)+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.token)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	_, err = bufio.NewReader(stream.Body).ReadString('\n')
	require.NoError(t, err, "the stream is open")
	resp = s.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"AA","models":["linreg"]}`, "Prefer", "wait=20")
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	require.Empty(t, resp.Header.Get("Preference-Applied"), "over the stream cap the server did not wait")

	// A wait that is not whole seconds is ignored, as RFC 7240 asks.
	resp = s.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"IBM","models":["linreg"]}`, "Prefer", "wait=soon")
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	require.Empty(t, resp.Header.Get("Preference-Applied"))

	// Another user's cheap job, with a worker running, ends in time.
	s.startWorker()
	other := s.api.As(dbtest.Token(t, s.db))
	resp = other.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"KO","models":["linreg"]}`, "Prefer", "wait=20")
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	require.Equal(t, "wait=20", resp.Header.Get("Preference-Applied"))
	job := resp.Map(t)
	require.Equal(t, "succeeded", job["status"])
	require.NotNil(t, job["result"], "the finished job comes with its result")
	require.Equal(t, "/api/v1/jobs/"+job["id"].(string), resp.Header.Get("Location"))
}
