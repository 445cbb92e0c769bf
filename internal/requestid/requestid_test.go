package requestid

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestAccept(t *testing.T) {
	for _, id := range []string{"abc", "client-req-42", "A.b_c:d-9", strings.Repeat("x", 64)} {
		require.Equal(t, id, Accept(id), "a sane id is kept")
	}
	for _, id := range []string{"", strings.Repeat("x", 65), "has space", `quote"`, "new\nline", "ünï", "Bearer abc/def="} {
		got := Accept(id)
		require.NotEqual(t, id, got, "%q is replaced", id)
		_, err := uuid.Parse(got)
		require.NoError(t, err, "by a fresh uuid")
	}
}

func TestHandlerAddsTheIDOfTheContext(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	logger.InfoContext(With(context.Background(), "req-1"), "with")
	logger.InfoContext(context.Background(), "without")
	logger.WithGroup("g").InfoContext(With(context.Background(), "req-2"), "grouped", "k", "v")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	require.Equal(t, "req-1", rec[Attr])
	require.Equal(t, "test", rec["component"])
	rec = nil
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec))
	require.NotContains(t, rec, Attr)
	require.Contains(t, lines[2], `"request_id":"req-2"`)
	require.Equal(t, "", From(With(context.Background(), "")), "an empty id adds nothing")
}
