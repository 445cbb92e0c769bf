package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
)

// checkDecoded is the property every request decoder keeps, whatever the
// client sends: no panic; a refusal is a client error (400, 415 or 422);
// and what is accepted holds no key given twice or in another case, and no
// string PostgreSQL would refuse.
func checkDecoded(t *testing.T, body []byte, err error, decoded any) {
	if err != nil {
		var api *apiError
		require.True(t, errors.As(err, &api), "%T %v", err, err)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity}, api.Status, api.Message)
		require.NotEmpty(t, api.Code)
		return
	}
	doc, mErr := json.Marshal(decoded)
	require.NoError(t, mErr)
	require.NotContains(t, string(doc), `\u0000`, "input %q", body)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &keys), "input %q", body)
	fields := jsonFields(reflect.TypeOf(decoded).Elem())
	for k := range keys {
		require.Contains(t, fields, k, "key %q accepted although no field has that exact name", k)
	}
}

var decoderSeeds = []string{
	`{"ticker":"MSFT","models":["linreg"],"horizon":7}`,
	`{"texts":["good\u0000news"]}`,
	`{"Ticker":"MSFT"}`,
	`{"ticker":"MSFT","ticker":"AAPL"}`,
	`{"ticker":"MSFT"} {}`,
	`[1,2]`,
	`{"horizon":"7"}`,
	`{"texts":[{"a":1,"a":2}]}`,
	`{"ticker":`,
	``,
	`null`,
	`{"models":null,"seed":1e3}`,
	"{\"texts\":[\"\xff\xfe\"]}",
}

