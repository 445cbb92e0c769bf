package upstream

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, OutcomeOK},
		{"no key, wrapped", fmt.Errorf("stooq: %w (STOOQ_API_KEY)", ErrNoKey), OutcomeNoKey},
		{"unknown ticker, wrapped", fmt.Errorf("yahoo MSFTX: %w", ErrNotFound), OutcomeNotFound},
		{"quota in a 200 body", fmt.Errorf("%w: daily hits limit exceeded", ErrRateLimited), OutcomeRateLimited},
		{"429", &Error{Kind: KindRateLimited, Status: 429}, OutcomeRateLimited},
		{"timeout", &Error{Kind: KindTimeout}, OutcomeTimeout},
		{"open circuit", &Error{Kind: KindCircuitOpen}, OutcomeCircuitOpen},
		{"5xx", &Error{Kind: KindHTTP, Status: 503}, OutcomeError},
		{"404 without a caller's verdict", &Error{Kind: KindHTTP, Status: 404}, OutcomeError},
		{"network", &Error{Kind: KindNetwork}, OutcomeError},
		{"unreachable", &Error{Kind: KindUnreachable}, OutcomeUnreachable},
		{"too large", &Error{Kind: KindTooLarge}, OutcomeError},
		{"canceled", &Error{Kind: KindCanceled, Err: context.Canceled}, OutcomeError},
		{"plain error", errors.New("malformed"), OutcomeError},
		// A caller's verdict on an HTTP failure wins over the kind: a 402
		// that means a used-up quota, a 404 that means an unknown ticker.
		{"402 read as a quota", fmt.Errorf("%w: %w", ErrRateLimited, &Error{Kind: KindHTTP, Status: 402}), OutcomeRateLimited},
		{"404 read as unknown", fmt.Errorf("%w: %w", ErrNotFound, &Error{Kind: KindHTTP, Status: 404}), OutcomeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, OutcomeOf(tc.err))
		})
	}
}
