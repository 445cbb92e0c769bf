package kernel

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBadFormTextNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, field string
		bad        bool
	}{
		{"email=a%40b.c&password=x", "", false},
		{"email=a%00b&password=x", "email", true},
		{"email=%ff&password=x", "email", true},
		{"name=ok&name=%c3%28", "name", true},
		{"a%00=1", "a\x00", true},
		{"b=%ff&a=%00", "a", true}, // the first by name, every time
		{"name=caf%c3%a9+%e2%82%ac", "", false},
	}
	for _, tc := range cases {
		form, err := url.ParseQuery(tc.raw)
		require.NoError(t, err, tc.raw)
		field, bad := badFormText(form)
		require.Equal(t, tc.bad, bad, tc.raw)
		require.Equal(t, tc.field, field, tc.raw)
	}
}

// FuzzBadFormText: whatever a client sends, the check answers without
// panicking, names a field that is in the form, and lets through only
// text PostgreSQL can store.
func FuzzBadFormText(f *testing.F) {
	for _, seed := range []string{"email=a%00b", "email=%ff", "name=%c3%28&x=1", "a=1&b=2", "%zz=1", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		field, bad := badFormText(form)
		if !bad {
			for name, values := range form {
				require.True(t, storableText(name), "%q let through", name)
				for _, v := range values {
					require.True(t, storableText(v), "%q=%q let through", name, v)
				}
			}
			return
		}
		values, ok := form[field]
		require.True(t, ok, "named %q, which is not in the form", field)
		refused := !storableText(field)
		for _, v := range values {
			refused = refused || !storableText(v)
		}
		require.True(t, refused, "refused %q although it is text", field)
	})
}
