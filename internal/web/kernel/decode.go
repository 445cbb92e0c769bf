package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 64 << 10

// DecodeJSON reads a JSON request body strictly: Content-Type JSON in
// UTF-8, one object of at most maxBodyBytes, keys that match a field
// exactly and appear once, no string PostgreSQL cannot store. Its errors are
// client errors naming the field when there is one.
func DecodeJSON(c *gin.Context, dst any) error {
	if err := requireJSON(c.GetHeader("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &Error{Status: http.StatusBadRequest, Code: "body_too_large", Message: "request body must be at most 64 KiB"}
	case err != nil:
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body could not be read: " + err.Error()}
	}
	return DecodeStrict(body, dst)
}

// keyPath is encoding/json's dotted path of a field in t as the client
// wrote it: json names the Go type of every embedded struct on the way
// ("predictionOptions.horizon"), which is no key of the document.
func keyPath(t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for _, seg := range strings.Split(path, ".") {
		if t.Kind() == reflect.Struct {
			if f, ok := t.FieldByName(seg); ok && f.Anonymous && f.Tag.Get("json") == "" {
				t = f.Type
				continue
			}
		}
		keys = append(keys, seg)
	}
	return strings.Join(keys, ".")
}

// requireJSON refuses a body that does not say it is JSON. Reading a form
// or plain text as JSON would make a client's mistake look like success.
func requireJSON(contentType string) error {
	media, params, err := mime.ParseMediaType(contentType)
	isJSON := err == nil && (media == "application/json" || strings.HasPrefix(media, "application/") && strings.HasSuffix(media, "+json"))
	// JSON is UTF-8 (RFC 8259); a body in another charset would be misread.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		isJSON = false
	}
	if !isJSON {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Field: "Content-Type",
			Message: "send the body as Content-Type: application/json"}
	}
	return nil
}

// DecodeStrict decodes body into dst after checkDocument has vetted the
// keys and strings that encoding/json would let through: it matches keys
// case-insensitively and lets the last of two equal keys win.
func DecodeStrict(body []byte, dst any) error {
	if err := checkDocument(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return nil
	}
	var typeError *json.UnmarshalTypeError
	if errors.As(err, &typeError) {
		field := keyPath(reflect.TypeOf(dst), typeError.Field)
		return &Error{Status: http.StatusUnprocessableEntity, Code: "wrong_type", Field: field,
			Message: field + " must be of type " + jsonTypeName(typeError.Type.Kind())}
	}
	// checkDocument has already refused bad syntax and unknown keys, so
	// this is an error it does not foresee: still the client'k.
	return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body is not valid JSON: " + err.Error()}
}

func jsonTypeName(kind reflect.Kind) string {
	switch kind {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return kind.String()
}

// checkDocument walks the JSON document against the Go type it is meant
// for. It refuses, naming the field: a key that matches no field exactly, a
// key given twice in one object, a string holding U+0000, which neither
// PostgreSQL text nor jsonb can store, and a string that is not UTF-8,
// which encoding/json would silently turn into U+FFFD. Syntax errors and
// trailing data are a 400.
func checkDocument(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := walker{dec: dec, body: body}
	if err := w.value(t, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed(errors.New("extra data after the JSON object"))
	}
	return nil
}

func malformed(err error) error {
	if errors.Is(err, io.EOF) {
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body must be a JSON object"}
	}
	return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body is not valid JSON: " + err.Error()}
}

type walker struct {
	dec  *json.Decoder
	body []byte
}

// token reads the next token and refuses, naming field, one whose text in
// the body is not UTF-8: a byte sequence that is not, or an escaped
// surrogate (\uD800-\uDFFF) without its pair. The decoder would replace
// either with U+FFFD and carry on, storing something the client never sent.
func (w walker) token(field string) (json.Token, error) {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if _, isString := tok.(string); isString {
		if raw := w.body[start:w.dec.InputOffset()]; !utf8.Valid(raw) || hasLoneSurrogate(raw) {
			return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_utf8", Field: field,
				Message: "request body must be UTF-8: " + orBody(field) + " holds bytes that are not, or an unpaired \\u surrogate escape"}
		}
	}
	return tok, nil
}

func orBody(field string) string {
	if field == "" {
		return "a string"
	}
	return field
}

// hasLoneSurrogate reports whether the JSON text raw holds a \u escape of
// a UTF-16 surrogate that is not a high one followed at once by a low one.
// An escaped backslash is skipped whole, so "\\uD800" is not an escape.
func hasLoneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := escapedRune(raw[i+1:])
		if !ok {
			i++ // a two-byte escape such as \\ or \n
			continue
		}
		i += 5
		switch {
		case utf16.IsSurrogate(r) && r >= 0xDC00:
			return true // a low surrogate with no high one before it
		case utf16.IsSurrogate(r):
			low, ok := escapedRune(raw[min(i+2, len(raw)):])
			if i+1 >= len(raw) || raw[i+1] != '\\' || !ok || utf16.DecodeRune(r, low) == utf8.RuneError {
				return true
			}
			i += 6
		}
	}
	return false
}

// escapedRune reads the "uXXXX" of a \u escape at the start of b.
func escapedRune(b []byte) (rune, bool) {
	if len(b) < 5 || b[0] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[1:5]), 16, 16)
	return rune(n), err == nil
}

// value checks the next value, which belongs in a t (nil when anything
// goes there) at path.
func (w walker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			return w.object(t, path)
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err := w.dec.Token() // ']'
		if err != nil {
			return malformed(err)
		}
	case string:
		if strings.ContainsRune(tok, 0) {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_text", Field: path,
				Message: path + " must not contain the NUL character (U+0000)"}
		}
	}
	return nil
}

// object checks the members of an object whose '{' was just read.
func (w walker) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = JSONFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.token(path)
		if err != nil {
			return err
		}
		key := tok.(string) // inside an object, the decoder yields only string keys here
		field := key
		if path != "" {
			field = path + "." + key
		}
		if seen[key] {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "duplicate_field", Field: field,
				Message: field + " is given more than once"}
		}
		seen[key] = true
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				return unknownField(field, key, fields)
			}
			elem = ft
		}
		if strings.ContainsRune(key, 0) {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_text", Field: path,
				Message: "a key of " + path + " contains the NUL character (U+0000)"}
		}
		if err := w.value(elem, field); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return malformed(err)
	}
	return nil
}

func unknownField(field, key string, fields map[string]reflect.Type) error {
	msg := "unknown field " + strconv.Quote(key)
	for name := range fields {
		if strings.EqualFold(name, key) {
			msg += fmt.Sprintf(" (field names are case-sensitive: did you mean %q?)", name)
			break
		}
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_field", Field: field, Message: msg}
}

// fieldsCache holds JSONFields by struct type; request types are few and
// fixed, so it never grows past them.
var fieldsCache sync.Map

// JSONFields maps the exact JSON names of a struct's fields, as
// encoding/json names them, to their types.
func JSONFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldsCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, typ := range JSONFields(ft) {
					if _, taken := out[n]; !taken {
						out[n] = typ
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	fieldsCache.Store(t, out)
	return out
}
