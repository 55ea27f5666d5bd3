package cli

import "testing"

func TestNewCmdReport(t *testing.T) {
	type parsed struct {
		Dir, Trust, Output, GitLabVersion string
		Quiet                             bool
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "minimal", args: "snap -o out", want: parsed{Dir: "snap", Output: "out"}},
		{name: "every flag", args: "snap --trust t.yaml --output site --gitlab-version 17.9 -q",
			want: parsed{Dir: "snap", Trust: "t.yaml", Output: "site", GitLabVersion: "17.9", Quiet: true}},
		{name: "live", args: "--group apps -o out", want: parsed{Dir: liveArg, Output: "out"}},
		{name: "no output", args: "snap", wantErr: "-o DIR is required"},
		{name: "no source", args: "-o out", wantErr: "accepts 1 arg(s), received 0"},
		{name: "no format flag", args: "snap -o out --format json", wantErr: "unknown flag: --format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newReportCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Trust: got.Trust, Output: got.Output, GitLabVersion: got.GitLabVersion, Quiet: got.Quiet}
			if p != tt.want {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}
