package kernel

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// The listings of the API and admin share their paging: a limit, an
// opaque cursor, and next_cursor when a next page exists.

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
		return 0, &Error{Status: http.StatusUnprocessableEntity, Code: "out_of_range", Field: "limit",
			Message: fmt.Sprintf("limit must be a whole number from 1 to %d", maxPageSize)}
	}
	return n, nil
}

// PageRequest reads a listing's limit and cursor query parameters, the
// cursor through decode. A nil cursor means the first page.
func PageRequest[C any](c *gin.Context, decode func(string) (*C, error)) (limit int, after *C, err error) {
	if limit, err = pageLimit(c); err != nil {
		return 0, nil, err
	}
	if raw := c.Query("cursor"); raw != "" {
		if after, err = decode(raw); err != nil {
			return 0, nil, &Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor",
				Message: "cursor must be a next_cursor value from an earlier page"}
		}
	}
	return limit, after, nil
}

// WritePage answers one page of a listing under key: up to limit views of
// list, which was read with one row more than asked to tell whether a next
// page exists, and then next_cursor, made from the last row shown.
func WritePage[T, V any](c *gin.Context, key string, list []T, limit int, view func(*T) V, cursor func(*T) string) {
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
