package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFormTextThatPostgreSQLCannotStoreIsA422: NUL or invalid UTF-8 in a
// form field or a query parameter is refused naming the field, before the
// sign-in (so before authentication) or any handler hands it to
// PostgreSQL, which would fail with a 500.
func TestFormTextThatPostgreSQLCannotStoreIsA422(t *testing.T) {
	h := newHarness(t, 100)
	anon := h.browser(t)
	member := h.signedIn(t, "user")
	cases := []struct {
		name  string
		b     *browser
		path  string
		form  url.Values
		field string
	}{
		{"NUL in the sign-in email", anon, "/login", url.Values{"email": {"a\x00b"}, "password": {"x"}}, "email"},
		{"a raw byte as the sign-in email", anon, "/login", url.Values{"email": {"\xff"}, "password": {"x"}}, "email"},
		{"a raw byte in a registration", anon, "/register", url.Values{"email": {"new@example.com"}, "username": {"ab\xfe"}, "password": {testPassword}}, "username"},
		{"a raw byte as a token's name", member, "/account/tokens", url.Values{"name": {"\xff"}}, "name"},
		{"NUL in a deposit", member, "/dashboard/deposits", url.Values{"amount": {"10\x00"}}, "amount"},
	}
	for _, tc := range cases {
		p := tc.b.post(tc.path, tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, "%s: %s", tc.name, p.body)
		require.Contains(t, p.body, tc.field+" must be UTF-8 text", tc.name)
	}

	// The same field as text still reaches the handler.
	require.Equal(t, http.StatusCreated, member.post("/account/tokens", url.Values{"name": {"café"}}).status)

	resp := h.api.Do(http.MethodGet, "/api/v1/jobs?cursor=%00", nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, resp.Body)
	e := resp.Map(t)["error"].(map[string]any)
	require.Equal(t, "invalid_text", e["code"])
	require.Equal(t, "cursor", e["field"])
}
