package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/plan"
)

// The TestNewCmd tests build each command with a run function that only
// captures its options, so that flag parsing and argument checks are
// tested without reading a snapshot or GitLab.

func testIO(env map[string]string) *IO {
	return &IO{
		In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{},
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) },
	}
}

// parse runs the command built by newCmd on args and returns the options
// its run function received (nil when it was not called) and the error.
func parse[T any](t *testing.T, newCmd func(*IO, func(*T) error) *cobra.Command, ios *IO, args string) (*T, error) {
	t.Helper()
	var got *T
	cmd := newCmd(ios, func(o *T) error { got = o; return nil })
	cmd.SetArgs(strings.Fields(args))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(flagError) // as under the root
	_, err := cmd.ExecuteC()
	return got, err
}

// checkErr reports whether the case goes on to check options: err must be
// nil when wantErr is empty, else a usage error containing wantErr (every
// mistake in how a command is called exits 2).
func checkErr(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr == "":
		return true
	case err == nil:
		t.Fatalf("want error %q, got none", wantErr)
	case !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error = %q, want it to contain %q", err, wantErr)
	case exitCode(err) != ExitUsage:
		t.Fatalf("error %q exits %d, want %d (usage)", err, exitCode(err), ExitUsage)
	}
	return false
}

func TestNewCmdPlan(t *testing.T) {
	type parsed struct {
		Dir, Trust, Format, GitLabVersion, Output string
		Prune, DetailedExitCode, Quiet            bool
		Limit                                     int
		Groups                                    []string
		Steps                                     string
		NoColor                                   bool
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "snap", want: parsed{Dir: "snap", Format: "table", Limit: plan.DefaultProjectLimit, Steps: "actions"}},
		{name: "every flag", args: "snap --trust t.yaml --prune --format json --gitlab-version 18.2 --detailed-exitcode -q -o plan.json --allowlist-limit 5 --steps full --no-color",
			want: parsed{Dir: "snap", Trust: "t.yaml", Format: "json", GitLabVersion: "18.2", Output: "plan.json", Prune: true, DetailedExitCode: true, Quiet: true, Limit: 5, Steps: "full", NoColor: true}},
		{name: "shorthands", args: "snap -t t.yaml -f markdown", want: parsed{Dir: "snap", Trust: "t.yaml", Format: "markdown", Limit: plan.DefaultProjectLimit, Steps: "actions"}},
		{name: "live", args: "--gitlab https://gitlab.example.com --group apps", want: parsed{Dir: liveArg, Format: "table", Limit: plan.DefaultProjectLimit, Groups: []string{"apps"}, Steps: "actions"}},
		{name: "unknown steps", args: "snap --steps some", wantErr: `unknown --steps "some" (valid: actions, full)`},
		{name: "no source", args: "", wantErr: "accepts 1 arg(s), received 0"},
		{name: "two sources", args: "a b", wantErr: "accepts 1 arg(s), received 2"},
		{name: "source and live", args: "snap --group apps", wantErr: "give either SOURCE (snap) or --gitlab/--group, not both"},
		{name: "unknown format", args: "snap --format yaml", wantErr: `unknown --format "yaml" (valid: table, json, markdown, script, terraform)`},
		{name: "unknown flag", args: "snap --apply", wantErr: "unknown flag: --apply"},
		{name: "bad limit", args: "snap --allowlist-limit many", wantErr: `invalid argument "many"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newPlanCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Trust: got.Trust, Format: got.Format.Value, GitLabVersion: got.GitLabVersion, Output: got.output.Path,
				Prune: got.Prune, DetailedExitCode: got.DetailedExitCode, Quiet: got.Quiet, Limit: got.Limit, Groups: got.source.live.Groups,
				Steps: got.Steps, NoColor: got.NoColor}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestNewCmdScan(t *testing.T) {
	type parsed struct {
		Dir, Format, Output, ServerURL, Registry string
		Quiet                                    bool
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "snap", want: parsed{Dir: "snap", Format: "table"}},
		{name: "every flag", args: "clones --format json -o edges.json -q --server-url https://gitlab.example.com --registry registry.example.com:5050",
			want: parsed{Dir: "clones", Format: "json", Output: "edges.json", ServerURL: "https://gitlab.example.com", Registry: "registry.example.com:5050", Quiet: true}},
		{name: "live", args: "--group apps", want: parsed{Dir: liveArg, Format: "table"}},
		{name: "no source", args: "", wantErr: "accepts 1 arg(s), received 0"},
		{name: "source and live", args: "snap --gitlab https://gitlab.example.com", wantErr: "give either SOURCE (snap) or --gitlab/--group, not both"},
		{name: "unknown format", args: "snap -f script", wantErr: `unknown --format "script"`},
		{name: "unknown flag", args: "snap --trust t.yaml", wantErr: "unknown flag: --trust"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newScanCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Format: got.Format.Value, Output: got.output.Path, ServerURL: got.source.ServerURL, Registry: got.source.Registry, Quiet: got.Quiet}
			if p != tt.want {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestNewCmdSnapshot(t *testing.T) {
	type parsed struct {
		URL, CAFile, Output string
		Groups              []string
		IncludeArchived     bool
		Concurrency         int
		Timeout             time.Duration
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "--group platform -o snap",
			want: parsed{Output: "snap", Groups: []string{"platform"}, Concurrency: 8, Timeout: time.Minute}},
		{name: "every flag", args: "--gitlab https://gitlab.example.com --group platform --group apps --ca-file ca.pem --include-archived --concurrency 2 --request-timeout 5s --output snap",
			want: parsed{URL: "https://gitlab.example.com", CAFile: "ca.pem", Output: "snap", Groups: []string{"platform", "apps"}, IncludeArchived: true, Concurrency: 2, Timeout: 5 * time.Second}},
		{name: "no output", args: "--group platform", wantErr: "-o DIR is required"},
		{name: "no group", args: "--gitlab https://gitlab.example.com -o snap", wantErr: "--group is required with --gitlab"},
		{name: "argument", args: "snap --group platform -o snap", wantErr: `unknown command "snap"`},
		{name: "bad timeout", args: "--group platform -o snap --request-timeout soon", wantErr: `invalid argument "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newSnapshotCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			l := got.live
			p := parsed{URL: l.URL, CAFile: l.CAFile, Output: got.Output, Groups: l.Groups, IncludeArchived: l.IncludeArchived, Concurrency: l.Concurrency, Timeout: l.Timeout}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestNewCmdDiagnose(t *testing.T) {
	type parsed struct {
		Logs                                   []string
		Project, Source, Trust, Format, Output string
		Job                                    int64
		URL                                    string
	}
	tests := []struct {
		name    string
		args    string
		env     map[string]string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "job.log", want: parsed{Logs: []string{"job.log"}, Format: "table"}},
		{name: "stdin and files", args: "- a.log", want: parsed{Logs: []string{"-", "a.log"}, Format: "table"}},
		{name: "every flag", args: "job.log -p apps/web --source snap --trust t.yaml --format json -o d.json",
			want: parsed{Logs: []string{"job.log"}, Project: "apps/web", Source: "snap", Trust: "t.yaml", Format: "json", Output: "d.json"}},
		{name: "job", args: "--job 4242 --project apps/web --gitlab https://gitlab.example.com",
			want: parsed{Logs: []string{}, Project: "apps/web", Format: "table", Job: 4242, URL: "https://gitlab.example.com"}},
		{name: "job with GITLAB_URL", args: "--job 4242 --project apps/web", env: map[string]string{"GITLAB_URL": "https://gitlab.example.com"},
			want: parsed{Logs: []string{}, Project: "apps/web", Format: "table", Job: 4242}},
		{name: "nothing to read", args: "", wantErr: "give job logs (files, or - for standard input), or --job ID"},
		{name: "logs and job", args: "job.log --job 1", wantErr: "give either job logs or --job, not both"},
		{name: "job without project", args: "--job 1", wantErr: "--job needs --project"},
		{name: "job without URL", args: "--job 1 -p apps/web", wantErr: "--job needs the GitLab URL"},
		{name: "trust without source", args: "job.log --trust t.yaml", wantErr: "--trust needs --source"},
		{name: "unknown format", args: "job.log --format script", wantErr: `unknown --format "script"`},
		{name: "bad job", args: "--job latest", wantErr: `invalid argument "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newDiagnoseCmd, testIO(tt.env), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Logs: got.Logs, Project: got.Project, Source: got.Source, Trust: got.Trust, Format: got.Format.Value,
				Output: got.output.Path, Job: got.Job, URL: got.live.URL}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestNewCmdExplain(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    string
		wantErr string
	}{
		{name: "defaults", args: "", want: ""},
		{name: "version", args: "--gitlab-version 17.8", want: "17.8"},
		{name: "argument", args: "17.8", wantErr: `unknown command "17.8"`},
		{name: "unknown flag", args: "--version-of 17.8", wantErr: "unknown flag: --version-of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newExplainCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if got.Version != tt.want {
				t.Errorf("Version = %q, want %q", got.Version, tt.want)
			}
		})
	}
}

func TestNewCmdTrustInit(t *testing.T) {
	type parsed struct {
		Dir, Output string
		Force       bool
		AuthLogCSV  string
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "snap", want: parsed{Dir: "snap"}},
		{name: "every flag", args: "snap -o trust.yaml --force", want: parsed{Dir: "snap", Output: "trust.yaml", Force: true}},
		{name: "auth log exports", args: "snap --auth-log-csv libs/jslib=a.csv --auth-log-csv apps/web=b,c.csv",
			want: parsed{Dir: "snap", AuthLogCSV: "libs/jslib=a.csv|apps/web=b,c.csv"}},
		{name: "live", args: "--gitlab https://gitlab.example.com --group apps", want: parsed{Dir: liveArg}},
		{name: "no source", args: "", wantErr: "accepts 1 arg(s), received 0"},
		{name: "source and live", args: "snap --group apps", wantErr: "give either SOURCE (snap) or --gitlab/--group, not both"},
		{name: "unknown flag", args: "snap --format json", wantErr: "unknown flag: --format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newTrustInitCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Dir: got.source.Dir, Output: got.Output, Force: got.Force, AuthLogCSV: strings.Join(got.source.AuthLogCSV, "|")}
			if p != tt.want {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
			if got.ctx == nil {
				t.Error("the run function gets no context")
			}
		})
	}
}

func TestNewCmdTrustCheck(t *testing.T) {
	type parsed struct{ File, Source string }
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults", args: "trust.yaml", want: parsed{File: "trust.yaml"}},
		{name: "source", args: "trust.yaml --source snap", want: parsed{File: "trust.yaml", Source: "snap"}},
		{name: "no file", args: "", wantErr: "accepts 1 arg(s), received 0"},
		{name: "two files", args: "a.yaml b.yaml", wantErr: "accepts 1 arg(s), received 2"},
		{name: "live is not a source", args: "trust.yaml --group apps", wantErr: "unknown flag: --group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newTrustCheckCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if p := (parsed{File: got.File, Source: got.Source}); p != tt.want {
				t.Errorf("options = %+v, want %+v", p, tt.want)
			}
		})
	}
}

// TestExitCodes pins the one classification of errors into exit codes.
func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{ErrFindings, ExitFindings},
		{usageErrorf("bad"), ExitUsage},
		{errors.New(`accepts 1 arg(s), received 0`), ExitUsage},
		{errors.New(`unknown command "x" for "tokenscope"`), ExitUsage},
		{errors.New("broken"), ExitError},
	} {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestHintsNameRealFlags keeps the words cli lends plan, report and joblog
// in step with the flags: every hint names a flag of its command.
func TestHintsNameRealFlags(t *testing.T) {
	ios := testIO(nil)
	planCmd, diagnoseCmd := newPlanCmd(ios, nil), newDiagnoseCmd(ios, nil)
	for _, h := range []struct {
		cmd  *cobra.Command
		hint string
	}{
		{planCmd, planHints.Trust}, {planCmd, planHints.Prune}, {planCmd, planHints.GitLabVersion},
		{planCmd, planHints.Format}, {planCmd, planHints.DetailedExitCode}, {planCmd, planHints.Steps},
		{diagnoseCmd, diagnoseHints.Caller}, {diagnoseCmd, diagnoseHints.Snapshot},
	} {
		if !strings.HasPrefix(h.hint, "--") || h.cmd.Flags().Lookup(strings.TrimPrefix(h.hint, "--")) == nil {
			t.Errorf("%s has no flag %q", h.cmd.Name(), h.hint)
		}
	}
	for _, f := range strings.Fields(diagnoseHints.Apply) {
		if strings.HasPrefix(f, "--") && planCmd.Flags().Lookup(strings.TrimPrefix(f, "--")) == nil {
			t.Errorf("plan has no flag %q (diagnose's Apply hint)", f)
		}
	}
}

// TestPlanWarnsOnceWithoutTrust: with a machine format the warnings go to
// stderr, and the missing trust file is said once, not twice.
func TestPlanWarnsOnceWithoutTrust(t *testing.T) {
	for _, format := range []string{"table", "json", "script", "terraform"} {
		ios := testIO(nil)
		code := Main(t.Context(), []string{"plan", "../../examples/acme", "--format", format}, ios)
		stderr := ios.Err.(*bytes.Buffer).String()
		if code != ExitOK || strings.Count(stderr, "no --trust file") != 1 || strings.Count(strings.ToLower(stderr), "no trust file") != 0 {
			t.Errorf("--format %s: exit %d, stderr:\n%s", format, code, stderr)
		}
	}
}

func TestNewCmdApply(t *testing.T) {
	type parsed struct {
		Plan, Wave, Journal, URL string
		Resume, Rollback         string
		Yes, Force               bool
	}
	tests := []struct {
		name    string
		args    string
		want    parsed
		wantErr string
	}{
		{name: "defaults (a dry run)", args: "plan.json", want: parsed{Plan: "plan.json"}},
		{name: "every flag", args: "plan.json --gitlab https://gitlab.example.com --wave pilot --yes --journal j.jsonl",
			want: parsed{Plan: "plan.json", Wave: "pilot", Journal: "j.jsonl", URL: "https://gitlab.example.com", Yes: true}},
		{name: "no plan", args: "", wantErr: "accepts 1 arg(s), received 0"},
		{name: "two plans", args: "a.json b.json", wantErr: "accepts 1 arg(s), received 2"},
		{name: "unknown flag", args: "plan.json --dry-run", wantErr: "unknown flag: --dry-run"},
		{name: "resume", args: "plan.json --yes --resume j.jsonl", want: parsed{Plan: "plan.json", Resume: "j.jsonl", Yes: true}},
		{name: "rollback", args: "--rollback j.jsonl --yes --force", want: parsed{Rollback: "j.jsonl", Yes: true, Force: true}},
		{name: "rollback with a plan", args: "plan.json --rollback j.jsonl", wantErr: "--rollback takes the journal, not a plan"},
		{name: "rollback and resume", args: "--rollback j.jsonl --resume j.jsonl", wantErr: "--rollback goes without --resume and --wave"},
		{name: "force without rollback", args: "plan.json --force", wantErr: "--force is for --rollback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, newApplyCmd, testIO(nil), tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			p := parsed{Plan: got.Plan, Wave: got.Wave, Journal: got.Journal, URL: got.live.URL, Yes: got.Yes,
				Resume: got.Resume, Rollback: got.Rollback, Force: got.Force}
			if p != tt.want {
				t.Errorf("parsed %+v, want %+v", p, tt.want)
			}
		})
	}
}

// TestPlanColor: the table is painted on a terminal only, never into a
// file or a pipe, and never with NO_COLOR (any non-empty value) or
// --no-color.
func TestPlanColor(t *testing.T) {
	for _, tt := range []struct {
		name  string
		tty   bool
		env   map[string]string
		args  []string
		color bool
	}{
		{name: "terminal", tty: true, color: true},
		{name: "pipe", tty: false},
		{name: "NO_COLOR", tty: true, env: map[string]string{"NO_COLOR": "1"}},
		{name: "empty NO_COLOR", tty: true, env: map[string]string{"NO_COLOR": ""}, color: true},
		{name: "--no-color", tty: true, args: []string{"--no-color"}},
		{name: "file", tty: true, args: []string{"-o", "plan.txt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ios := testIO(tt.env)
			ios.OutTTY = tt.tty
			args := append([]string{"plan", "../../examples/acme", "--trust", "../../examples/acme/trust.yaml", "-q"}, tt.args...)
			for i, a := range args {
				if a == "plan.txt" {
					args[i] = dir + "/plan.txt"
				}
			}
			if code := Main(t.Context(), args, ios); code != 0 {
				t.Fatalf("exit %d: %s", code, ios.Err)
			}
			out := ios.Out.(*bytes.Buffer).String()
			if slices.Contains(tt.args, "-o") {
				b, err := os.ReadFile(dir + "/plan.txt")
				if err != nil {
					t.Fatal(err)
				}
				out = string(b)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.color {
				t.Errorf("colour = %v, want %v", got, tt.color)
			}
			if !strings.Contains(out, "EDGES (caller → callee)") {
				t.Errorf("no table:\n%s", out)
			}
		})
	}
}
