package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

func TestKeptBackups(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		require.NoError(t, err)
		return v
	}
	// Two backups a day for 60 days, ending on Thursday 2026-11-26.
	var times []time.Time
	last := at("2026-11-26 18:00:00")
	for d := range 60 {
		day := last.AddDate(0, 0, -d)
		times = append(times, day, day.Add(-12*time.Hour))
	}
	keep := keptBackups(times, 7, 4)
	var kept []string
	for _, ts := range times {
		if keep[ts] {
			kept = append(kept, ts.Format(time.DateTime))
		}
	}
	slices.Sort(kept)
	require.Equal(t, []string{
		// The newest of ISO weeks 45 and 46: their Sundays.
		"2026-11-08 18:00:00", "2026-11-15 18:00:00",
		// The newest of each of the last 7 days; the 22nd is also the
		// newest of week 47, and the 26th of this week, 48.
		"2026-11-20 18:00:00", "2026-11-21 18:00:00", "2026-11-22 18:00:00", "2026-11-23 18:00:00",
		"2026-11-24 18:00:00", "2026-11-25 18:00:00", "2026-11-26 18:00:00",
	}, kept)

	require.Empty(t, keptBackups(nil, 7, 4))
	// Fewer backups than slots: all of them stay.
	few := []time.Time{at("2026-01-01 00:00:00"), at("2026-03-01 00:00:00")}
	require.Len(t, keptBackups(few, 7, 4), 2)
}

func TestPruneLeavesOtherFilesAlone(t *testing.T) {
	dir := t.TempDir()
	names := []string{"notes.txt", "augur-20261126T000000Z.dump.partial"}
	for d := range 10 {
		names = append(names, "augur-"+time.Date(2026, 11, 26-d, 3, 0, 0, 0, time.UTC).Format(backupLayout)+".dump")
	}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
	}
	removed, err := pruneBackups(dir, 7, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"augur-20261117T030000Z.dump", "augur-20261118T030000Z.dump", "augur-20261119T030000Z.dump"}, removed)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, len(names)-3)
}

// The round trip: seed every table Augur has, back it up with `web
// backup`, restore it with `web restore` into a new database, and find
// every table there with the same rows.
func TestBackupRoundTrip(t *testing.T) {
	for _, bin := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	o := newOpsEnv(t)
	ctx := context.Background()
	seedEveryTable(t, o.db)
	source, err := o.db.Tables(ctx)
	require.NoError(t, err)

	dir := t.TempDir()
	code, stdout, stderr := o.run(t, "web backup --dir "+dir)
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^backup (\S+augur-\d{8}T\d{6}Z\.dump) \((\d+) bytes\)\n$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	file := m[1]

	name := dbtest.UniqueName(t, "restored")
	code, stdout, stderr = o.run(t, "web restore --file "+file+" --db "+name)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "restored "+file+" into database "+name)
	require.Regexp(t, `schema version \d+, as this binary expects`, stdout)
	for _, tbl := range source {
		if tbl.Table == "jobs" {
			require.Regexp(t, fmt.Sprintf(`(?m)^jobs\s+%d$`, tbl.Rows), stdout, "the restore counts the jobs backed up")
		}
	}

	restored, err := store.Open(ctx, dbtest.URL(name))
	require.NoError(t, err)
	defer restored.Close()
	copied, err := restored.Tables(ctx)
	require.NoError(t, err)
	require.Equal(t, source, copied, "every table, its row count and the digest of its rows")
	for _, tbl := range source {
		if tbl.Table != "goose_db_version" {
			require.Positive(t, tbl.Rows, "seeded %s", tbl.Table)
		}
	}
	require.NoError(t, restored.CheckSchema(ctx))

	// Restore only ever makes a new database.
	code, _, stderr = o.run(t, "web restore --file "+file+" --db "+name)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "database "+name+" already exists")
}

