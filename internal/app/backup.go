package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/store"
)

// Backups are pg_dump's custom format, made and restored by the binaries
// that PostgreSQL ships, driven from here rather than from a shell script:
// the command reads DATABASE_URL as the programs do and never puts its
// password on a command line, the rotation rule has a unit test, and
// restore checks the schema version against the migrations embedded in
// this very binary.

func backupCommands() []command {
	return []command{
		{name: "backup", synopsis: "[--dir backups] [--daily 7] [--weekly 4]",
			summary: "write a pg_dump (custom format) of the database to a timestamped file, then keep only the newest daily and weekly ones",
			parse: withFlags(func(fs *flag.FlagSet) action {
				dir := fs.String("dir", "backups", "folder of the backups")
				daily := fs.Int("daily", 7, "days whose newest backup is kept")
				weekly := fs.Int("weekly", 4, "ISO weeks whose newest backup is kept")
				return func(ctx context.Context, env *runtimeEnv) error {
					if *daily < 1 || *weekly < 0 {
						return usageError{errors.New("--daily must be at least 1 and --weekly at least 0")}
					}
					return backup(ctx, env, *dir, *daily, *weekly)
				}
			})},
		{name: "restore", synopsis: "--file FILE [--db NAME]",
			summary: "restore a backup into a new database on DATABASE_URL's server and check its schema version",
			parse: withFlags(func(fs *flag.FlagSet) action {
				file := fs.String("file", "", "the backup to restore (required)")
				name := fs.String("db", "", "name of the new database (default augur_restore_<time of the backup>)")
				return func(ctx context.Context, env *runtimeEnv) error {
					if *file == "" {
						return usageError{errors.New("--file is required")}
					}
					return restore(ctx, env, *file, *name)
				}
			})},
	}
}

// backupLayout is the UTC time in a backup's file name, augur-<time>.dump:
// it sorts, and tells the day and the week that the rotation needs.
const backupLayout = "20060102T150405Z"

// backupFile matches the names of the files that backup writes, the only
// ones that pruning may delete.
var backupFile = regexp.MustCompile(`^augur-(\d{8}T\d{6}Z)\.dump$`)

func backup(ctx context.Context, env *runtimeEnv, dir string, daily, weekly int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup folder: %w", err)
	}
	now := time.Now().UTC()
	path := filepath.Join(dir, "augur-"+now.Format(backupLayout)+".dump")
	// Written under another name and renamed when complete, so that a
	// failed dump never counts as a backup, nor pushes a good one out.
	partial := path + ".partial"
	err := runPG(ctx, env, "pg_dump", env.cfg.DatabaseURL, "--format=custom", "--file="+partial)
	if err != nil {
		os.Remove(partial)
		return err
	}
	if err := os.Rename(partial, path); err != nil {
		return fmt.Errorf("finish backup: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "backup %s (%d bytes)\n", path, info.Size())
	removed, err := pruneBackups(dir, daily, weekly)
	for _, name := range removed {
		fmt.Fprintf(env.stdout, "removed old backup %s\n", filepath.Join(dir, name))
	}
	return err
}

// pruneBackups deletes the backups in dir that keptBackups does not keep,
// and returns their names. Files of other names are left alone.
func pruneBackups(dir string, daily, weekly int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	byTime := map[time.Time]string{}
	for _, e := range entries {
		m := backupFile.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(backupLayout, m[1])
		if err != nil {
			continue
		}
		byTime[t] = e.Name()
	}
	keep := keptBackups(slices.Collect(maps.Keys(byTime)), daily, weekly)
	var removed []string
	for t, name := range byTime {
		if keep[t] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove old backup: %w", err)
		}
		removed = append(removed, name)
	}
	slices.Sort(removed)
	return removed, nil
}

