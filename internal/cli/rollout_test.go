package cli

import (
	"reflect"
	"testing"
	"time"
)

func TestNewCmdRolloutStatus(t *testing.T) {
	type parsed struct {
		Dir, Trust, Plan, Since, Wave, Format, GitLabVersion, Output string
		Quiet                                                        bool
		Groups                                                       []string
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "snap --trust t.yaml", want: parsed{Dir: "snap", Trust: "t.yaml", Format: "table"}},
		{name: "every flag", args: "snap -t t.yaml --plan p.json --since 7d --wave pilot --format json --gitlab-version 18.2 -q -o s.json",
			want: parsed{Dir: "snap", Trust: "t.yaml", Plan: "p.json", Since: "7d", Wave: "pilot", Format: "json", GitLabVersion: "18.2", Output: "s.json", Quiet: true}},
		{name: "live", args: "--gitlab https://gitlab.example.com --group apps --trust t.yaml -f markdown",
			want: parsed{Dir: liveArg, Trust: "t.yaml", Format: "markdown", Groups: []string{"apps"}}},
		{name: "no trust", args: "snap", wantErr: "--trust is required"},
		{name: "bad since", args: "snap -t t.yaml --since yesterday", wantErr: `--since: "yesterday" is not a number of days`},
		{name: "no source", args: "-t t.yaml", wantErr: "accepts 1 arg(s), received 0"},
		{name: "unknown format", args: "snap -t t.yaml --format csv", wantErr: `unknown --format "csv" (valid: table, json, markdown)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newRolloutStatusCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Trust: got.Trust, Plan: got.Plan, Since: got.Since, Wave: got.Wave, Format: got.Format.Value,
				GitLabVersion: got.GitLabVersion, Output: got.output.Path, Quiet: got.Quiet, Groups: got.source.live.Groups}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestRolloutSince(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":                   now.AddDate(0, 0, -7),
		"12h":                  now.Add(-12 * time.Hour),
		"2026-11-01":           time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T10:00:00Z": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
	} {
		got, err := rolloutSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("rolloutSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-3d", "d", "soon"} {
		if _, err := rolloutSince(bad, now); err == nil {
			t.Errorf("rolloutSince(%q): want an error", bad)
		}
	}
}
