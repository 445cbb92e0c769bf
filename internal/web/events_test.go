package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// stream is an open event stream of one job.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
	body *countingReader
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// openStream opens the job's event stream and reads its first event. The
// context only guards against a hung test.
func openStream(t *testing.T, h *harness, token, id string) (*stream, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/api/v1/jobs/"+id+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body := &countingReader{r: resp.Body}
	s := &stream{resp: resp, r: bufio.NewReader(body), body: body}
	first := s.next(t)
	require.NotNil(t, first, "the stream sends the job at once")
	return s, first
}

// next returns the next job event, or nil when the server ended the stream.
func (s *stream) next(t *testing.T) map[string]any {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return nil
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var job map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &job))
			return job
		}
	}
}

// subscribers counts the Redis connections that hold a subscription to
// job events.
func subscribers(t *testing.T) int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t)})
	defer c.Close()
	list, err := c.ClientList(context.Background()).Result()
	require.NoError(t, err)
	subscribed := regexp.MustCompile(`\b(p?sub)=([1-9]\d*)\b`)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if subscribed.MatchString(line) {
			n++
		}
	}
	// Each web server also holds one subscription to API token
	// invalidations (tokens.go), which is no stream's.
	channel := keyspace.Space{}.Channel("auth:invalidate")
	tokens, err := c.PubSubNumSub(context.Background(), channel).Result()
	require.NoError(t, err)
	return n - int(tokens[channel])
}

// TestEventStreamsShareOneSubscription: many streams, of several users and
// jobs, hold one Redis subscription between them, and each still hears of
// its own job's changes.
func TestEventStreamsShareOneSubscription(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	events := jobs.NewEvents(redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t)}), keyspace.Space{})
	other := dbtest.Token(t, h.db)
	mine := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["mine"]}`).Map(t)["id"].(string)
	theirs := h.api.As(other).Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["theirs"]}`).Map(t)["id"].(string)

	var streams []*stream
	for range 3 {
		s, first := openStream(t, h, h.token, mine)
		require.Equal(t, "queued", first["status"])
		streams = append(streams, s)
	}
	for range 2 {
		s, _ := openStream(t, h, other, theirs)
		streams = append(streams, s)
	}
	require.Equal(t, 1, subscribers(t), "five streams, one Redis subscription")

	id := uuid.MustParse(mine)
	started, err := h.db.StartJob(ctx, id, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))
	require.NoError(t, events.Publish(ctx, id))
	for _, s := range streams[:3] {
		event := s.next(t)
		if event["status"] == "running" {
			// A stream may re-read the job between its start and its end
			// (the hub's subscription going live notes every stream); it
			// sends each state once.
			event = s.next(t)
		}
		require.Equal(t, "succeeded", event["status"])
		require.Nil(t, s.next(t), "a final job ends its stream")
	}
}

// TestEventStreamsSendTheStateNotTheResult: twenty streams of a job that
// finishes with a large result each send its state only, a few hundred
// bytes an event; the final event names where the result is, and that
// serves it. Before, every stream read the result from PostgreSQL and sent
// it whole.
func TestEventStreamsSendTheStateNotTheResult(t *testing.T) {
	h := newHarness(t, 100)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: dbtest.RedisAddr(t)})
	t.Cleanup(func() { rdb.Close() })
	events := jobs.NewEvents(rdb, keyspace.Space{})
	id := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["big"]}`).Map(t)["id"].(string)

	const n = 20
	var streams []*stream
	for range n {
		s, first := openStream(t, h, h.token, id)
		require.Equal(t, "queued", first["status"])
		streams = append(streams, s)
	}
	// A report of 2,000 headlines, about 400 KB.
	articles := make([]string, 2000)
	for i := range articles {
		articles[i] = fmt.Sprintf(`{"title":"headline %d %s","source":"test","score":0}`, i, strings.Repeat("x", 160))
	}
	report := `{"polarity":0,"label":"neutral","positive":0,"negative":0,"neutral":2000,"articles":[` + strings.Join(articles, ",") + `]}`
	started, err := h.db.StartJob(ctx, uuid.MustParse(id), "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(report), ""))
	require.NoError(t, events.Publish(ctx, uuid.MustParse(id)))

	most := 0
	for _, s := range streams {
		final := s.next(t)
		if final["status"] == "running" {
			final = s.next(t) // read between the start and the end, as above
		}
		require.Equal(t, "succeeded", final["status"])
		_, sent := final["result"]
		require.False(t, sent, "the final event carries no result")
		require.Equal(t, "/api/v1/jobs/"+id, final["result_url"])
		require.Nil(t, s.next(t), "a final job ends its stream")
		require.Less(t, s.body.n, 16<<10, "a stream sends the job's state, not its %d-byte result", len(report))
		most = max(most, s.body.n)
	}
	t.Logf("%d streams sent at most %d bytes each; the result is %d bytes", n, most, len(report))

	got := h.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil)
	require.Equal(t, http.StatusOK, got.Status)
	var job struct{ Result struct{ Articles []any } }
	got.Decode(t, &job)
	require.Len(t, job.Result.Articles, 2000)
}

// TestEventStreamsAreCapped: past a user's cap a stream is a 429, past the
// process's a 503, both with Retry-After.
func TestEventStreamsAreCapped(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{streamsPerUser: 2, streamsMax: 3})
	id := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["watched"]}`).Map(t)["id"].(string)
	for range 2 {
		openStream(t, h, h.token, id)
	}
	status, retryAfter, code := refusedStream(t, h, h.token, id)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.NotEmpty(t, retryAfter)
	require.Equal(t, "too_many_streams", code)

	token := dbtest.Token(t, h.db)
	theirs := h.api.As(token).Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["theirs"]}`).Map(t)["id"].(string)
	openStream(t, h, token, theirs)
	status, retryAfter, code = refusedStream(t, h, token, theirs)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.NotEmpty(t, retryAfter)
	require.Equal(t, "unavailable", code)
}

// refusedStream asks for a stream that should be refused. A stream that
// opens instead is closed at once rather than read: it would never end.
func refusedStream(t *testing.T, h *harness, token, id string) (status int, retryAfter, code string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+"/api/v1/jobs/"+id+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", ""
	}
	var body struct{ Error struct{ Code string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, resp.Header.Get("Retry-After"), body.Error.Code
}

// TestEventStreamPollsWhileRedisIsDown: without Redis a stream still
// opens, and follows its job by polling PostgreSQL to the end.
func TestEventStreamPollsWhileRedisIsDown(t *testing.T) {
	h := newHarness(t, 100)
	id := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["offline"]}`).Map(t)["id"].(string)
	dbtest.StopRedis(t)

	s, first := openStream(t, h, h.token, id)
	require.Equal(t, "queued", first["status"])
	require.NoError(t, h.db.CloseJob(context.Background(), uuid.MustParse(id), "gave up"))
	require.Equal(t, "failed", s.next(t)["status"])
	require.Nil(t, s.next(t))
}
