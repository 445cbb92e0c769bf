package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrintedToken(t *testing.T) {
	out := "user load001: password to sign in with (shown once):\nx7Gq…\n" +
		"user load001 (load001@example.com, user): API token (shown once, keep it safe):\naug_abc123\n"
	token, err := printedToken(out)
	require.NoError(t, err)
	require.Equal(t, "aug_abc123", token)
	_, err = printedToken("user load001: password to sign in with (shown once):\nx\n")
	require.Error(t, err)
}
