package kernel

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// badFormText names the first field of form (sorted by name, so the answer
// is the same every time) whose name or a value is not text PostgreSQL can
// store: invalid UTF-8, or the NUL character; bad is false when every field
// is text. This is the one rule for form and query text, as the JSON
// decoder's is for bodies.
func badFormText(form url.Values) (field string, bad bool) {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !storableText(name) {
			return name, true
		}
		for _, v := range form[name] {
			if !storableText(v) {
				return name, true
			}
		}
	}
	return "", false
}

// storableText reports whether s is valid UTF-8 without NUL, which is what
// a PostgreSQL text column accepts.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// FormText refuses, with a 422 naming the field, a request whose query or
// form fields are not text PostgreSQL can store, before any handler (or
// the sign-in, before authentication) hands them to the database, which
// would fail with a 500. The API takes JSON bodies, so only its query is
// read here, and its body is left for the strict decoder. A form that does
// not parse is left to the handlers, which read it as they always have.
func (k *Kernel) FormText(c *gin.Context) {
	r := c.Request
	var form url.Values
	if strings.HasPrefix(r.URL.Path, "/api/") {
		form = r.URL.Query()
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			c.Next()
			return
		}
		form = r.Form
	} else if err := r.ParseForm(); err == nil {
		form = r.Form // the query and, for a form body, its fields
	} else {
		c.Next()
		return
	}
	field, bad := badFormText(form)
	if !bad {
		c.Next()
		return
	}
	if !utf8.ValidString(field) {
		field = strings.ToValidUTF8(field, "\uFFFD")
	}
	field = strings.ReplaceAll(field, "\x00", "\uFFFD")
	msg := field + " must be UTF-8 text without the NUL character (U+0000)"
	if strings.HasPrefix(r.URL.Path, "/api/") {
		Abort(c, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_text", Field: field, Message: msg})
		return
	}
	k.ErrorPage(c, http.StatusUnprocessableEntity, "Unreadable form", "The form could not be read: "+msg+". Go back, correct it and try again.")
}
