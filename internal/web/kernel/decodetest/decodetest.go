// Package decodetest holds the property that the fuzz tests of every
// package's request decoders check, and the seeds they start from.
package decodetest

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/web/kernel"
)

// Check is the property every request decoder keeps, whatever the
// client sends: no panic; a refusal is a client error (400, 415 or 422);
// and what is accepted was UTF-8 throughout, and holds no key given twice
// or in another case, no string PostgreSQL would refuse, and no U+FFFD the
// client did not send.
func Check(t *testing.T, body []byte, err error, decoded any) {
	if err != nil {
		var api *kernel.Error
		require.True(t, errors.As(err, &api), "%T %v", err, err)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity}, api.Status, api.Message)
		require.NotEmpty(t, api.Code)
		return
	}
	require.True(t, utf8.Valid(body), "accepted a body that is not UTF-8: %q", body)
	doc, mErr := json.Marshal(decoded)
	require.NoError(t, mErr)
	require.NotContains(t, string(doc), `\u0000`, "input %q", body)
	if !strings.Contains(string(body), "\uFFFD") && !strings.Contains(strings.ToLower(string(body)), `\ufffd`) {
		require.NotContains(t, string(doc), "\uFFFD", "input %q: a replacement character the client did not send", body)
	}
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &keys), "input %q", body)
	fields := kernel.JSONFields(reflect.TypeOf(decoded).Elem())
	for k := range keys {
		require.Contains(t, fields, k, "key %q accepted although no field has that exact name", k)
	}
}

// Seeds are bodies that have tripped decoders: keys in another case or
// given twice, trailing documents, wrong types, NULs and bytes that are
// not UTF-8.
var Seeds = []string{
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
	`{"ticker":"MS\ud800FT"}`,
	`{"ticker":"\ud83d\ude00","texts":["\udc00"]}`,
}
