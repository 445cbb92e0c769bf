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
