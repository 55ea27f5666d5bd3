package cli

import (
	"reflect"
	"testing"
)

func TestNewCmdDiagnoseGroup(t *testing.T) {
	type parsed struct {
		Groups         []string
		Since          string
		MaxJobs        int
		MaxLogBytes    int64
		Concurrency    int
		Source, Trust  string
		Format, Output string
	}
	env := map[string]string{"GITLAB_URL": "https://gitlab.example.com"}
	tests := []struct {
		name    string
		args    string
		env     map[string]string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "--group apps", env: env,
			want: parsed{Groups: []string{"apps"}, Since: "7d", MaxJobs: 500, MaxLogBytes: 100 << 20, Concurrency: 8, Format: "table"}},
		{name: "every flag", args: "--group apps --group libs --gitlab https://g.example --since 36h --max-jobs 20 --max-log-bytes 4096 --concurrency 2 --source snap --trust t.yaml --format json -o w.json",
			want: parsed{Groups: []string{"apps", "libs"}, Since: "36h", MaxJobs: 20, MaxLogBytes: 4096, Concurrency: 2, Source: "snap", Trust: "t.yaml", Format: "json", Output: "w.json"}},
		{name: "trust without source", args: "--group apps --trust t.yaml", env: env,
			want: parsed{Groups: []string{"apps"}, Since: "7d", MaxJobs: 500, MaxLogBytes: 100 << 20, Concurrency: 8, Trust: "t.yaml", Format: "table"}},
		{name: "no URL", args: "--group apps", wantErr: "--group needs the GitLab URL"},
		{name: "bad since", args: "--group apps --since 0d", env: env, wantErr: `--since "0d": want a positive duration`},
		{name: "days not a number", args: "--group apps --since xd", env: env, wantErr: `--since "xd"`},
		{name: "zero jobs", args: "--group apps --max-jobs 0", env: env, wantErr: "--max-jobs 0: want at least 1"},
		{name: "zero bytes", args: "--group apps --max-log-bytes 0", env: env, wantErr: "--max-log-bytes 0"},
		{name: "markdown", args: "--group apps --format markdown", env: env, wantErr: "with --group (valid: table, json)"},
		{name: "with logs", args: "x.log --group apps", env: env, wantErr: "not several"},
		{name: "since without group", args: "x.log --since 7d", wantErr: "--since needs --group"},
		{name: "max-jobs without group", args: "x.log --max-jobs 3", wantErr: "--max-jobs needs --group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newDiagnoseCmd, testIO(tt.env), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Groups: got.live.Groups, Since: got.Since, MaxJobs: got.MaxJobs, MaxLogBytes: got.MaxLogBytes, Concurrency: got.live.Concurrency,
				Source: got.Source, Trust: got.Trust, Format: got.Format.Value, Output: got.output.Path}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}
