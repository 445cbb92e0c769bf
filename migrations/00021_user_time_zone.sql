-- +goose Up
-- The clock a user reads times on (an IANA zone name); '' means the
-- browser's own, the default. A constant default: no table rewrite.
ALTER TABLE users ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN IF EXISTS time_zone;
