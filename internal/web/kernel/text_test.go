package kernel

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckTextRefusesWhatWouldMisleadOrNotStore(t *testing.T) {
	t.Parallel()
	for raw, code := range map[string]string{
		"":                         "required",
		"   ":                      "required",
		"laptop\u202Egnp.exe":      "invalid_text", // right-to-left override
		"a\u2066b\u2069":           "invalid_text", // isolates
		"\u202Aembedded\u202C":     "invalid_text",
		"two\nlines":               "invalid_text",
		"nul\x00":                  "invalid_text",
		"\xff\xfe":                 "invalid_text",
		"abcdefghijklmnopqrstuvwx": "too_long",
	} {
		_, err := CheckText("name", raw, true, 20)
		var api *Error
		require.True(t, errors.As(err, &api), "%q: %v", raw, err)
		require.Equal(t, http.StatusUnprocessableEntity, api.Status)
		require.Equal(t, code, api.Code, "%q", raw)
		require.Equal(t, "name", api.Field)
	}
	for raw, want := range map[string]string{
		" Société Générale ": "Société Générale",
		"שלום עולם":          "שלום עולם", // right-to-left script itself is fine
		"AT&T <Inc>":         "AT&T <Inc>",
	} {
		got, err := CheckText("name", raw, true, 20)
		require.NoError(t, err, "%q", raw)
		require.Equal(t, want, got)
	}
	got, err := CheckText("sector", "  ", false, 20)
	require.NoError(t, err)
	require.Empty(t, got)
}
