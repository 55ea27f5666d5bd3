package joblog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

func TestReadLongLine(t *testing.T) {
	// A 2 MiB line (once the end of the read, issue 10) is matched on its
	// first MaxMatchLine bytes, with a note; the failures before and after
	// it are found.
	log := "$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@h/a/b.git\nremote: Authentication by CI/CD job token not allowed from c to b.\n" +
		strings.Repeat("x", 2<<20) + "\n$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@h/d/e.git\nremote: Authentication by CI/CD job token not allowed from c to e.\n"
	res, err := Read("big.log", strings.NewReader(log), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 2 || res.Failures[0].CalleeRef != "b" || res.Failures[1].CalleeRef != "e" || res.Failures[1].Line != 5 {
		t.Fatalf("failures = %+v", res.Failures)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "big.log: 1 line(s) longer than 65536 bytes (the first is line 3)") {
		t.Errorf("notes = %q", res.Notes)
	}
	if res.Lines != 5 || res.Bytes != int64(len(log)) {
		t.Errorf("lines %d bytes %d; want 5, %d", res.Lines, res.Bytes, len(log))
	}
}

func TestReadFailureInLongLine(t *testing.T) {
	// A message at the start of a long line is seen, and one at its end,
	// after a progress bar overdrawn a million times with carriage returns
	// (the text a terminal shows last); one in the middle is not, as noted.
	msg := "remote: Authentication by CI/CD job token not allowed from c to b."
	res, err := Read("l", strings.NewReader(msg+strings.Repeat(" ", MaxMatchLine)), ReadOptions{})
	if err != nil || len(res.Failures) != 1 {
		t.Fatalf("head: %v %+v", err, res.Failures)
	}
	bar := strings.Repeat("Downloading 42%\r", 1<<20/16)
	res, err = Read("l", strings.NewReader(bar+"ERROR: pull access denied for registry.example.com/a/b, repository does not exist\n"), ReadOptions{})
	if err != nil || len(res.Failures) != 1 || res.Failures[0].Signature != "registry-pull-denied" || len(res.Notes) != 1 {
		t.Fatalf("tail: %v %+v %q", err, res.Failures, res.Notes)
	}
	res, err = Read("l", strings.NewReader(strings.Repeat("x", 2*MaxMatchLine)+msg+strings.Repeat("y", 2*MaxMatchLine)), ReadOptions{})
	if err != nil || len(res.Failures) != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "first and last 65536 bytes") {
		t.Fatalf("middle: %v %+v %q", err, res.Failures, res.Notes)
	}
}

func TestReadErrorKeepsFailures(t *testing.T) {
	// A read that fails half-way returns what it found before.
	r := io.MultiReader(strings.NewReader("remote: Authentication by CI/CD job token not allowed from c to b.\n"), errReader{})
	fs, err := Parse("l", r)
	if err == nil || !strings.Contains(err.Error(), "read l after line 1") || len(fs) != 1 {
		t.Fatalf("err %v, failures %+v", err, fs)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadMaxBytes(t *testing.T) {
	log := "remote: Authentication by CI/CD job token not allowed from c to b.\n" + strings.Repeat("y\n", 100) +
		"remote: Authentication by CI/CD job token not allowed from c to e.\n"
	res, err := Read("l", strings.NewReader(log), ReadOptions{MaxBytes: 100})
	if err != nil || len(res.Failures) != 1 || !res.Truncated || res.Bytes != 100 || len(res.Notes) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	res, err = Read("l", strings.NewReader(log), ReadOptions{MaxBytes: int64(len(log))})
	if err != nil || len(res.Failures) != 2 || res.Truncated {
		t.Fatalf("a log of exactly the cap is read whole: %v %+v", err, res)
	}
}

func TestReadMaxFailures(t *testing.T) {
	var b strings.Builder
	for i := range MaxFailures + 10 {
		fmt.Fprintf(&b, "remote: Authentication by CI/CD job token not allowed from c to p%d.\n", i)
	}
	res, err := Read("l", strings.NewReader(b.String()), ReadOptions{})
	if err != nil || len(res.Failures) != MaxFailures || len(res.Notes) != 1 {
		t.Fatalf("%v: %d failures, notes %q", err, len(res.Failures), res.Notes)
	}
}

// genLog is a job log of size bytes made on the fly: build output lines,
// then the failure at the very end. It samples the heap as it goes.
type genLog struct {
	left, size int64
	tail       string
	peak       uint64
	sampled    int64
	line       []byte
}

func (g *genLog) Read(p []byte) (int, error) {
	if g.left <= 0 {
		if g.tail == "" {
			return 0, io.EOF
		}
		n := copy(p, g.tail)
		g.tail = g.tail[n:]
		return n, nil
	}
	if g.size-g.left-g.sampled >= 16<<20 {
		g.sampled = g.size - g.left
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g.peak = max(g.peak, ms.HeapInuse)
	}
	n := 0
	for n < len(p) && g.left > 0 {
		pos := int((g.size - g.left) % int64(len(g.line)))
		c := min(copy(p[n:], g.line[pos:]), int(g.left))
		n += c
		g.left -= int64(c)
	}
	return n, nil
}

func TestRead200MB(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 MB")
	}
	// issue 10: a failure at the end of a 200 MB log was missed (the read
	// kept the first 100 MB) and the log was buffered whole (780 MB).
	const size = 200 << 20
	g := &genLog{left: size, size: size, line: []byte("\x1b[0K[build] compiling module 0042 of 9999: ok, 12.3s elapsed, cache hit ratio 0.97\n"),
		tail: "\n$ git clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/libs/jslib.git\"\nremote: Authentication by CI/CD job token not allowed from web to jslib.\n"}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Read("huge.log", g, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].CalleeRef != "jslib" || res.Bytes < size {
		t.Fatalf("failures %+v, %d bytes read", res.Failures, res.Bytes)
	}
	// The heap in use stays that of a few buffers: 32 MiB is far above
	// what the read needs (a 64 KiB buffer, one line) and far below the log.
	if g.peak == 0 || g.peak > before.HeapInuse+32<<20 {
		t.Errorf("heap in use peaked at %d MiB (before: %d MiB)", g.peak>>20, before.HeapInuse>>20)
	}
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

// TestSignatureLiterals checks that every line of the test logs that a
// signature's expression matches holds one of its literals, so that the
// fast path of match never skips a failure.
func TestSignatureLiterals(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	if len(files) == 0 {
		t.Fatal("no test logs")
	}
	matched := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range strings.Split(string(data), "\n") {
			line := clean(raw)
			for _, sig := range signatures {
				if sig.re.MatchString(line) {
					matched[sig.id] = true
					if !containsAny(line, sig.lits) {
						t.Errorf("%s: %s matches %q without any of its literals %q", f, sig.id, line, sig.lits)
					}
				}
			}
		}
	}
	for _, sig := range signatures {
		if len(sig.lits) == 0 {
			t.Errorf("%s has no literals", sig.id)
		}
		if !matched[sig.id] {
			t.Logf("no test log line for %s", sig.id)
		}
	}
}