// seedEveryTable puts rows in users, api_tokens, jobs (every status, with
// JSON params, results and progress) and price_bars, then fails if any
// other table is left empty: a table added later (portfolios, say) must
// be seeded here too, so the round trip covers it.
func seedEveryTable(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	owner := dbtest.User(t, db)
	require.NoError(t, db.CreateAPIToken(ctx, owner.ID, []byte("digest-1"), "laptop"))
	statuses := []store.JobStatus{store.StatusQueued, store.StatusRunning, store.StatusSucceeded, store.StatusFailed, store.StatusCanceled, store.StatusSucceeded}
	var computed uuid.UUID // the first job to succeed, whose result the last takes
	for i, status := range statuses {
		job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner.ID, Kind: store.KindPrediction, Ticker: "MSFT",
			Params: store.JSON(`{"models":["linreg","arima"],"horizon":7}`), Queue: "default",
			IdempotencyKey: "key-" + string(rune('a'+i)), RequestHash: []byte{byte(i)}, RequestID: "req-" + string(rune('a'+i))})
		require.NoError(t, err)
		// The running job claims a computation, and the last job takes
		// the result of the first that succeeded.
		if status == store.StatusRunning {
			started, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
			require.NoError(t, err)
			_, err = db.ClaimComputation(ctx, []byte("computation"), started.Attempt(), false, 0)
			require.NoError(t, err)
			continue
		}
		if i == len(statuses)-1 {
			started, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
			require.NoError(t, err)
			require.NoError(t, db.FinishReused(ctx, started.Attempt(), computed))
			continue
		}
		if status == store.StatusQueued {
			continue
		}
		started, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
		require.NoError(t, err)
		attempt := started.Attempt()
		require.NoError(t, db.SetProgress(ctx, attempt, 40, store.JSON(`{"stage":"arima","note":"ünïcode ✓"}`)))
		switch status {
		case store.StatusSucceeded:
			require.NoError(t, db.FinishJob(ctx, attempt, status, store.JSON(`{"forecast":[1.5,2.25,3.125]}`), ""))
			computed = job.ID
		case store.StatusFailed, store.StatusCanceled:
			require.NoError(t, db.FinishJob(ctx, attempt, status, nil, "it's \"quoted\""))
		}
	}
	var bars []market.Bar
	for d := range 30 {
		c := 100 + float64(d)/3
		bars = append(bars, market.Bar{Date: time.Date(2026, 10, 1+d, 0, 0, 0, 0, time.UTC),
			Open: c - 1, High: c + 1, Low: c - 2, Close: c, AdjClose: c * 0.99, Volume: int64(1_000_000 + d)})
	}
	require.NoError(t, db.SavePriceBars(ctx, "MSFT", "sample", bars))
	require.NoError(t, db.Weights("lstm").SaveWeights(ctx, []byte("fingerprint"), []byte{0, 1, 2, 0xff}))
	seedPortfolio(t, db, owner.ID)
	require.NoError(t, db.SessionStore(0).Commit("session-token", []byte("session data"), time.Now().Add(time.Hour)))
	require.NoError(t, db.KeepWorkerSlots(ctx, "worker-a", 2, time.Hour))
	// A watchlist, a batch of it, and a schedule that has run once.
	list, err := db.CreateWatchlist(ctx, owner.ID, "seeded", []string{"MSFT", "KO"})
	require.NoError(t, err)
	_, _, err = db.CreateBatch(ctx, store.NewBatch{OwnerID: owner.ID, WatchlistID: list.ID, Tickers: list.Tickers,
		Params: store.JSON(`{"models":["linreg"]}`), Queue: jobs.QueueLow}, 1000, store.DispatchRule{PerOwner: 1})
	require.NoError(t, err)
	_, err = db.CreateSchedule(ctx, store.NewSchedule{OwnerID: owner.ID, WatchlistID: list.ID, Cron: "30 17 * * 1-5",
		TimeZone: "America/New_York", Params: store.JSON(`{"models":["linreg"]}`), NextRunAt: time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	fired, err := db.FireDueSchedule(ctx, jobs.PlanOccurrence, 1000, store.DispatchRule{PerOwner: 1}, jobs.QueueLow)
	require.NoError(t, err)
	require.NotNil(t, fired)
	// Two-factor sign-in: an authenticator with its recovery codes, a
	// passkey, and a browser session's row.
	require.NoError(t, db.BeginTOTP(ctx, owner.ID, []byte("sealed secret")))
	require.NoError(t, db.ConfirmTOTP(ctx, owner.ID, 1, [][]byte{[]byte("code digest")}))
	require.NoError(t, db.AddPasskey(ctx, owner.ID, []byte("credential"), []byte(`{}`), "laptop"))
	require.NoError(t, db.RecordSession(ctx, "session-token", owner.ID, owner.SessionEpoch, "Firefox", "192.0.2.1"))
	// A webhook endpoint told of a job's end, with one attempt made.
	hook, err := db.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: uuid.New(), OwnerID: owner.ID,
		URL: "https://example.com/hook", Events: []string{store.EventCompleted}, Secret: []byte("sealed")})
	require.NoError(t, err)
	told, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner.ID, Kind: store.KindPrediction, Ticker: "KO", Queue: "default",
		Params: store.JSON(`{"webhook":"` + hook.ID.String() + `"}`)})
	require.NoError(t, err)
	started, err := db.StartJob(ctx, told.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))
	due, err := db.PendingWebhookDeliveries(ctx, told.ID)
	require.NoError(t, err)
	require.Len(t, due, 1)
	_, err = db.ClaimWebhookAttempt(ctx, due[0], time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.RecordWebhookAttempt(ctx, due[0], store.WebhookAttemptResult{Status: "succeeded",
		Attempt: store.WebhookAttempt{Outcome: "succeeded", LatencyMS: 3}}))
	// The audit trail.
	audit.New(db, slog.New(slog.DiscardHandler), nil).Record(ctx, audit.Event{Action: audit.SignIn, Target: audit.UserTarget(owner.ID)})
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	for _, tbl := range tables {
		if tbl.Rows == 0 {
			t.Fatalf("table %s is empty: seed it in seedEveryTable so the backup round trip covers it", tbl.Table)
		}
	}
}

// seedPortfolio fills every portfolio table: a company, a broker, a wallet
// with a deposit, a holding from a buy, and a dividend on it.
func seedPortfolio(t *testing.T, db *store.DB, userID int64) {
	t.Helper()
	ctx := context.Background()
	_, _, err := db.EnsureCompany(ctx, store.Company{Symbol: "MSFT", Name: "Microsoft Corporation", Exchange: "NASDAQ", Sector: "Technology", Active: true})
	require.NoError(t, err)
	_, _, err = db.EnsureBroker(ctx, store.Broker{Name: "Thrifty Trades", Email: "desk@thrifty.example", CommissionRate: decimal.RequireFromString("0.10"), Active: true})
	require.NoError(t, err)
	_, _, err = db.Deposit(ctx, userID, decimal.RequireFromString("1000.00"), store.Idempotency{})
	require.NoError(t, err)
	_, _, err = db.PlaceOrder(ctx, store.Order{UserID: userID, Symbol: "MSFT", Side: store.SideBuy, Quantity: decimal.RequireFromString("3"),
		Quote: portfolio.Quote{Symbol: "MSFT", Price: decimal.RequireFromString("43.38"), Date: time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC), Source: "sample"}})
	require.NoError(t, err)
	_, err = db.RecordDividend(ctx, userID, "MSFT", decimal.RequireFromString("0.08"))
	require.NoError(t, err)
}
