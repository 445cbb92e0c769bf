package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON is a jsonb column. NULL scans as nil, and scanned bytes are copied,
// because the driver may reuse its buffer for the next row.
type JSON json.RawMessage

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(JSON(nil), v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("scan %T into store.JSON", src)
	}
	return nil
}

// Value implements driver.Valuer; an empty document is NULL.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return []byte(j), nil
}

// UnmarshalJSON keeps the document as it is, copied.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append(JSON(nil), b...)
	return nil
}

// MarshalJSON writes the document as is, and null when empty.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}
