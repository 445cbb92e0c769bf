-- +goose Up
-- A prediction's result is about 20 kB of JSON, which PostgreSQL compresses
-- when the job finishes. With the default pglz, compressing it was about a
-- third of the PostgreSQL CPU a cheap job costs (BenchmarkCheapJob); lz4
-- does it several times faster, for a stored value of 9 kB rather than
-- 7 kB. Results written before keep their compression, and read the same.
ALTER TABLE jobs ALTER COLUMN result SET COMPRESSION lz4;

-- +goose Down
ALTER TABLE jobs ALTER COLUMN result SET COMPRESSION default;
