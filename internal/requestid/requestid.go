// Package requestid follows one request from the web server's log line to
// every worker log line about the job it created: the id travels in the
// context, in the job row and in the asynq task's headers, and a slog
// handler adds it to every line logged with that context.
package requestid

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
)

// Header is the HTTP header a request id is read from and answered in.
const Header = "X-Request-ID"

// maxLen bounds an id taken from a client: it lands in every log line and
// a database column, so a client must not be able to make it large.
const maxLen = 64

// Accept returns the client's id when it is sane (1 to 64 characters of
// letters, digits, '-', '_', '.' and ':'), and otherwise a new random one.
// Anything else could forge log structure or carry a secret into logs.
func Accept(header string) string {
	if sane(header) {
		return header
	}
	return uuid.NewString()
}

func sane(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

type key struct{}

// With returns ctx carrying the request id; an empty id leaves ctx as it is.
func With(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Attr is the log attribute's key.
const Attr = "request_id"

// NewHandler wraps h so that every record logged with a context carrying a
// request id gets it as the request_id attribute. The id then reaches every
// line without each call site remembering to add it.
func NewHandler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name)}
}
