package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGoRedisLinesAreJSON: go-redis's own lines (here, one its Sentinel
// client writes on a failover) come out as the process's JSON log lines.
func TestGoRedisLinesAreJSON(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	redisLog{slog.New(slog.NewJSONHandler(&out, nil))}.Printf(context.Background(), "sentinel: new master=%q addr=%q", "mymaster", "10.0.0.7:6379")
	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line), out.String())
	require.Equal(t, "WARN", line["level"])
	require.Equal(t, "go-redis", line["component"])
	require.Equal(t, `sentinel: new master="mymaster" addr="10.0.0.7:6379"`, line["msg"])
}