func FuzzDecodePredictionRequest(f *testing.F) {
	for _, s := range decoderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req predictionRequest
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeSentimentRequest(f *testing.F) {
	for _, s := range decoderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req sentimentRequest
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeDepositRequest(f *testing.F) {
	for _, s := range append(decoderSeeds, `{"amount":"1000.00"}`, `{"Amount":"1"}`, `{"amount":1000}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req depositRequest
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeOrderRequest(f *testing.F) {
	for _, s := range append(decoderSeeds, `{"symbol":"MSFT","side":"buy","quantity":"10","broker_id":2}`, `{"broker_id":null}`, `{"broker_id":1.5}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req orderRequest
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeDividendRequest(f *testing.F) {
	for _, s := range append(decoderSeeds, `{"symbol":"MSFT","amount_per_share":"0.62"}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req dividendRequest
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

// FuzzDecodeTransactionCursor: like FuzzDecodeCursor, for the portfolio's
// transaction listing.
func FuzzDecodeTransactionCursor(f *testing.F) {
	f.Add(encodeTransactionCursor(store.TransactionCursor{CreatedAt: time.Unix(1700000000, 5).UTC(), ID: 42}))
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := decodeTransactionCursor(raw)
		if err != nil {
			return
		}
		again, err := decodeTransactionCursor(encodeTransactionCursor(*c))
		require.NoError(t, err)
		require.True(t, c.CreatedAt.Equal(again.CreatedAt))
		require.Equal(t, c.ID, again.ID)
	})
}

// FuzzRequireJSON: only a JSON media type in UTF-8 passes.
func FuzzRequireJSON(f *testing.F) {
	for _, s := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "", "application/problem+json", "application/json; charset=latin1", "application/json;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, contentType string) {
		err := requireJSON(contentType)
		if err != nil {
			var api *apiError
			require.True(t, errors.As(err, &api))
			require.Equal(t, http.StatusUnsupportedMediaType, api.Status)
			return
		}
		require.Contains(t, strings.ToLower(contentType), "json")
	})
}

// FuzzIdempotencyKey: an accepted key is printable ASCII, so PostgreSQL
// always stores it; anything else is a 400 naming the header.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"order-1", "", "\xff\xfe\xc3", "a\tb", strings.Repeat("k", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
		c.Request.Header["Idempotency-Key"] = []string{raw}
		key, err := idempotencyKey(c)
		if err != nil {
			var api *apiError
			require.True(t, errors.As(err, &api))
			require.Equal(t, "Idempotency-Key", api.Field)
			return
		}
		require.Equal(t, raw, key)
		require.LessOrEqual(t, len(key), maxIdempotencyKeyLen)
		for _, r := range key {
			require.True(t, r >= 0x20 && r <= 0x7e, "%q", key)
		}
	})
}

func TestJSONFieldsAreExactNames(t *testing.T) {
	type inner struct {
		Deep string `json:"deep"`
	}
	type request struct {
		inner
		Name    string `json:"name,omitempty"`
		Plain   int
		Skipped string `json:"-"`
	}
	got := jsonFields(reflect.TypeOf(request{}))
	require.ElementsMatch(t, []string{"deep", "name", "Plain"}, keysOf(got))
}

func keysOf(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

var adminSeeds = []string{
	`{"symbol":"MSFT","name":"Microsoft","exchange":"NASDAQ","sector":"Technology"}`,
	`{"name":"Low Cost","email":"desk@lowcost.example","commission_rate":"0.25"}`,
	`{"Symbol":"MSFT"}`, `{"name":"a","name":"b"}`, `{"active":false}`, `{"active":"no"}`,
	`{"role":"admin","active":true}`, `{"commission_rate":0.25}`, `{"name":null}`,
}

func FuzzDecodeCompanyRequest(f *testing.F) {
	for _, s := range append(decoderSeeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req companyInput
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeCompanyUpdate(f *testing.F) {
	for _, s := range append(decoderSeeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req companyUpdate
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeBrokerRequest(f *testing.F) {
	for _, s := range append(decoderSeeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req brokerInput
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeBrokerUpdate(f *testing.F) {
	for _, s := range append(decoderSeeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req brokerUpdate
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

func FuzzDecodeUserUpdate(f *testing.F) {
	for _, s := range append(decoderSeeds, adminSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req userUpdate
		checkDecoded(t, body, decodeStrict(body, &req), &req)
	})
}

// FuzzAdminInput: whatever a decoded company or broker holds, checking it
// either refuses with a 422 naming a field, or gives values the database
// accepts: a valid symbol, text within its bounds, a rate from 0 to 100.
func FuzzAdminInput(f *testing.F) {
	f.Add("msft", "Microsoft", "", "0.25", "")
	f.Add(" ", "<b>x</b>", "a@b.example", "100", "Desk <d@b>")
	f.Add("^GSPC", "\xff", "", "-0", "1e3")
	f.Add("IBM", "a\x00b", "", "0.0000", "\x00")
	f.Fuzz(func(t *testing.T, symbol, name, email, rate, label string) {
		co, err := companyInput{Symbol: symbol, Name: name, Exchange: label, Sector: label}.company()
		if err != nil {
			var api *apiError
			require.True(t, errors.As(err, &api))
			require.Equal(t, http.StatusUnprocessableEntity, api.Status)
			require.NotEmpty(t, api.Field)
		} else {
			require.Equal(t, strings.ToUpper(co.Symbol), co.Symbol)
			require.NotEmpty(t, co.Name)
			require.True(t, utf8.ValidString(co.Name+co.Exchange) && !strings.ContainsRune(co.Name+co.Exchange, 0))
		}
		b, err := brokerInput{Name: name, Email: email, CommissionRate: rate}.broker()
		if err != nil {
			var api *apiError
			require.True(t, errors.As(err, &api), "%T %v", err, err)
			require.Equal(t, http.StatusUnprocessableEntity, api.Status)
			require.NotEmpty(t, api.Field)
			return
		}
		require.NotEmpty(t, b.Name)
		require.False(t, b.CommissionRate.IsNegative())
		require.True(t, b.CommissionRate.LessThanOrEqual(portfolio.MaxCommissionRate))
	})
}
