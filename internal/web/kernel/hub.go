package kernel

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/jobs"
)

// Reconnect pacing of a subscription (the hub's, the token cache's) while
// Redis is down.
const (
	hubRetryMin = 250 * time.Millisecond
	hubRetryMax = 5 * time.Second
)

// holdSubscription keeps a Redis subscription until ctx ends. It opens one
// with open (nil means ctx ended first) and hands it to receive, which
// returns when the subscription fails, saying whether it was ever
// confirmed and why it failed; then it closes it and calls down, which
// returns true to end the hold. Otherwise it opens another after a wait
// that doubles from hubRetryMin to hubRetryMax, and that starts again from
// hubRetryMin after a subscription that was confirmed.
func holdSubscription(ctx context.Context, open func() *redis.PubSub,
	receive func(*redis.PubSub) (confirmed bool, err error), down func(err error) (stop bool)) {
	wait := hubRetryMin
	for {
		sub := open()
		if sub == nil {
			return
		}
		confirmed, err := receive(sub)
		_ = sub.Close()
		if down(err) || ctx.Err() != nil {
			return
		}
		if confirmed {
			wait = hubRetryMin
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, hubRetryMax)
	}
}

// hubSettleWait bounds how long a new stream waits for the hub's first
// subscription attempt before it starts by polling.
const hubSettleWait = 2 * time.Second

// streamRetryAfter is the Retry-After, in seconds, of a stream refused over
// a cap: streams end when their jobs do, so slots free up quickly.
const streamRetryAfter = 5

// StreamHub shares one Redis subscription to every job's events among all
// the event streams of this process and fans the notes out in memory; each
// Redis connection it saves is one a stream would have held open. It also
// caps the streams, per user and in all. The subscription exists only
// while some stream does.
type StreamHub struct {
	events  *jobs.Events
	logger  *slog.Logger
	perUser int
	maxAll  int
	// draining is closed by Drain, which drain does once; neither needs mu.
	draining chan struct{}
	drain    func()

	mu       sync.Mutex
	watchers map[uuid.UUID]map[*Watcher]struct{}
	byUser   map[int64]int
	total    int
	gen      int                // counts subscribers, so a stopping one changes nothing
	cancel   context.CancelFunc // stops the current subscriber; nil when none
	settled  chan struct{}      // closed once the current subscriber first connects or fails
	live     bool               // the subscription is confirmed, so notes arrive
}

// Watcher is one stream's place in the hub.
type Watcher struct {
	job   uuid.UUID
	user  int64
	notes chan struct{} // holds one pending note; more coalesce into it
}

func newStreamHub(events *jobs.Events, logger *slog.Logger, perUser, maxAll int) *StreamHub {
	draining := make(chan struct{})
	return &StreamHub{events: events, logger: logger, perUser: perUser, maxAll: maxAll,
		watchers: map[uuid.UUID]map[*Watcher]struct{}{}, byUser: map[int64]int{},
		draining: draining, drain: sync.OnceFunc(func() { close(draining) })}
}

// Drain tells every stream, now and to come, to end: the process is
// shutting down. It is safe to call more than once.
func (h *StreamHub) Drain() { h.drain() }

// Draining is closed once the process is shutting down: a stream then
// tells its client to reconnect (to another replica) and ends.
func (h *StreamHub) Draining() <-chan struct{} { return h.draining }

// Watch registers a stream of user's on job. Past the user's cap it is a
// 429, past the process's a 503. It returns once the subscription has
// either been confirmed, after which every change of the job is announced,
// or failed, after which the stream must poll (see live).
func (h *StreamHub) Watch(ctx context.Context, user int64, job uuid.UUID) (*Watcher, error) {
	h.mu.Lock()
	switch {
	case h.byUser[user] >= h.perUser:
		h.mu.Unlock()
		return nil, &Error{Status: http.StatusTooManyRequests, Code: "too_many_streams", RetryAfter: streamRetryAfter,
			Message: "too many open event streams; close one, or poll the job"}
	case h.total >= h.maxAll:
		h.mu.Unlock()
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: streamRetryAfter,
			Message: "this server has as many event streams as it can hold; poll the job, or retry later"}
	}
	w := &Watcher{job: job, user: user, notes: make(chan struct{}, 1)}
	if h.watchers[job] == nil {
		h.watchers[job] = map[*Watcher]struct{}{}
	}
	h.watchers[job][w] = struct{}{}
	h.byUser[user]++
	h.total++
	if h.cancel == nil {
		h.start()
	}
	settled := h.settled
	h.mu.Unlock()

	timer := time.NewTimer(hubSettleWait)
	defer timer.Stop()
	select {
	case <-settled:
	case <-timer.C:
	case <-ctx.Done():
	}
	return w, nil
}

// Leave removes the stream; the last one out stops the subscriber.
func (h *StreamHub) Leave(w *Watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers[w.job], w)
	if len(h.watchers[w.job]) == 0 {
		delete(h.watchers, w.job)
	}
	if h.byUser[w.user]--; h.byUser[w.user] == 0 {
		delete(h.byUser, w.user)
	}
	if h.total--; h.total == 0 && h.cancel != nil {
		h.cancel()
		h.cancel, h.live = nil, false
	}
}

// IsLive reports whether changes are being announced; while not, streams
// poll PostgreSQL.
func (h *StreamHub) IsLive() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live
}

// start runs a new subscriber. The caller holds h.mu.
func (h *StreamHub) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.gen++
	h.cancel, h.settled, h.live = cancel, make(chan struct{}), false
	go h.subscribe(ctx, h.gen, h.settled)
}

// subscribe holds the subscription until ctx ends, reconnecting with
// backoff while Redis is down.
func (h *StreamHub) subscribe(ctx context.Context, gen int, settled chan struct{}) {
	settle := sync.OnceFunc(func() { close(settled) })
	defer settle()
	holdSubscription(ctx,
		func() *redis.PubSub { return h.events.SubscribeAll(ctx) },
		func(sub *redis.PubSub) (bool, error) { return h.receive(ctx, gen, sub, settle), nil },
		func(error) bool {
			h.setLive(gen, false)
			settle()
			return false
		})
}

// receive passes notes on until the subscription fails, and reports whether
// it was ever confirmed.
func (h *StreamHub) receive(ctx context.Context, gen int, sub *redis.PubSub, settle func()) (confirmed bool) {
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.logger.WarnContext(ctx, "job events unavailable; streams poll PostgreSQL", "err", err)
			}
			return confirmed
		}
		switch msg := msg.(type) {
		case *redis.Subscription:
			confirmed = true
			h.setLive(gen, true)
			settle()
		case *redis.Message:
			if id, ok := h.events.JobOf(msg); ok {
				h.notify(id)
			}
		}
	}
}

// setLive records whether the subscriber of generation gen is confirmed.
// Becoming live also notes every Watcher: a change made while the
// subscription was down was never announced.
func (h *StreamHub) setLive(gen int, live bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen || h.cancel == nil {
		return
	}
	h.live = live
	if live {
		for _, ws := range h.watchers {
			for w := range ws {
				w.note()
			}
		}
	}
}

func (h *StreamHub) notify(job uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers[job] {
		w.note()
	}
}

func (w *Watcher) note() {
	select {
	case w.notes <- struct{}{}:
	default: // a note is already pending; the stream re-reads the job once
	}
}

// Notes delivers a note after each change of the watched job; notes that
// arrive before the stream reads coalesce into one.
func (w *Watcher) Notes() <-chan struct{} { return w.notes }
