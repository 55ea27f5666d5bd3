package joblog

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// acme is the context of the bundled example org: its inventory and its
// reviewed trust.yaml.
func acme(t *testing.T, caller string) Context {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", "acme")
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })
	srv, err := snap.Inventory.Server()
	if err != nil {
		t.Fatal(err)
	}
	tf, diags, err := trust.LoadFile(filepath.Join(dir, "trust.yaml"), trust.LoadOptions{Index: snap.Index})
	if err != nil || diags.HasErrors() {
		t.Fatalf("trust.yaml: %v %v", err, diags)
	}
	return Context{Index: snap.Index, Server: srv, Caller: caller, Trust: tf}
}

func TestDiagnoseLogs(t *testing.T) {
	type want struct {
		sig     string
		kind    Kind
		access  access.Kind
		caller  string
		callee  string
		verdict string // substring
	}
	for _, tc := range []struct {
		log    string
		caller string // --project
		want   []want
	}{
		{log: "submodule-denied.log", want: []want{
			// The short names in GitLab's message resolve through the
			// inventory; git's own 403 that follows is the same failure.
			{"allowlist-denied", NotAllowlisted, "", "apps/api", "libs/shared-protos", "is approved (trust.yaml:"},
		}},
		{log: "npm-denied.log", caller: "apps/web", want: []want{
			{"allowlist-denied", NotAllowlisted, "", "apps/web", "libs/jslib", "is approved"},
		}},
		{log: "image-denied.log", caller: "sandbox/broken", want: []want{
			{"registry-pull-denied", LikelyNotAllowlisted, access.ContainerRead, "sandbox/broken", "platform/base-images", "neither approved in trust.yaml nor found by the scan"},
		}},
		{log: "trigger-404.log", caller: "apps/deploy", want: []want{
			// ${SMOKE_TESTS_PROJECT_ID:-307} expands as the job's shell
			// would: project 307.
			{"http-error", LikelyNotAllowlisted, "", "apps/deploy", "apps/smoke-tests", "Most likely the job token allowlist"},
		}},
		{log: "policy-missing.log", caller: "apps/deploy", want: []want{
			{"policy-missing", PolicyMissing, access.TerraformStateWrite, "apps/deploy", "infra/tfstate", "lack admin_terraform_state"},
		}},
		{log: "not-job-token.log", caller: "apps/web", want: []want{
			{"basic-auth-denied", NotJobToken, "", "apps/web", "", "not the allowlist"},
			{"bridge-permissions", NotJobToken, "", "apps/web", "", "not the job token allowlist"},
		}},
		{log: "push-denied.log", caller: "data/reports", want: []want{
			{"git-push-denied", NeverAllowed, access.RepositoryWrite, "data/reports", "apps/web", "No allowlist entry can fix this"},
		}},
	} {
		t.Run(tc.log, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.log))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fails, err := Parse(tc.log, f)
			if err != nil {
				t.Fatal(err)
			}
			got := Explain(fails, acme(t, tc.caller))
			if len(got) != len(tc.want) {
				for _, d := range got {
					t.Logf("got %s %s %s→%s: %s", d.Signature, d.Kind, d.Caller, d.Callee, d.Verdict)
				}
				t.Fatalf("%d diagnoses; want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				d := got[i]
				if d.Signature != w.sig || d.Kind != w.kind || d.Caller != w.caller || d.Callee != w.callee ||
					(w.access != "" && d.Access != w.access) || !strings.Contains(d.Verdict, w.verdict) {
					t.Errorf("diagnosis %d = %s %s %s %s→%s: %q\nwant %s %s %s %s→%s: …%q…", i,
						d.Signature, d.Kind, d.Access, d.Caller, d.Callee, d.Verdict, w.sig, w.kind, w.access, w.caller, w.callee, w.verdict)
				}
				if d.Line == 0 || d.Log != tc.log {
					t.Errorf("diagnosis %d has no place: %s:%d", i, d.Log, d.Line)
				}
			}
		})
	}
}

func TestParseRedactsAndCleans(t *testing.T) {
	log := "\x1b[32;1m$ curl -H \"JOB-TOKEN: glcbt-66_abcdefghijkl\" https://h/api/v4/projects/9/jobs/artifacts/main/download?job=b\x1b[0;m\n" +
		"section_start:1:step_script\r\x1b[0K{\"message\":\"403 Forbidden - Authentication by CI/CD job token not allowed from x to y.\"}\n"
	fs, err := Parse("l", strings.NewReader(log))
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %+v", err, fs)
	}
	if strings.Contains(fs[0].Command, "glcbt-66_abc") || !strings.Contains(fs[0].Command, "[MASKED]") {
		t.Errorf("command not redacted: %q", fs[0].Command)
	}
	if fs[0].CallerRef != "x" || fs[0].CalleeRef != "y" || strings.Contains(fs[0].Message, "section_start") {
		t.Errorf("failure = %+v", fs[0])
	}
}