// keptBackups is the rotation rule: the newest backup of each of the
// `daily` most recent days that have one, and the newest of each of the
// `weekly` most recent ISO weeks that have one. A backup can count for
// both.
func keptBackups(times []time.Time, daily, weekly int) map[time.Time]bool {
	newestFirst := slices.SortedFunc(slices.Values(times), func(a, b time.Time) int { return b.Compare(a) })
	keep := map[time.Time]bool{}
	days, weeks := map[string]bool{}, map[string]bool{}
	for _, t := range newestFirst {
		day := t.UTC().Format(time.DateOnly)
		if !days[day] && len(days) < daily {
			days[day] = true
			keep[t] = true
		}
		year, week := t.UTC().ISOWeek()
		key := fmt.Sprintf("%d-W%02d", year, week)
		if !weeks[key] && len(weeks) < weekly {
			weeks[key] = true
			keep[t] = true
		}
	}
	return keep
}

func restore(ctx context.Context, env *runtimeEnv, file, name string) error {
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	if name == "" {
		name = "augur_restore_" + time.Now().UTC().Format("20060102_150405")
		if m := backupFile.FindStringSubmatch(filepath.Base(file)); m != nil {
			name = "augur_restore_" + strings.ToLower(m[1])
		}
	}
	target, err := databaseURL(env.cfg.DatabaseURL, name)
	if err != nil {
		return err
	}
	created, err := store.CreateDatabase(ctx, target)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("database %s already exists: restore only ever goes into a new database", name)
	}
	// Ownership and grants belong to the server the dump came from.
	if err := runPG(ctx, env, "pg_restore", target, "--no-owner", "--no-privileges", "--exit-on-error", file); err != nil {
		return fmt.Errorf("%w (database %s is left as it is, for a look; drop it before trying again)", err, name)
	}
	db, err := store.Open(ctx, target)
	if err != nil {
		return err
	}
	defer db.Close()
	current, wanted, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("restored database %s: %w", name, err)
	}
	tables, err := db.Tables(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "restored %s into database %s\n\nTABLE\tROWS\n", file, name)
	for _, t := range tables {
		fmt.Fprintf(w, "%s\t%d\n", t.Table, t.Rows)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	redacted := redact("DATABASE_URL", target)
	switch {
	case current == wanted:
		fmt.Fprintf(env.stdout, "\nschema version %d, as this binary expects. To use it, set DATABASE_URL=%s and restart web and worker.\n", current, redacted)
	case current < wanted:
		fmt.Fprintf(env.stdout, "\nschema version %d, behind this binary's %d: run `web migrate` with DATABASE_URL=%s before using it.\n", current, wanted, redacted)
	default:
		return fmt.Errorf("restored database %s has schema version %d, newer than this binary's %d: restore it with the release that made it", name, current, wanted)
	}
	return nil
}

// databaseURL returns url with its database name replaced.
func databaseURL(url, name string) (string, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return "", errors.New("DATABASE_URL does not parse")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redact masks a setting's value as `web config` does.
func redact(setting, value string) string {
	for _, s := range config.Settings() {
		if s.Name == setting {
			return s.Redact(value)
		}
	}
	return value
}

// runPG runs one of PostgreSQL's client programs on the database at url.
// The password goes through PGPASSWORD, not the command line, where any
// user of the machine could read it; output goes to the command's stderr.
func runPG(ctx context.Context, env *runtimeEnv, program, url string, args ...string) error {
	bin, err := exec.LookPath(program)
	if err != nil {
		return fmt.Errorf("%s is needed (Debian: apt-get install postgresql-client, of the server's major version or newer): %w", program, err)
	}
	u, err := neturl.Parse(url)
	if err != nil {
		return errors.New("DATABASE_URL does not parse")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--dbname="+withoutPassword(u))...)
	cmd.Env = os.Environ()
	if password, ok := u.User.Password(); ok {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	cmd.Stdout, cmd.Stderr = env.stderr, env.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", program, err)
	}
	return nil
}

func withoutPassword(u *neturl.URL) string {
	c := *u
	if c.User != nil {
		c.User = neturl.User(c.User.Username())
	}
	return c.String()
}
