package dbtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Test databases are pooled: a database a finished test hands back is
// emptied and given to the next test, instead of a new copy of the template
// each time. Creating and dropping a database each cost many times what
// emptying a few tables does (a copy writes the whole template; a drop
// scans every shared buffer).
//
// Emptied must mean exactly what a fresh copy of the template is, or a test
// would see what an earlier one left. So a database goes back to the pool
// only when, compared with the template as migrated:
//   - no session of the test is still connected (a leaked one could hold an
//     advisory lock, LISTEN, or write later) and no prepared transaction is
//     left;
//   - its schema is the same: tables, columns, defaults, constraints,
//     indexes, triggers, functions, types, sequences' settings, grants and
//     the database's settings (a fault test adds a trigger, say);
//   - the rows migrations inserted (goose's version table, any seeded rows)
//     are the same rows, in the same physical order.
//
// Then every other table that has rows is truncated, which gives it new
// empty files as a fresh copy has, and every sequence is set back to the
// template's value. A database that fails a check is retired: it is not
// reused and Main drops it, as every database was dropped before pooling.

// snapshot is what release compares a database with, and restores: the
// template's state right after migrating.
type snapshot struct {
	// schema is the fingerprint of the schema (fingerprintQuery).
	schema string
	// nonEmptyQuery returns which of the tables that had no rows (quoted)
	// have rows now.
	nonEmptyQuery string
	// seededQuery hashes the rows of the tables migrations filled, and
	// seeded is its answer on the template.
	seededQuery string
	seeded      string
	// restoreSequences sets every sequence back to the template's value.
	restoreSequences string
}

// userNamespaces selects the schemas a test's objects live in, leaving out
// the system ones and each session's temporary ones (which outlive their
// session as empty schemas).
const userNamespaces = `(SELECT oid FROM pg_namespace
	WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
	AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%')`

// fingerprintQuery describes everything in a database's schema that a test
// could change and a later test would notice, as one hash. Object ids are
// part of it, so an object dropped and created again differs too. It leaves
// out what PostgreSQL changes by itself (statistics, relfilenodes,
// relhastriggers).
const fingerprintQuery = `WITH ns AS ` + userNamespaces + `,
rel AS (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns))
SELECT md5(coalesce(string_agg(line, E'\n' ORDER BY line), '')) FROM (
	SELECT format('namespace %s %s %s', oid, nspname, nspacl) AS line FROM pg_namespace WHERE oid IN (SELECT oid FROM ns)
	UNION ALL SELECT format('class %s %s %s %s %s %s %s %s %s %s', oid, relnamespace, relname, relkind, relpersistence,
		relnatts, relacl, reloptions, relrowsecurity, relreplident) FROM pg_class WHERE oid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('column %s %s %s %s %s %s %s %s %s %s', attrelid, attnum, attname, atttypid, atttypmod,
		attnotnull, attisdropped, attidentity, attgenerated, attcollation)
		FROM pg_attribute WHERE attnum > 0 AND attrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('default %s %s %s %s', oid, adrelid, adnum, pg_get_expr(adbin, adrelid))
		FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('constraint %s %s %s %s', oid, conname, convalidated, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ns)
	UNION ALL SELECT format('index %s %s %s %s', indexrelid, indisvalid, indisready, pg_get_indexdef(indexrelid))
		FROM pg_index WHERE indrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('trigger %s %s %s %s %s', oid, tgrelid, tgname, tgenabled, tgfoid)
		FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('rule %s %s %s %s', oid, ev_class, ev_enabled, md5(ev_action::text))
		FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM rel)
	UNION ALL SELECT format('policy %s %s', oid, polrelid) FROM pg_policy WHERE polrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('inherits %s %s', inhrelid, inhparent) FROM pg_inherits WHERE inhrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('sequence %s %s %s %s %s %s %s', seqrelid, seqstart, seqincrement, seqmin, seqmax, seqcache, seqcycle)
		FROM pg_sequence WHERE seqrelid IN (SELECT oid FROM rel)
	UNION ALL SELECT format('function %s %s %s %s %s', oid, proname, md5(prosrc), proconfig, proacl)
		FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ns)
	UNION ALL SELECT format('type %s %s', oid, typname) FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns)
	UNION ALL SELECT format('enum %s %s %s', oid, enumtypid, enumlabel) FROM pg_enum
		WHERE enumtypid IN (SELECT oid FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns))
	UNION ALL SELECT format('extension %s %s %s', oid, extname, extversion) FROM pg_extension
	UNION ALL SELECT format('event trigger %s %s', oid, evtenabled) FROM pg_event_trigger
	UNION ALL SELECT format('setting %s %s', setrole, setconfig) FROM pg_db_role_setting
		WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS schema`

