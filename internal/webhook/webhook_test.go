package webhook_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/webhook"
)

// The specification's published test vector (libraries/python/tests,
// test_sign_function, and the same in the other libraries' tests).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	key, err := webhook.SecretKey(vectorSecret)
	require.NoError(t, err)
	got := webhook.Sign(key, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	require.Equal(t, vectorSignature, got)
	// The prefix is optional, as in the specification's libraries.
	bare, err := webhook.SecretKey(strings.TrimPrefix(vectorSecret, webhook.SecretPrefix))
	require.NoError(t, err)
	require.Equal(t, key, bare)
	// Another id, time or body gives another signature.
	require.NotEqual(t, vectorSignature, webhook.Sign(key, vectorID+"x", time.Unix(vectorTimestamp, 0), []byte(vectorBody)))
	require.NotEqual(t, vectorSignature, webhook.Sign(key, vectorID, time.Unix(vectorTimestamp+1, 0), []byte(vectorBody)))
	require.NotEqual(t, vectorSignature, webhook.Sign(key, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody+" ")))
}

func TestNewSecret(t *testing.T) {
	a, err := webhook.NewSecret()
	require.NoError(t, err)
	b, err := webhook.NewSecret()
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, webhook.SecretPrefix))
	key, err := webhook.SecretKey(a)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(key), 24)
	_, err = webhook.SecretKey("whsec_not base64!")
	require.ErrorIs(t, err, webhook.ErrBadSecret)
	_, err = webhook.SecretKey(webhook.SecretPrefix)
	require.ErrorIs(t, err, webhook.ErrBadSecret)
}

// verify is a receiver's check as the specification writes it: the
// signature of id.timestamp.body under the secret is among the header's
// space-separated "v1,..." signatures, and the timestamp is within five
// minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) bool {
	key, err := webhook.SecretKey(secret)
	if err != nil {
		return false
	}
	ts, err := strconv.ParseInt(h.Get(webhook.HeaderTimestamp), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	want := webhook.Sign(key, h.Get(webhook.HeaderID), time.Unix(ts, 0), body)
	for _, sig := range strings.Fields(h.Get(webhook.HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestVerifierAcceptsTheVectorAndRefusesTampering(t *testing.T) {
	h := http.Header{}
	h.Set(webhook.HeaderID, vectorID)
	h.Set(webhook.HeaderTimestamp, strconv.Itoa(vectorTimestamp))
	h.Set(webhook.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+vectorSignature)
	at := time.Unix(vectorTimestamp, 0)
	require.True(t, verify(vectorSecret, h, []byte(vectorBody), at))
	require.False(t, verify(vectorSecret, h, []byte(vectorBody), at.Add(6*time.Minute)), "stale timestamp")
	require.False(t, verify(vectorSecret, h, []byte(`{"test": 2432232315}`), at), "tampered body")
	h.Set(webhook.HeaderSignature, "v1,")
	require.False(t, verify(vectorSecret, h, []byte(vectorBody), at), "partial signature")
}

// loopbackGuard allows the tests' receivers on 127.0.0.1.
var loopbackGuard = webhook.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

func TestSenderSignsWhatAReceiverVerifies(t *testing.T) {
	secret, err := webhook.NewSecret()
	require.NoError(t, err)
	key, err := webhook.SecretKey(secret)
	require.NoError(t, err)
	verified := make(chan bool, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok := verify(secret, r.Header, body, time.Now()) && json.Valid(body)
		verified <- ok
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	}))
	defer receiver.Close()
	s := webhook.Sender{Client: loopbackGuard.Client()}
	body, _ := json.Marshal(webhook.Message{Type: "job.completed", Timestamp: time.Now(), Data: map[string]string{"job_id": "j"}})
	r := s.Send(context.Background(), receiver.URL, key, "msg_1", body, time.Now())
	require.True(t, <-verified)
	require.Equal(t, webhook.Delivered, r.Outcome)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Len(t, r.Body, webhook.MaxBodyBytes, "the answer is cut at 1 KB")
	require.Empty(t, r.ErrorClass)

	// Signed with another key, the receiver refuses it.
	r = s.Send(context.Background(), receiver.URL, []byte("another key"), "msg_1", body, time.Now())
	require.False(t, <-verified)
	require.Equal(t, webhook.Retry, r.Outcome)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
}

func TestSenderOutcomes(t *testing.T) {
	status := http.StatusGone
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "120")
		}
		if status == http.StatusFound {
			w.Header().Set("Location", "http://169.254.169.254/latest/meta-data/")
		}
		w.WriteHeader(status)
	}))
	defer receiver.Close()
	s := webhook.Sender{Client: loopbackGuard.Client()}
	r := s.Send(context.Background(), receiver.URL, []byte("k"), "m", []byte("{}"), time.Now())
	require.Equal(t, webhook.Gone, r.Outcome)
	status = http.StatusServiceUnavailable
	r = s.Send(context.Background(), receiver.URL, []byte("k"), "m", []byte("{}"), time.Now())
	require.Equal(t, webhook.Retry, r.Outcome)
	require.Equal(t, 2*time.Minute, r.RetryAfter)
	// A redirect is the answer, not followed (to the metadata service here).
	status = http.StatusFound
	r = s.Send(context.Background(), receiver.URL, []byte("k"), "m", []byte("{}"), time.Now())
	require.Equal(t, webhook.Retry, r.Outcome)
	require.Equal(t, http.StatusFound, r.StatusCode)

	// Without the allow-list the same receiver is refused at connect time.
	s = webhook.Sender{Client: webhook.Guard{}.Client()}
	r = s.Send(context.Background(), receiver.URL, []byte("k"), "m", []byte("{}"), time.Now())
	require.Equal(t, webhook.Retry, r.Outcome)
	require.Equal(t, "refused_address", r.ErrorClass)
	require.Zero(t, r.StatusCode)
}

func TestGuardRefusesPrivateAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
		"192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254",
		"0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.1.1.1", "198.18.0.1",
		"::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"fd00::1", "fc00::1", "fe80::1", "fe80::1%eth0", "ff02::1", "64:ff9b::a00:1", "2002:a00:1::1",
	}
	for _, a := range refused {
		t.Run(a, func(t *testing.T) {
			ip := netip.MustParseAddr(a)
			require.ErrorIs(t, webhook.Guard{}.CheckAddr(ip), webhook.ErrRefusedAddress)
		})
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"} {
		require.NoError(t, webhook.Guard{}.CheckAddr(netip.MustParseAddr(a)), a)
	}
	allowed := webhook.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	require.NoError(t, allowed.CheckAddr(netip.MustParseAddr("10.1.2.3")))
	require.NoError(t, allowed.CheckAddr(netip.MustParseAddr("::ffff:10.1.2.3")))
	require.Error(t, allowed.CheckAddr(netip.MustParseAddr("10.2.0.1")))
}

func TestGuardRefusesANameThatResolvesToLoopback(t *testing.T) {
	// localhost resolves to 127.0.0.1 (and ::1): refused when connecting,
	// where the resolved address is judged.
	s := webhook.Sender{Client: webhook.Guard{}.Client()}
	r := s.Send(context.Background(), "http://localhost:9/", []byte("k"), "m", []byte("{}"), time.Now())
	require.Equal(t, "refused_address", r.ErrorClass)
	require.NoError(t, webhook.Guard{}.CheckURL("http://localhost:9/"), "a name is judged at connect time")
}

func TestCheckURL(t *testing.T) {
	g := webhook.Guard{}
	for _, u := range []string{"https://example.com/hook", "http://example.com:8080/a?b=c", "https://[2606:4700::1111]/x"} {
		require.NoError(t, g.CheckURL(u), u)
	}
	for _, u := range []string{
		"ftp://example.com/", "file:///etc/passwd", "example.com/hook", "https://", "http://user:pw@example.com/",
		"http://127.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://[fd00::1]/",
		"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.0.1/",
		"https://example.com/" + strings.Repeat("a", 2100), "gopher:x",
	} {
		require.Error(t, g.CheckURL(u), u)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1/", "http://[::ffff:10.0.0.1]:80/", "x:y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if (webhook.Guard{}).CheckURL(raw) != nil {
			return
		}
		// Whatever it accepts is an http(s) URL with a host that is not a
		// refused literal address.
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Contains(t, []string{"http", "https"}, u.Scheme)
		require.NotEmpty(t, u.Hostname())
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			require.NoError(t, (webhook.Guard{}).CheckAddr(ip))
		}
	})
}

func TestSealer(t *testing.T) {
	s, err := webhook.NewSealer("server secret one")
	require.NoError(t, err)
	sealed, err := s.Seal("whsec_abc", []byte("endpoint-1"))
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "whsec_abc")
	got, err := s.Open(sealed, []byte("endpoint-1"))
	require.NoError(t, err)
	require.Equal(t, "whsec_abc", got)
	_, err = s.Open(sealed, []byte("endpoint-2"))
	require.ErrorIs(t, err, webhook.ErrUnsealable, "bound to its endpoint")
	other, err := webhook.NewSealer("server secret two")
	require.NoError(t, err)
	_, err = other.Open(sealed, []byte("endpoint-1"))
	require.ErrorIs(t, err, webhook.ErrUnsealable)
}

func TestNextDelay(t *testing.T) {
	d, ok := webhook.NextDelay(webhook.Schedule, 1, 0)
	require.True(t, ok)
	require.GreaterOrEqual(t, d, 5*time.Second)
	require.LessOrEqual(t, d, 5*time.Second+500*time.Millisecond)
	d, ok = webhook.NextDelay(webhook.Schedule, 1, time.Hour)
	require.True(t, ok)
	require.Equal(t, time.Hour, d, "Retry-After lengthens the wait")
	_, ok = webhook.NextDelay(webhook.Schedule, len(webhook.Schedule)+1, 0)
	require.False(t, ok, "the schedule is spent")
	var total time.Duration
	for _, s := range webhook.Schedule {
		total += s
	}
	require.Equal(t, 31*time.Hour+35*time.Minute+5*time.Second, total)
}
