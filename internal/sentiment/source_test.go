package sentiment

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func TestKeyedSourcesWithoutKeySendNothing(t *testing.T) {
	sources := map[string]func(base string, cfg upstream.Config) source{
		"alphavantage": newTestAlphaVantage(""),
		"eodhd":        newTestEODHD(""),
		"finnhub":      newTestFinnhub(""),
		"stockgeist":   newTestStockGeist(""),
	}
	for name, newSource := range sources {
		t.Run(name, func(t *testing.T) {
			fake := newFake(t, nil)
			_, err := newSource(fake.URL, testHTTP()).Fetch(t.Context(), "AAPL", fetchPage)
			require.ErrorIs(t, err, upstream.ErrNoKey)
			require.Equal(t, StatusNoKey, upstream.OutcomeOf(err))
			require.Zero(t, fake.hits.Load())
		})
	}
}

func TestStatusOf(t *testing.T) {
	upstreamErr := func(kind upstream.Kind) error {
		return fmt.Errorf("get: %w", &upstream.Error{Source: "x", Kind: kind})
	}
	cases := []struct {
		err  error
		want string
	}{
		{nil, StatusOK},
		{upstream.ErrNoKey, StatusNoKey},
		{fmt.Errorf("%w: quota", upstream.ErrRateLimited), StatusRateLimited},
		{upstreamErr(upstream.KindRateLimited), StatusRateLimited},
		{upstreamErr(upstream.KindTimeout), StatusTimeout},
		{upstreamErr(upstream.KindCircuitOpen), StatusCircuitOpen},
		{upstreamErr(upstream.KindNetwork), StatusError},
		{upstreamErr(upstream.KindHTTP), StatusError},
		{upstreamErr(upstream.KindTooLarge), StatusError},
		{upstreamErr(upstream.KindCanceled), StatusError},
		{fmt.Errorf("%w: x", errBadResponse), StatusError},
		{errors.New("anything else"), StatusError},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, upstream.OutcomeOf(tc.err), "%v", tc.err)
	}
}

func TestRedactKey(t *testing.T) {
	const key = "a/b+c"
	cause := &upstream.Error{Source: "x", Kind: upstream.KindTimeout, Err: &url.Error{
		Op: "Get", URL: "https://api.example/q?apikey=" + url.QueryEscape(key), Err: context.DeadlineExceeded,
	}}
	err := redactKey(fmt.Errorf("get: %w (raw %s)", cause, key), key)
	require.NotContains(t, err.Error(), key)
	require.NotContains(t, err.Error(), url.QueryEscape(key))
	require.Contains(t, err.Error(), "REDACTED")
	require.Equal(t, upstream.KindTimeout, upstream.KindOf(err), "the chain is kept")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	plain := errors.New("no key in here")
	require.Same(t, plain, redactKey(plain, key))
	require.NoError(t, redactKey(nil, key))
}

func TestReasonOfRetryAfter(t *testing.T) {
	err := &upstream.Error{Source: "x", Kind: upstream.KindRateLimited, Status: 429, RetryAfter: 90 * time.Second}
	require.Contains(t, reasonOf(err), "retry after 1m30s")
}

func TestSourceTable(t *testing.T) {
	for _, spec := range sourceTable {
		s := spec.build(sourceKit{base: spec.realURL, http: upstream.New(spec.name, testHTTP())})
		require.Equal(t, spec.name, s.Name(), "a source reports the name it is configured by")
	}
}

func TestParseSources(t *testing.T) {
	got, err := ParseSources([]string{" Google ", "FINVIZ"})
	require.NoError(t, err)
	require.Equal(t, []string{"google", "finviz"}, got)

	_, err = ParseSources([]string{"finviz", "bloomberg"})
	require.ErrorIs(t, err, ErrUnknownSource)
	require.ErrorContains(t, err, "known: finviz, eodhd, alphavantage, tradestie, finnhub, stockgeist, google")

	_, err = ParseSources([]string{"finviz", "Finviz"})
	require.EqualError(t, err, `sentiment source "finviz" listed twice`)
}
