package app

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// commandEnv is what a command gets, on a migrated database of the test's
// own that the command opens by URL, as the program does.
func commandEnv(t *testing.T, stdin string) (*runtimeEnv, *store.DB, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	dbtest.Postgres(t, "app") // proves the server is there
	url := dbtest.URL(dbtest.UniqueName(t, "cli"))
	_, err := store.CreateDatabase(ctx, url)
	require.NoError(t, err)
	db, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"DATABASE_URL": url, "HTTP_ADDR": ":8080"}[k]
		return v, ok
	})
	require.NoError(t, err)
	var out bytes.Buffer
	return &runtimeEnv{cfg: cfg, stdout: &out, stdin: strings.NewReader(stdin)}, db, &out
}

func TestCreateAdminWithPasswordFromStdin(t *testing.T) {
	env, db, out := commandEnv(t, "saffron-lighthouse-quartet\n")
	require.NoError(t, createUser(context.Background(), env, "root@example.com", "root", true, true))
	u, err := db.UserByEmail(context.Background(), "root@example.com")
	require.NoError(t, err)
	require.Equal(t, store.RoleAdmin, u.Role)
	require.NoError(t, auth.VerifyPassword(u.PasswordHash, "saffron-lighthouse-quartet"))
	require.NotContains(t, out.String(), "saffron", "a password given is not printed")
	require.Contains(t, out.String(), "API token")
}

func TestCreateUserPrintsAGeneratedPasswordOnce(t *testing.T) {
	env, db, out := commandEnv(t, "")
	require.NoError(t, createUser(context.Background(), env, "ann@example.com", "ann", false, false))
	m := regexp.MustCompile(`password to sign in with \(shown once\):\n(\S+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	u, err := db.UserByEmail(context.Background(), "ann@example.com")
	require.NoError(t, err)
	require.Equal(t, store.RoleUser, u.Role)
	require.NoError(t, auth.VerifyPassword(u.PasswordHash, m[1]))
}

func TestCreateUserRefusesAWeakPasswordBeforeTouchingAnything(t *testing.T) {
	// The closed ports prove it: a refusal must come before any connection.
	for _, stdin := range []string{"", "short\n", "1234567890\n", "root@example.com\n"} {
		env := &runtimeEnv{cfg: &config.Config{DatabaseURL: closedPorts["DATABASE_URL"]}, stdout: &bytes.Buffer{}, stdin: strings.NewReader(stdin)}
		err := createUser(context.Background(), env, "root@example.com", "root", true, true)
		require.ErrorAs(t, err, new(usageError), "%q", stdin)
		require.ErrorContains(t, err, "--password-stdin", "%q", stdin)
	}
}

func TestDemoUserPrintsAPasswordThatSignsIn(t *testing.T) {
	env, db, out := commandEnv(t, "")
	passwordRE := regexp.MustCompile(`browser: http://localhost:8080/login as demo@example.com, password (\S+)\n`)
	require.NoError(t, demoUser(context.Background(), env))
	first := passwordRE.FindStringSubmatch(out.String())
	require.NotNil(t, first, out.String())
	require.NotContains(t, out.String(), "#token=")
	require.Contains(t, out.String(), `-d '{"ticker":"MSFT","models":["linreg"]}' http://localhost:8080/api/v1/predictions`+"\n",
		"the curl line goes where HTTP_ADDR listens")

	out.Reset()
	require.NoError(t, demoUser(context.Background(), env))
	second := passwordRE.FindStringSubmatch(out.String())
	require.NotNil(t, second, out.String())
	require.NotEqual(t, first[1], second[1], "each run prints a fresh password")

	u, err := db.UserByEmail(context.Background(), demoEmail)
	require.NoError(t, err)
	require.NoError(t, auth.VerifyPassword(u.PasswordHash, second[1]))
	require.ErrorIs(t, auth.VerifyPassword(u.PasswordHash, first[1]), auth.ErrMismatch)
	require.EqualValues(t, 1, u.SessionEpoch, "the new password signed out the old sessions")
}
