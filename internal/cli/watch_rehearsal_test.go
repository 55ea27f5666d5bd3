package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/cli"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// tsRun runs tokenscope with args against the simulator at base and returns
// stdout and the exit code.
func tsRun(t *testing.T, base string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"GITLAB_URL": base, "GITLAB_TOKEN": "glpat-rehearsalAdminToken01"}
	ios := &cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return time.Now() }}
	code := cli.Main(context.Background(), args, ios)
	if code != 0 && code != 3 {
		t.Fatalf("tokenscope %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String(), code
}

// TestWatchFindsWhatEnforcingBroke is issue 9's second rehearsal: a plan
// whose pre-flight says some callers would be refused (uses that trust.yaml
// does not approve) is applied to the simulator for examples/acme; the
// refused uses then run as jobs, fail with the output their tool prints,
// and the breakage watch (diagnose --group) finds each with its edge and
// says not to widen the allowlist for it.
func TestWatchFindsWhatEnforcingBroke(t *testing.T) {
	acme := filepath.Join("..", "..", "examples", "acme")
	s, err := sim.Load(acme, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rn, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rn.Close()
	base := rn.URL
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	groups := []string{"--group", "platform", "--group", "libs", "--group", "apps", "--group", "infra", "--group", "data", "--group", "sandbox", "--include-archived"}
	tsRun(t, base, append([]string{"plan", "--trust", filepath.Join(acme, "trust.yaml"), "--prune", "--format", "json", "-q", "-o", planFile}, groups...)...)

	// The pre-flight (rollout status over the live org, with the plan):
	// the wave that enforces platform/build-scripts is blocked by data/etl,
	// whose use trust.yaml does not approve. (apps/legacy-portal, also
	// refused, is archived: it runs no jobs.)
	pre, code := tsRun(t, base, append([]string{"rollout", "status", "--trust", filepath.Join(acme, "trust.yaml"), "--plan", planFile, "--format", "json", "-q"}, groups...)...)
	if code != 3 {
		t.Fatalf("rollout status: exit %d, want 3 (a wave would refuse a caller in use)\n%s", code, pre)
	}
	var status struct {
		Waves []struct {
			Name    string `json:"name"`
			Verdict string `json:"verdict"`
			Blocked []struct {
				Caller string `json:"caller"`
				Callee string `json:"callee"`
				Status string `json:"status"`
			} `json:"blocked"`
		} `json:"waves"`
	}
	if err := json.Unmarshal([]byte(pre), &status); err != nil {
		t.Fatal(err)
	}
	predicted := map[string]string{}
	for _, w := range status.Waves {
		for _, b := range w.Blocked {
			if w.Verdict == "blocked" {
				predicted[b.Caller+" -> "+b.Callee] = b.Status
			}
		}
	}
	if predicted["data/etl -> platform/build-scripts"] != "unapproved" {
		t.Fatalf("the pre-flight does not say data/etl -> platform/build-scripts would be refused: %v\n%s", predicted, pre)
	}
	tsRun(t, base, "apply", planFile, "--yes", "--journal", filepath.Join(dir, "j.jsonl"))

	// The blocked uses, run as jobs of their callers.
	type use struct {
		caller, callee string
		logOf          func(token string) string
	}
	uses := []use{
		{"data/etl", "platform/build-scripts", func(tok string) string {
			return "$ git clone --depth 1 \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/build-scripts.git\" vendor/build-scripts\n" +
				gitOutput(t, base, "platform/build-scripts", tok)
		}},
		// sandbox/broken is denied by a deny rule: the refusal is intended.
		{"sandbox/broken", "platform/build-scripts", func(tok string) string {
			u := base + "/api/v4/projects/" + url.PathEscape("platform/build-scripts") + "/packages/generic/tools/1.0/tools.tgz"
			return "$ curl --fail-with-body --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"${CI_API_V4_URL}/projects/platform%2Fbuild-scripts/packages/generic/tools/1.0/tools.tgz\"\n" +
				curlOutput(t, u, tok)
		}},
	}
	for _, u := range uses {
		id, tok := simJob(t, base, u.caller)
		log := u.logOf(tok)
		body, _ := json.Marshal(map[string]any{"status": "failed", "log": log, "name": "blocked-use"})
		status, out := post(t, base+"/-/sim/jobs/"+id+"/finish", string(body))
		if status != 200 || !strings.Contains(out, `"reason":"not-allowlisted"`) {
			t.Fatalf("finish %s: %d %s (the use was not refused by the simulator)", u.caller, status, out)
		}
	}

	out, code := tsRun(t, base, append([]string{"diagnose", "--since", "1h", "--source", acme, "--trust", filepath.Join(acme, "trust.yaml"), "--format", "json"}, groups[:len(groups)-1]...)...)
	if code != 3 {
		t.Fatalf("exit %d; want 3 (job-token failures found)\n%s", code, out)
	}
	var doc struct {
		Callees []struct {
			Callee   string `json:"callee"`
			Failures []struct {
				Job struct {
					Project string `json:"project"`
				} `json:"job"`
				Kind   string `json:"kind"`
				Caller string `json:"caller"`
				Callee string `json:"callee"`
				Action string `json:"action"`
			} `json:"failures"`
		} `json:"callees"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, u := range uses {
		found := false
		for _, c := range doc.Callees {
			for _, f := range c.Failures {
				if f.Caller == u.caller && f.Callee == u.callee && c.Callee == u.callee && f.Job.Project == u.caller {
					found = true
					if f.Kind != "not-allowlisted" || f.Action != "do-not-widen" {
						t.Errorf("%s → %s: kind %s, action %s; want not-allowlisted, do-not-widen", u.caller, u.callee, f.Kind, f.Action)
					}
				}
			}
		}
		if !found {
			t.Errorf("the watch does not find %s → %s:\n%s", u.caller, u.callee, out)
		}
	}
}

func post(t *testing.T, u, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("PRIVATE-TOKEN", "glpat-rehearsalAdminToken01")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func simJob(t *testing.T, base, project string) (id, token string) {
	t.Helper()
	status, out := post(t, base+"/-/sim/jobs", `{"project": "`+project+`"}`)
	if status != 201 {
		t.Fatalf("start a job of %s: %d %s", project, status, out)
	}
	var j struct {
		ID    int    `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(j.ID), j.Token
}

// gitOutput is what git prints when the clone is refused: git itself when
// it is installed (it shows the server's text as "remote:" lines), else
// the same lines as git writes them from the simulator's answer.
func gitOutput(t *testing.T, base, project, token string) string {
	t.Helper()
	u, _ := url.Parse(base + "/" + project + ".git")
	if git, err := exec.LookPath("git"); err == nil {
		u.User = url.UserPassword("gitlab-ci-token", token)
		cmd := exec.Command(git, "ls-remote", u.String())
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("git ls-remote: %v", err)
		}
		if out := stderr.String(); strings.Contains(out, "remote:") {
			return out
		}
		t.Logf("git printed no remote: line; using the simulator's answer: %s", stderr.String())
	}
	req, _ := http.NewRequest("GET", u.String()+"/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("gitlab-ci-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return "remote: " + strings.TrimSpace(string(body)) + "\nfatal: unable to access '" + u.String() + "/': The requested URL returned error: " + resp.Status[:3] + "\n"
}

// curlOutput is what curl --fail-with-body prints for a refused request:
// the body, then its error line.
func curlOutput(t *testing.T, u, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("JOB-TOKEN", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body)) + "\ncurl: (22) The requested URL returned error: " + resp.Status[:3] + "\n"
}

// TestDiagnoseStreams is issue 10's diagnose case: a 2 MiB line no longer
// ends the read (the failures before and after it are found, a warning
// says the line was matched in part), and a log that cannot be read does
// not hide what the others held.
func TestDiagnoseStreams(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.log")
	content := "remote: Authentication by CI/CD job token not allowed from web to jslib.\n" + strings.Repeat("x", 2<<20) +
		"\nremote: Authentication by CI/CD job token not allowed from web to pylib.\n"
	if err := os.WriteFile(long, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	main := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		ios := &cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
		code := cli.Main(context.Background(), args, ios)
		return out.String(), errb.String(), code
	}
	out, stderr, code := main("diagnose", long)
	if code != 3 || !strings.Contains(out, "long.log:1") || !strings.Contains(out, "long.log:3") || !strings.Contains(out, "not allowed from web to pylib") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if !strings.Contains(stderr, "1 line(s) longer than 65536 bytes (the first is line 2)") {
		t.Errorf("no warning about the long line: %q", stderr)
	}
	out, stderr, code = main("diagnose", "-q", long, filepath.Join(dir, "missing.log"))
	if code != 1 || !strings.Contains(out, "long.log:3") || !strings.Contains(stderr, "missing.log") || strings.Contains(stderr, "longer than") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
}

// TestDiagnoseJobStreams200MB: diagnose --job reads a 200 MB log from
// GitLab to its end (the failure on its last line; issue 10: the first
// 100 MB were kept, whole, in memory), with the heap in use sampled while
// the server sends it.
func TestDiagnoseJobStreams200MB(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 200 MB")
	}
	const size = 200 << 20
	var peak uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/jobs/42/trace") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		line := []byte(strings.Repeat("build output ", 80) + "\n")
		for sent := 0; sent < size; sent += len(line) {
			if _, err := w.Write(line); err != nil {
				return
			}
			if sent%(16<<20) < len(line) {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		io.WriteString(w, "$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/libs/jslib.git\nremote: Authentication by CI/CD job token not allowed from web to jslib.\n")
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	env := map[string]string{"GITLAB_URL": srv.URL, "GITLAB_TOKEN": "glpat-x"}
	ios := &cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := cli.Main(context.Background(), []string{"diagnose", "--job", "42", "--project", "apps/web"}, ios)
	if code != 3 || !strings.Contains(out.String(), "not allowed from web to jslib") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if peak == 0 || peak > before.HeapInuse+64<<20 {
		t.Errorf("heap in use peaked at %d MiB (before: %d MiB) for a 200 MB log", peak>>20, before.HeapInuse>>20)
	}
}
