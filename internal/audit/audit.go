// Package audit is Augur's audit trail: an append-only, hash-chained log
// in PostgreSQL of who did what to what, from where, and how it ended.
//
// Each row's hash is SHA-256 over a canonical encoding of the row and the
// hash of the row before it (Seal), so an edited row, a deleted one or two
// swapped ones break the chain where Verify finds them. Appends are
// serialised by a transaction-level advisory lock (store.AppendAudit), so
// the chain never forks. A trigger refuses UPDATE, DELETE and TRUNCATE,
// except retention's own deletes, which remove only the oldest rows: the
// chain verifies from the oldest row kept.
//
// Handlers record with one line, s.Audit.Record(ctx, audit.Event{...});
// the actor, IP and request id come from the request's context, where the
// web kernel puts them (WithActor, WithClient).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os/user"
	"strconv"
	"sync"

	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
)

// Action is what an audit row records; the constants are the whole
// vocabulary, so that a search by action finds every row of its kind.
type Action string

// The audited actions.
const (
	SignIn          Action = "auth.signin"
	SignInFailed    Action = "auth.signin_failed"
	SignInLocked    Action = "auth.locked"
	SignOut         Action = "auth.signout"
	Registered      Action = "account.registered"
	PasswordChanged Action = "account.password_changed"
	TokenCreated    Action = "token.created"
	TokenRevoked    Action = "token.revoked"
	UserUpdated     Action = "admin.user_updated"
	RoleChanged     Action = "admin.role_changed"
	UserCreated     Action = "admin.user_created"
	CompanyCreated  Action = "admin.company_created"
	CompanyUpdated  Action = "admin.company_updated"
	BrokerCreated   Action = "admin.broker_created"
	BrokerUpdated   Action = "admin.broker_updated"
	QueueRetry      Action = "queue.retry"
	QueueDelete     Action = "queue.delete"
	QueuePause      Action = "queue.pause"
	QueueResume     Action = "queue.resume"
	JobCanceled     Action = "job.canceled_by_operator"
	Trade           Action = "portfolio.trade"
	Deposit         Action = "portfolio.deposit"
	Pruned          Action = "audit.pruned"

	// The second factor's events (issue 19 items 1-4), for the handlers
	// that make them to record.
	TwoFactorEnabled  Action = "account.2fa_enabled"
	TwoFactorDisabled Action = "account.2fa_disabled"
	TwoFactorReset    Action = "admin.2fa_reset"
	RecoveryCodeUsed  Action = "auth.recovery_code_used"
	PasskeyAdded      Action = "account.passkey_added"
	PasskeyRemoved    Action = "account.passkey_removed"
	SessionsRevoked   Action = "account.sessions_revoked"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Refused = "refused"
)

// Actor is who acted: a user, or a name such as "cli:ann" or "system".
type Actor struct {
	UserID int64 // 0 when not a user
	Name   string
}

// System is the actor of what Augur does by itself (retention).
var System = Actor{Name: "system"}

// CLI is the actor of an operator command: the OS user who ran it.
func CLI() Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return Actor{Name: "cli:" + name}
}

// UserActor is a signed-in user, named by email.
func UserActor(id int64, email string) Actor { return Actor{UserID: id, Name: email} }

type ctxKey int

const (
	actorKey ctxKey = iota
	clientKey
)

// actorRef is shared by the request's contexts, so that sign-in, which
// learns the actor mid-request, can name it for the rest.
type actorRef struct {
	mu    sync.Mutex
	actor Actor
}

// WithClient gives ctx the client's IP, and a place for its actor that
// SetActor fills in later in the same request.
func WithClient(ctx context.Context, ip string) context.Context {
	return context.WithValue(context.WithValue(ctx, clientKey, ip), actorKey, &actorRef{})
}

// SetActor names the actor of the request ctx belongs to (after
// WithClient); elsewhere it does nothing.
func SetActor(ctx context.Context, a Actor) {
	if ref, ok := ctx.Value(actorKey).(*actorRef); ok {
		ref.mu.Lock()
		ref.actor = a
		ref.mu.Unlock()
	}
}

// WithActor returns ctx acting as a, for work outside a request (the CLI,
// retention).
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, &actorRef{actor: a})
}

func actorOf(ctx context.Context) Actor {
	if ref, ok := ctx.Value(actorKey).(*actorRef); ok {
		ref.mu.Lock()
		defer ref.mu.Unlock()
		if ref.actor.Name != "" {
			return ref.actor
		}
	}
	return Actor{Name: "anonymous"}
}