// takeSnapshot reads a freshly migrated database's state.
func takeSnapshot(ctx context.Context, db *sqlx.DB) (*snapshot, error) {
	s := &snapshot{}
	if err := db.GetContext(ctx, &s.schema, fingerprintQuery); err != nil {
		return nil, fmt.Errorf("schema fingerprint: %w", err)
	}
	var tables []string
	if err := db.SelectContext(ctx, &tables, `SELECT format('%I.%I', n.nspname, c.relname)
		FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND c.relnamespace IN `+userNamespaces+` ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var seeded []string
	if len(tables) > 0 {
		if err := db.SelectContext(ctx, &seeded, nonEmptyQuery(tables)); err != nil {
			return nil, fmt.Errorf("find seeded tables: %w", err)
		}
	}
	var empty, hashes []string
	for _, table := range tables {
		if slices.Contains(seeded, table) {
			hashes = append(hashes, `(SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.ctid), '')) FROM `+table+` AS t)`)
		} else {
			empty = append(empty, table)
		}
	}
	if len(empty) > 0 {
		s.nonEmptyQuery = nonEmptyQuery(empty)
	}
	if len(hashes) > 0 {
		s.seededQuery = `SELECT concat_ws(' ', ` + strings.Join(hashes, ", ") + `)`
		if err := db.GetContext(ctx, &s.seeded, s.seededQuery); err != nil {
			return nil, fmt.Errorf("hash seeded rows: %w", err)
		}
	}
	// A sequence never used has no last_value; setval(…, start, false)
	// makes nextval return start again, as on the template.
	if err := db.GetContext(ctx, &s.restoreSequences, `SELECT coalesce('SELECT ' || string_agg(
		format('setval(%L, %s, %s)', format('%I.%I', schemaname, sequencename), coalesce(last_value, start_value), (last_value IS NOT NULL)::text),
		', '), '') FROM pg_sequences WHERE schemaname NOT LIKE 'pg\_temp\_%'`); err != nil {
		return nil, fmt.Errorf("read sequences: %w", err)
	}
	return s, nil
}

// nonEmptyQuery returns the names of those of tables (quoted) that have
// rows.
func nonEmptyQuery(tables []string) string {
	selects := make([]string, len(tables))
	for i, table := range tables {
		selects[i] = `SELECT ` + pq.QuoteLiteral(table) + ` WHERE EXISTS (SELECT 1 FROM ` + table + `)`
	}
	return strings.Join(selects, "\nUNION ALL ")
}

// errRetired explains why a database is not reused.
var errRetired = errors.New("not reused")

// release makes a test database that its test no longer uses as it was when
// copied from the template, or returns why it cannot be reused.
func (s *snapshot) release(ctx context.Context, admin *sqlx.DB, name string) error {
	if err := awaitNoSessions(ctx, admin, name); err != nil {
		return err
	}
	db, err := sqlx.Open("postgres", URL(name))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var schema string
	if err := conn.GetContext(ctx, &schema, fingerprintQuery); err != nil {
		return fmt.Errorf("schema fingerprint: %w", err)
	}
	if schema != s.schema {
		return fmt.Errorf("%w: the test changed its schema", errRetired)
	}
	var dirty []string
	if s.nonEmptyQuery != "" {
		if err := conn.SelectContext(ctx, &dirty, s.nonEmptyQuery); err != nil {
			return fmt.Errorf("find tables with rows: %w", err)
		}
	}
	// Nothing here needs to survive a crash of the server.
	reset := "SET synchronous_commit = off;\n"
	if len(dirty) > 0 {
		// CASCADE is only a safeguard: every table with rows is listed.
		// The replica role keeps triggers from firing, among them the
		// audit trail's, which refuses TRUNCATE to everyone else.
		reset += "SET session_replication_role = replica;\nTRUNCATE " + strings.Join(dirty, ", ") + " CASCADE;\nRESET session_replication_role;\n"
	}
	if _, err := conn.ExecContext(ctx, reset+s.restoreSequences); err != nil {
		return fmt.Errorf("empty tables: %w", err)
	}
	if s.seededQuery != "" {
		var seeded string
		if err := conn.GetContext(ctx, &seeded, s.seededQuery); err != nil {
			return fmt.Errorf("hash seeded rows: %w", err)
		}
		if seeded != s.seeded {
			return fmt.Errorf("%w: the rows migrations inserted changed", errRetired)
		}
	}
	return nil
}

// sessionsGrace is how long a closed connection's server process may take
// to go; one still there after it is a leak.
var sessionsGrace = time.Second

// awaitNoSessions waits until no client is connected to the database and
// no prepared transaction is left in it.
func awaitNoSessions(ctx context.Context, admin *sqlx.DB, name string) error {
	deadline := time.Now().Add(sessionsGrace)
	pause := time.Millisecond
	for {
		var sessions, prepared int
		err := admin.QueryRowxContext(ctx, `SELECT
			(SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'),
			(SELECT count(*) FROM pg_prepared_xacts WHERE database = $1)`, name).Scan(&sessions, &prepared)
		if err != nil {
			return fmt.Errorf("count sessions: %w", err)
		}
		if prepared > 0 {
			return fmt.Errorf("%w: %d prepared transactions left", errRetired, prepared)
		}
		if sessions == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d connections still open after the test", errRetired, sessions)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
