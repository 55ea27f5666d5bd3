package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// --limit parses through each command's cobra wrapper into the options
// the run function gets; mistakes are usage errors (exit 2).
func TestNewCmdLimitFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    limits.Values
		wantErr string
	}{
		{name: "none", args: "snap", want: nil},
		{name: "repeated", args: "snap --limit file-size=16MiB --limit shell-steps=200_000 --limit file-size=32MiB",
			want: limits.Values{limits.FileSize: 32 << 20, limits.ShellSteps: 200_000}},
		{name: "lowered", args: "snap --limit includes=10", want: limits.Values{limits.Includes: 10}},
		{name: "unknown", args: "snap --limit file-sise=16MiB", wantErr: `unknown limit "file-sise"; did you mean file-size?`},
		{name: "unknown lists", args: "snap --limit nope=1", wantErr: "(limits: auth-log-bytes, auth-log-rows,"},
		{name: "fixed", args: "snap --limit parse-nesting=5000", wantErr: "parse-nesting is a fixed limit (1000)"},
		{name: "bad value", args: "snap --limit file-size=lots", wantErr: "want a positive size"},
		{name: "count with unit", args: "snap --limit includes=1MiB", wantErr: "want a positive whole number"},
		{name: "no value", args: "snap --limit file-size", wantErr: "give NAME=VALUE"},
	}
	for _, tt := range tests {
		t.Run("scan "+tt.name, func(t *testing.T) {
			got, err := parse(t, newScanCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(got.source.Limits, tt.want) {
				t.Errorf("limits = %v, want %v", got.source.Limits, tt.want)
			}
		})
	}
	// Every command that reads repositories, an inventory or job logs
	// takes it; each records it where its run reads it.
	want := limits.Values{limits.LogLine: 1 << 20}
	arg := " --limit log-line=1MiB"
	check := func(name string, got limits.Values, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: limits %v, err %v", name, got, err)
		}
	}
	p, err := parse(t, newPlanCmd, testIO(nil), "snap"+arg)
	check("plan", p.source.Limits, err)
	a, err := parse(t, newAuditCmd, testIO(nil), "snap --trust t.yaml"+arg)
	check("audit", a.source.Limits, err)
	r, err := parse(t, newReportCmd, testIO(nil), "snap -o out"+arg)
	check("report", r.source.Limits, err)
	d, err := parse(t, newDiagnoseCmd, testIO(nil), "job.log"+arg)
	check("diagnose", d.Limits, err)
	if ro := d.readOptions(); ro.MaxMatchLine != 1<<20 || ro.MaxFailures != 1000 {
		t.Errorf("diagnose read options %+v", ro)
	}
	ro, err := parse(t, newRolloutStatusCmd, testIO(nil), "snap --trust t.yaml"+arg)
	check("rollout status", ro.source.Limits, err)
	ti, err := parse(t, newTrustInitCmd, testIO(nil), "snap"+arg)
	check("trust init", ti.source.Limits, err)
	w, err := parse(t, newDiagnoseCmd, testIO(nil), "--group apps --gitlab https://gitlab.example.com"+arg)
	check("diagnose --group", w.Limits, err) // the watch reads its logs with readOptions too
	s, err := parse(t, newSnapshotCmd, testIO(nil), "--group apps -o snap"+arg)
	check("snapshot", s.live.Limits, err)
	tc, err := parse(t, newTrustCheckCmd, testIO(nil), "trust.yaml --source snap"+arg)
	check("trust check", tc.Limits, err)
}

// 'tokenscope help limits' lists every limit with its default; the fixed
// ones say why.
func TestHelpLimits(t *testing.T) {
	ios := testIO(nil)
	root := NewRoot(ios)
	root.SetArgs([]string{"help", "limits"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	out := ios.Out.(interface{ String() string }).String()
	for _, l := range limits.All() {
		line := ""
		for _, ln := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(ln), string(l.Name)+" ") {
				line = ln
			}
		}
		if !strings.Contains(line, limits.Format(l.Unit, l.Default)) || (l.Fixed != "" && !strings.Contains(line, l.Fixed)) {
			t.Errorf("%s: line %q", l.Name, line)
		}
	}
	if !strings.Contains(out, "--limit NAME=VALUE") {
		t.Errorf("help:\n%s", out)
	}
}
