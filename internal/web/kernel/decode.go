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
		return &Error{Status: http.StatusUnprocessableEntity, Code: "wrong_type", Field: typeError.Field,
			Message: typeError.Field + " must be of type " + jsonTypeName(typeError.Type.Kind())}
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
// key given twice in one object, and a string holding U+0000, which neither
// PostgreSQL text nor jsonb can store. Syntax errors and trailing data are
// a 400.
func checkDocument(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := walker{dec: dec}
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

type walker struct{ dec *json.Decoder }

// value checks the next value, which belongs in a t (nil when anything
// goes there) at path.
func (w walker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := w.dec.Token()
	if err != nil {
		return malformed(err)
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
		tok, err := w.dec.Token()
		if err != nil {
			return malformed(err)
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
