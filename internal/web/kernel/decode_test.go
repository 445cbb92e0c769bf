package kernel

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRequireJSON: only a JSON media type in UTF-8 passes.
func FuzzRequireJSON(f *testing.F) {
	for _, s := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "", "application/problem+json", "application/json; charset=latin1", "application/json;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, contentType string) {
		err := requireJSON(contentType)
		if err != nil {
			var api *Error
			require.True(t, errors.As(err, &api))
			require.Equal(t, http.StatusUnsupportedMediaType, api.Status)
			return
		}
		require.Contains(t, strings.ToLower(contentType), "json")
	})
}

func TestJSONFieldsAreExactNames(t *testing.T) {
	t.Parallel()
	type inner struct {
		Deep string `json:"deep"`
	}
	type request struct {
		inner
		Name    string `json:"name,omitempty"`
		Plain   int
		Skipped string `json:"-"`
	}
	got := JSONFields(reflect.TypeOf(request{}))
	require.ElementsMatch(t, []string{"deep", "name", "Plain"}, keysOf(got))
}

func keysOf(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTextThatIsNotUTF8IsRefusedNotReplaced: encoding/json turns bytes
// that are not UTF-8 and unpaired surrogate escapes into U+FFFD; the
// decoder refuses them instead, naming the field, and keeps what is valid.
func TestTextThatIsNotUTF8IsRefusedNotReplaced(t *testing.T) {
	t.Parallel()
	type request struct {
		Ticker string            `json:"ticker"`
		Texts  []string          `json:"texts"`
		Tags   map[string]string `json:"tags"`
	}
	for body, field := range map[string]string{
		"{\"ticker\":\"MS\xff\xfeFT\"}":   "ticker",
		`{"ticker":"MS\ud800FT"}`:         "ticker",
		`{"ticker":"MS\udc00FT"}`:         "ticker",
		`{"ticker":"\ud800"}`:             "ticker",
		`{"ticker":"\ud800\u0041"}`:       "ticker",
		`{"ticker":"\ud800\\udc00"}`:      "ticker",
		"{\"texts\":[\"ok\",\"\xc3\"]}":   "texts[1]",
		"{\"tags\":{\"\xe2\x82\":\"x\"}}": "tags",
	} {
		var got request
		err := DecodeStrict([]byte(body), &got)
		var api *Error
		require.ErrorAs(t, err, &api, "%q", body)
		require.Equal(t, http.StatusBadRequest, api.Status, "%q", body)
		require.Equal(t, "invalid_utf8", api.Code, "%q", body)
		require.Equal(t, field, api.Field, "%q", body)
	}
	for body, want := range map[string]string{
		`{"ticker":"\ud83d\ude00"}`:       "\U0001F600",
		`{"ticker":"\\ud800"}`:            `\ud800`,
		`{"ticker":"caf\u00e9 \ufffd"}`:   "café \uFFFD",
		"{\"ticker\":\"caf\xc3\xa9\"}":    "café",
		`{"ticker":"\\\ud83d\ude00\\"}`:   "\\\U0001F600\\",
		`{"ticker":"a\"\ud83d\ude00\"b"}`: "a\"\U0001F600\"b",
	} {
		var got request
		require.NoError(t, DecodeStrict([]byte(body), &got), "%q", body)
		require.Equal(t, want, got.Ticker, "%q", body)
	}
}
