package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// encodeKeyset writes a keyset cursor, a row's creation time and id, as
// an opaque URL-safe token; every listing's cursor uses it.
func encodeKeyset(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(createdAt.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// decodeKeyset reads a token that encodeKeyset wrote; the caller parses
// the id.
func decodeKeyset(raw string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", errors.New("malformed cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", err
	}
	return t, id, nil
}
