package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/web/kernel"
)

// Listing page sizes.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageLimit reads the "limit" query parameter of a listing.
func pageLimit(c *gin.Context) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "out_of_range", Field: "limit",
			Message: fmt.Sprintf("limit must be a whole number from 1 to %d", maxPageSize)}
	}
	return n, nil
}

// pageRequest reads a listing's limit and cursor query parameters, the
// cursor through decode. A nil cursor means the first page.
func pageRequest[C any](c *gin.Context, decode func(string) (*C, error)) (limit int, after *C, err error) {
	if limit, err = pageLimit(c); err != nil {
		return 0, nil, err
	}
	if raw := c.Query("cursor"); raw != "" {
		if after, err = decode(raw); err != nil {
			return 0, nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor",
				Message: "cursor must be a next_cursor value from an earlier page"}
		}
	}
	return limit, after, nil
}

// writePage answers one page of a listing under key: up to limit views of
// list, which was read with one row more than asked to tell whether a next
// page exists, and then next_cursor, made from the last row shown.
func writePage[T, V any](c *gin.Context, key string, list []T, limit int, view func(*T) V, cursor func(*T) string) {
	views := make([]V, 0, limit)
	for i := range list[:min(limit, len(list))] {
		views = append(views, view(&list[i]))
	}
	out := gin.H{key: views}
	if len(list) > limit {
		out["next_cursor"] = cursor(&list[limit-1])
	}
	c.JSON(http.StatusOK, out)
}

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
