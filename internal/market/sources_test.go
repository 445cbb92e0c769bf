package market

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSourcesTable(t *testing.T) {
	cfg := Config{DataDir: t.TempDir()}
	var live []string
	for _, s := range sources {
		p, err := s.build(s.name, cfg)
		require.NoError(t, err, s.name)
		require.Equal(t, s.name, p.Name(), "a provider reports the name it is configured by")
		require.Equal(t, s.live, isLive(s.name))
		if s.live {
			live = append(live, s.name)
		}
	}
	require.Equal(t, []string{"yahoo", "stooq", "alphavantage", "csv", "sample"}, SourceNames())
	require.Equal(t, []string{"yahoo", "stooq", "alphavantage"}, live)
	require.False(t, isLive("cache"), "a name the table does not know is not live")
}

func TestParseSources(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{name: "trimmed and lower-cased", in: []string{" Yahoo", "SAMPLE "}, want: []string{"yahoo", "sample"}},
		{name: "empty stays empty", in: nil, want: []string{}},
		{name: "unknown", in: []string{"yahoo", "bloomberg"}, wantErr: `unknown price source "bloomberg" (valid: yahoo, stooq, alphavantage, csv, sample)`},
		{name: "repeated", in: []string{"sample", "Sample"}, wantErr: `price source "sample" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSources(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
