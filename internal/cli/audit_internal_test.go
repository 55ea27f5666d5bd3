package cli

import (
	"reflect"
	"testing"
)

func TestNewCmdAudit(t *testing.T) {
	type parsed struct {
		Dir, Trust, FailOn, Format, GitLabVersion, Output string
		Quiet                                             bool
		Groups                                            []string
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "snap --trust t.yaml", want: parsed{Dir: "snap", Trust: "t.yaml", Format: "table"}},
		{name: "every flag", args: "snap --trust t.yaml --fail-on review,stale --format codequality --gitlab-version 18.2 -q -o cq.json",
			want: parsed{Dir: "snap", Trust: "t.yaml", FailOn: "review,stale", Format: "codequality", GitLabVersion: "18.2", Output: "cq.json", Quiet: true}},
		{name: "shorthands", args: "snap -t t.yaml -f markdown", want: parsed{Dir: "snap", Trust: "t.yaml", Format: "markdown"}},
		{name: "fail on all", args: "snap -t t.yaml --fail-on all", want: parsed{Dir: "snap", Trust: "t.yaml", FailOn: "all", Format: "table"}},
		{name: "live", args: "--gitlab https://gitlab.example.com --group apps -t t.yaml", want: parsed{Dir: liveArg, Trust: "t.yaml", Format: "table", Groups: []string{"apps"}}},
		{name: "no trust", args: "snap", wantErr: "--trust is required: audit compares the org with its reviewed intent"},
		{name: "unknown kind", args: "snap -t t.yaml --fail-on review,drfit", wantErr: `--fail-on: unknown finding kind "drfit"`},
		{name: "no source", args: "-t t.yaml", wantErr: "accepts 1 arg(s), received 0"},
		{name: "unknown format", args: "snap -t t.yaml --format html", wantErr: `unknown --format "html" (valid: table, json, markdown, codequality)`},
		{name: "unknown flag", args: "snap -t t.yaml --prune", wantErr: "unknown flag: --prune"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newAuditCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Trust: got.Trust, FailOn: got.FailOn, Format: got.Format.Value, GitLabVersion: got.GitLabVersion,
				Output: got.output.Path, Quiet: got.Quiet, Groups: got.source.live.Groups}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}
