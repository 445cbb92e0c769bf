package kernel_test

import (
	"testing"

	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/internal/web/kernel/decodetest"
)

func FuzzDecodeDepositRequest(f *testing.F) {
	for _, s := range append(decodetest.Seeds, `{"amount":"1000.00"}`, `{"Amount":"1"}`, `{"amount":1000}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req kernel.DepositRequest
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeOrderRequest(f *testing.F) {
	for _, s := range append(decodetest.Seeds, `{"symbol":"MSFT","side":"buy","quantity":"10","broker_id":2}`, `{"broker_id":null}`, `{"broker_id":1.5}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req kernel.OrderRequest
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}

func FuzzDecodeDividendRequest(f *testing.F) {
	for _, s := range append(decodetest.Seeds, `{"symbol":"MSFT","amount_per_share":"0.62"}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req kernel.DividendRequest
		decodetest.Check(t, body, kernel.DecodeStrict(body, &req), &req)
	})
}
