package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Outcome is what one attempt means for its delivery.
type Outcome string

// Outcomes of an attempt.
const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = "succeeded"
	// Gone: the receiver answered 410, asking for no more messages; its
	// endpoint is disabled.
	Gone Outcome = "gone"
	// Retry: anything else (another status, a timeout, a refused
	// connection); the delivery is tried again on the schedule.
	Retry Outcome = "retry"
)

// MaxBodyBytes is how much of a receiver's answer is read and kept.
const MaxBodyBytes = 1024

// Result is one attempt as it is recorded.
type Result struct {
	Outcome Outcome
	// StatusCode is the receiver's HTTP status, 0 when none came.
	StatusCode int
	Latency    time.Duration
	// Body is the first MaxBodyBytes of the receiver's answer.
	Body string
	// ErrorClass names what went wrong without a network error's raw text
	// (which can carry internal addresses): refused_address, timeout, dns,
	// connect, tls, http_status, or "" when the attempt succeeded.
	ErrorClass string
	// RetryAfter is the receiver's Retry-After, when it sent one in seconds.
	RetryAfter time.Duration
}

// Sender makes delivery attempts through a guarded client.
type Sender struct {
	Client *http.Client
}

// Send makes one attempt: POST body to url, signed with key under the
// message id msgID at time now.
func (s *Sender) Send(ctx context.Context, url string, key []byte, msgID string, body []byte, now time.Time) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Retry, ErrorClass: "connect"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Augur-Webhooks/1")
	req.Header.Set(HeaderID, msgID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(key, msgID, now, body))
	began := time.Now()
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Outcome: Retry, Latency: time.Since(began), ErrorClass: errorClass(err)}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	r := Result{StatusCode: resp.StatusCode, Latency: time.Since(began), Body: string(answer)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.Outcome = Delivered
	case resp.StatusCode == http.StatusGone:
		r.Outcome, r.ErrorClass = Gone, "http_status"
	default:
		r.Outcome, r.ErrorClass = Retry, "http_status"
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			r.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return r
}

// errorClass names a transport error's kind.
func errorClass(err error) string {
	var dnsErr *net.DNSError
	var tlsErr *tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return "refused_address"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &tlsErr), errors.As(err, &certErr):
		return "tls"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "connect"
}

// Schedule is the wait before each retry, as the specification's example
// schedule has it up to its 14-hour step: eight attempts over 31 h 35 min,
// enough to ride out a receiver's bad day.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour,
}

// maxRetryAfter bounds how far a receiver's Retry-After can push an
// attempt.
const maxRetryAfter = 24 * time.Hour

// NextDelay returns the wait before the attempt after the n-th (1-based)
// failed one under schedule, and false when the schedule is spent. A
// receiver's Retry-After lengthens the wait, never shortens it; the
// specification's jitter (up to a tenth more) spreads the retries of
// many deliveries that failed at once.
func NextDelay(schedule []time.Duration, n int, retryAfter time.Duration) (time.Duration, bool) {
	if n < 1 || n > len(schedule) {
		return 0, false
	}
	d := schedule[n-1]
	if d > 0 {
		d += rand.N(d/10 + 1)
	}
	return max(d, min(retryAfter, maxRetryAfter)), true
}