func TestParseIgnoresUnrelatedErrors(t *testing.T) {
	log := "$ make test\nERROR 404: page not found in docs\n$ curl https://example.org/x\ncurl: (22) The requested URL returned error: 404\n"
	fs, err := Parse("l", strings.NewReader(log))
	if err != nil || len(fs) != 0 {
		t.Fatalf("unrelated 404s reported: %v %+v", err, fs)
	}
}

func TestParseHugeLine(t *testing.T) {
	log := strings.Repeat("x", 3<<20) + "\nremote: Authentication by CI/CD job token not allowed from a to b.\n"
	fs, err := Parse("big.log", strings.NewReader(log))
	if err == nil || !strings.Contains(err.Error(), "big.log") {
		t.Errorf("err = %v; want an error naming the log", err)
	}
	_ = fs
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"remote: Authentication by CI/CD job token not allowed from a to b.",
		"$ curl -H 'JOB-TOKEN: $CI_JOB_TOKEN' https://h/api/v4/projects/1\ncurl: (22) The requested URL returned error: 403",
		"pull access denied for registry.x/y/z, repository",
		"Insufficient permissions to access this resource in project a/b. The following token permissions are required: read_jobs, read_packages, and admin_packages.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, _ := Parse("fuzz", strings.NewReader(s))
		ds := Explain(fs, Context{})
		for _, d := range ds {
			if d.Verdict == "" {
				t.Fatalf("no verdict for %+v", d)
			}
		}
	})
}

func TestVerdictUsesIntentAndScan(t *testing.T) {
	ctx := acme(t, "sandbox/broken")
	log := "$ git clone https://gitlab-ci-token:[MASKED]@gitlab.acme.example/platform/build-scripts.git\n" +
		"remote: Authentication by CI/CD job token not allowed from broken to build-scripts.\n"
	fs, _ := Parse("l", strings.NewReader(log))
	ds := Explain(fs, ctx)
	if len(ds) != 1 || ds[0].Intent != Denied || !strings.Contains(ds[0].Verdict, "denies sandbox/broken → platform/build-scripts. Change the job, do not widen the allowlist") {
		t.Fatalf("denied: %+v", ds)
	}
	// Already on the allowlist: the allowlist is not what failed.
	ctx = acme(t, "apps/web")
	log = "remote: Authentication by CI/CD job token not allowed from web to build-scripts.\n"
	fs, _ = Parse("l", strings.NewReader(log))
	ds = Explain(fs, ctx)
	if len(ds) != 1 || !ds[0].OnAllowlist || !strings.Contains(ds[0].Verdict, "already on platform/build-scripts's allowlist") {
		t.Fatalf("on allowlist: %+v", ds)
	}
}

// TestJobEnvs: a URL held by a job variable is expanded with the caller's
// job environments; jobs that agree give the callee, jobs that disagree
// give candidates, never a guess.
func TestJobEnvs(t *testing.T) {
	fs, err := Parse("job.log", strings.NewReader("$ curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"${API}/jobs/artifacts/main/download?job=build\"\ncurl: (22) The requested URL returned error: 403\n"))
	if err != nil || len(fs) != 1 {
		t.Fatalf("Parse: %v %v", fs, err)
	}
	ctx := acme(t, "data/reports")
	env := func(path string) shell.MapEnv {
		return shell.MapEnv{"API": "https://gitlab.acme.example/api/v4/projects/" + strings.ReplaceAll(path, "/", "%2F")}
	}
	for _, tc := range []struct {
		envs   []shell.MapEnv
		callee string
		cands  []string
	}{
		{envs: []shell.MapEnv{env("apps/web"), env("apps/web")}, callee: "apps/web"},
		{envs: []shell.MapEnv{env("apps/web"), env("apps/api")}, cands: []string{"apps/api", "apps/web"}},
		{envs: nil},
	} {
		ctx.JobEnvs = func(string) []shell.MapEnv { return tc.envs }
		d := Explain(fs, ctx)[0]
		if d.Callee != tc.callee || !slices.Equal(d.Candidates, tc.cands) {
			t.Errorf("envs %v: callee %q candidates %q, want %q %q", tc.envs, d.Callee, d.Candidates, tc.callee, tc.cands)
		}
	}
}
