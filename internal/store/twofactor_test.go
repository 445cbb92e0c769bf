package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestATOTPStepIsAcceptedOnceAndOnlyForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	u := dbtest.User(t, db)

	require.ErrorIs(t, db.AcceptTOTPStep(ctx, u.ID, 100), store.ErrReplay, "no authenticator, nothing accepted")
	require.NoError(t, db.BeginTOTP(ctx, u.ID, []byte("sealed-1")))
	require.ErrorIs(t, db.AcceptTOTPStep(ctx, u.ID, 100), store.ErrReplay, "an unconfirmed authenticator signs in nobody")
	f, err := db.UserSecondFactors(ctx, u.ID)
	require.NoError(t, err)
	require.False(t, f.Any())

	require.NoError(t, db.ConfirmTOTP(ctx, u.ID, 100, [][]byte{[]byte("a"), []byte("b")}))
	require.ErrorIs(t, db.ConfirmTOTP(ctx, u.ID, 101, nil), store.ErrNotFound, "confirmed once")
	require.ErrorIs(t, db.AcceptTOTPStep(ctx, u.ID, 100), store.ErrReplay, "the confirming step is spent")
	require.ErrorIs(t, db.AcceptTOTPStep(ctx, u.ID, 99), store.ErrReplay, "an older step never works")
	require.NoError(t, db.AcceptTOTPStep(ctx, u.ID, 101))
	require.ErrorIs(t, db.AcceptTOTPStep(ctx, u.ID, 101), store.ErrReplay)

	require.ErrorIs(t, db.BeginTOTP(ctx, u.ID, []byte("sealed-2")), store.ErrConflict, "a confirmed authenticator is not replaced")
	rec, err := db.UserTOTP(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, []byte("sealed-1"), rec.SecretSealed)
	require.EqualValues(t, 101, rec.LastStep)
	f, err = db.UserSecondFactors(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, store.SecondFactors{TOTP: true, RecoveryCodesLeft: 2}, f)
}

func TestARecoveryCodeIsSpentOnceAndOnlyByItsUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	ann, bob := dbtest.User(t, db), dbtest.User(t, db)
	require.NoError(t, db.BeginTOTP(ctx, ann.ID, []byte("s")))
	require.NoError(t, db.ConfirmTOTP(ctx, ann.ID, 1, [][]byte{[]byte("code-1"), []byte("code-2")}))

	require.ErrorIs(t, db.UseRecoveryCode(ctx, bob.ID, []byte("code-1")), store.ErrReplay, "not Bob's")
	require.NoError(t, db.UseRecoveryCode(ctx, ann.ID, []byte("code-1")))
	require.ErrorIs(t, db.UseRecoveryCode(ctx, ann.ID, []byte("code-1")), store.ErrReplay, "spent")
	f, err := db.UserSecondFactors(ctx, ann.ID)
	require.NoError(t, err)
	require.Equal(t, 1, f.RecoveryCodesLeft)
}

func TestRemovingSecondFactorsEndsSessionsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	u := dbtest.User(t, db)
	for _, endSessions := range []bool{false, true} {
		require.NoError(t, db.BeginTOTP(ctx, u.ID, []byte("s")))
		require.NoError(t, db.ConfirmTOTP(ctx, u.ID, 1, [][]byte{[]byte("c")}))
		before, err := db.UserByID(ctx, u.ID)
		require.NoError(t, err)
		require.NoError(t, db.RemoveSecondFactors(ctx, u.ID, true, endSessions))
		after, err := db.UserByID(ctx, u.ID)
		require.NoError(t, err)
		f, err := db.UserSecondFactors(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, store.SecondFactors{}, f)
		_, err = db.UserTOTP(ctx, u.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		if endSessions {
			require.Equal(t, before.SessionEpoch+1, after.SessionEpoch)
		} else {
			require.Equal(t, before.SessionEpoch, after.SessionEpoch)
		}
	}
	require.ErrorIs(t, db.RemoveSecondFactors(ctx, 999999999, true, true), store.ErrNotFound)
}

func TestPasskeysAreFoundByCredentialAndKeptWhenOnlyTOTPIsTurnedOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	ann, bob := dbtest.User(t, db), dbtest.User(t, db)
	require.NoError(t, db.AddPasskey(ctx, ann.ID, []byte("cred-a"), []byte(`{"id":"a"}`), "laptop"))
	require.ErrorIs(t, db.AddPasskey(ctx, bob.ID, []byte("cred-a"), []byte(`{}`), "copy"), store.ErrConflict)
	p, err := db.PasskeyByCredentialID(ctx, []byte("cred-a"))
	require.NoError(t, err)
	require.Equal(t, ann.ID, p.UserID)
	require.Nil(t, p.LastUsedAt)
	require.NoError(t, db.PasskeyUsed(ctx, p.ID, []byte(`{"id":"a","n":1}`)))
	p, err = db.PasskeyByCredentialID(ctx, []byte("cred-a"))
	require.NoError(t, err)
	require.NotNil(t, p.LastUsedAt)
	require.JSONEq(t, `{"id":"a","n":1}`, string(p.Credential))

	require.NoError(t, db.RemoveSecondFactors(ctx, ann.ID, false, false))
	f, err := db.UserSecondFactors(ctx, ann.ID)
	require.NoError(t, err)
	require.Equal(t, store.SecondFactors{Passkeys: 1}, f)
	require.True(t, f.Any())

	require.ErrorIs(t, db.DeleteOwnPasskey(ctx, bob.ID, p.ID), store.ErrNotFound)
	require.NoError(t, db.DeleteOwnPasskey(ctx, ann.ID, p.ID))
	_, err = db.PasskeyByCredentialID(ctx, []byte("cred-a"))
	require.ErrorIs(t, err, store.ErrNotFound)
}