// UserTarget names a user as the target of a row.
func UserTarget(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// Event is one action to record.
type Event struct {
	Action Action
	// Target names what was acted on, e.g. "user:7", "queue:default".
	Target string
	// Outcome is Success when empty.
	Outcome string
	// Actor overrides the context's actor, e.g. the account a failed
	// sign-in tried.
	Actor *Actor
	// Details are extra facts, strings only, so that their encoding is
	// canonical.
	Details map[string]string
}

// Log records events in PostgreSQL, and as JSON lines on siem when set.
type Log struct {
	db     *store.DB
	logger *slog.Logger
	siem   *json.Encoder
	siemMu sync.Mutex
}

// New returns the audit log on db. Failures to record are logged on logger;
// every row recorded is also written to siem as a JSON line, when not nil.
func New(db *store.DB, logger *slog.Logger, siem io.Writer) *Log {
	l := &Log{db: db, logger: logger}
	if siem != nil {
		l.siem = json.NewEncoder(siem)
	}
	return l
}

// Record appends e in a transaction of its own. A failure is logged, not
// returned: the action it records has already happened, and its answer
// must not change for want of the audit row.
func (l *Log) Record(ctx context.Context, e Event) {
	a := l.Append(ctx, e)
	if err := l.db.AppendAudit(ctx, a); err != nil {
		l.logger.ErrorContext(ctx, "audit row not recorded", "action", string(e.Action), "target", e.Target, "err", err)
		return
	}
	l.Emit(a.Entry)
}

// RecordResult records e with the outcome err gives: as it is when err is
// nil, else as a failure whose details name err. It returns err, so that
// a caller audits an action and goes on with its error in one line.
func (l *Log) RecordResult(ctx context.Context, e Event, err error) error {
	if err != nil {
		e.Outcome = Failure
		e.Details = maps.Clone(e.Details)
		if e.Details == nil {
			e.Details = map[string]string{}
		}
		e.Details["error"] = err.Error()
	}
	l.Record(ctx, e)
	return err
}

// Append returns e as a row for a store method to append in the
// transaction of the change it records; once that has committed, call Emit.
func (l *Log) Append(ctx context.Context, e Event) *store.AuditAppend {
	actor := actorOf(ctx)
	if e.Actor != nil {
		actor = *e.Actor
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	entry := &store.AuditEntry{
		Actor: actor.Name, Action: string(e.Action), Target: e.Target, Outcome: e.Outcome,
		RequestID: requestid.From(ctx), Details: canonicalDetails(e.Details),
	}
	if ip, ok := ctx.Value(clientKey).(string); ok {
		entry.IP = ip
	}
	if actor.UserID != 0 {
		entry.ActorID = &actor.UserID
	}
	return &store.AuditAppend{Entry: entry, Seal: Seal}
}

// Emit writes a recorded row to the SIEM stream, when there is one.
func (l *Log) Emit(e *store.AuditEntry) {
	if l.siem == nil {
		return
	}
	l.siemMu.Lock()
	defer l.siemMu.Unlock()
	if err := l.siem.Encode(e); err != nil {
		l.logger.Error("audit row not written to the SIEM stream", "id", e.ID, "err", err)
	}
}

// canonicalDetails encodes details as a JSON object with sorted keys
// (encoding/json sorts a map's), the form the hash covers; jsonb gives
// strings back unchanged, so the form read back is the same.
func canonicalDetails(details map[string]string) store.JSON {
	if details == nil {
		details = map[string]string{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		panic(fmt.Sprintf("marshal a map of strings: %v", err)) // cannot happen
	}
	return b
}

// Seal is the hash of e: SHA-256 over a JSON array of every field but the
// hash itself, in a fixed order, time as Unix microseconds (PostgreSQL's
// precision), details re-encoded canonically, and the previous hash.
func Seal(e *store.AuditEntry) []byte {
	var details map[string]string
	if err := json.Unmarshal(e.Details, &details); err != nil {
		// Not an object of strings: hash the bytes as they are, which no
		// row Append wrote can match.
		details = map[string]string{"!raw": string(e.Details)}
	}
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	b, err := json.Marshal([]any{
		e.ID, e.At.UnixMicro(), actorID, e.Actor, e.Action, e.Target, e.IP, e.RequestID, e.Outcome,
		canonicalDetails(details), hex.EncodeToString(e.PrevHash),
	})
	if err != nil {
		panic(fmt.Sprintf("marshal an audit row: %v", err)) // strings and numbers only
	}
	sum := sha256.Sum256(b)
	return sum[:]
}
