package sim_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

type listedJob struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	Ref           string `json:"ref"`
	CreatedAt     string `json:"created_at"`
	WebURL        string `json:"web_url"`
	FailureReason string `json:"failure_reason"`
	User          *struct {
		Username string `json:"username"`
	} `json:"user"`
}

func listJobs(t *testing.T, url string) (int, []listedJob, http.Header) {
	t.Helper()
	resp, body := do(t, "GET", url, tokMaint, "")
	var out []listedJob
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func TestListJobs(t *testing.T) {
	dir := writeOrg(t)
	for name, content := range map[string]string{
		"_jobs/apps/web/5000.json": `{"name": "deps", "status": "failed", "ref": "main", "created_at": "2026-11-30T10:00:00Z", "user": "alice"}`,
		"_jobs/apps/web/5000.log":  "remote: Authentication by CI/CD job token not allowed from web to build-scripts.\n",
		"_jobs/apps/web/4900.json": `{"name": "lint", "status": "success"}`,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sim.Load(dir, sim.Options{Tokens: testTokens})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	base := run.URL + "/api/v4/projects/apps%2Fweb/jobs"

	// Every job, newest (highest id) first; a job known by its log only
	// succeeded.
	status, all, _ := listJobs(t, base)
	if status != 200 || len(all) != 3 || all[0].ID != 5000 || all[1].ID != 4900 || all[2].ID != 4711 || all[2].Status != "success" {
		t.Fatalf("list = %d %+v", status, all)
	}
	// scope[]=failed: the failed one, with its fields.
	status, failed, h := listJobs(t, base+"?scope[]=failed&per_page=1")
	if status != 200 || len(failed) != 1 || h.Get("X-Total") != "1" {
		t.Fatalf("failed = %d %+v", status, failed)
	}
	f := failed[0]
	if f.Name != "deps" || f.Ref != "main" || f.CreatedAt != "2026-11-30T10:00:00.000Z" || f.FailureReason != "script_failure" ||
		f.User == nil || f.User.Username != "alice" || f.WebURL != externalURL+"/apps/web/-/jobs/5000" {
		t.Errorf("failed job = %+v", f)
	}
	if status, body := raw(t, "GET", base+"?scope=bogus", tokMaint, ""); status != 400 || !strings.Contains(body, "scope does not have a valid value") {
		t.Errorf("bad scope = %d %s", status, body)
	}
	if status, _ := raw(t, "GET", base, tokGuest, ""); status != 403 && status != 404 {
		t.Errorf("guest lists jobs: %d", status)
	}

	// A simulated job, finished as failed with a log: listed and served
	// like the others, with an id that skips the snapshot's.
	j := newJob(t, run.URL, "apps/web", "")
	if st, out := jobReq(t, "GET", genericURL(run.URL, "libs/pylib"), j.Token); st != 403 {
		t.Fatalf("cross-project request: %d %s", st, out)
	}
	status, out := raw(t, "POST", run.URL+"/-/sim/jobs/1/finish", tokAdmin, `{"status": "failed", "log": "$ curl ...\n{\"message\":\"403 Forbidden\"}\n", "name": "fetch"}`)
	if status != 200 || !strings.Contains(out, `"status":"failed"`) ||
		!strings.Contains(out, `"denied":[{"target":"libs/pylib","reason":"not-allowlisted","message":"Authentication by CI/CD job token not allowed from web to pylib."}]`) {
		t.Fatalf("finish = %d %s", status, out)
	}
	_, failed, _ = listJobs(t, base+"?scope[]=failed")
	if len(failed) != 2 || failed[1].ID != 1 || failed[1].Name != "fetch" || failed[1].Status != "failed" {
		t.Fatalf("failed after the simulated job = %+v", failed)
	}
	if status, log := raw(t, "GET", run.URL+"/api/v4/projects/apps%2Fweb/jobs/1/trace", tokMaint, ""); status != 200 || !strings.Contains(log, "403 Forbidden") {
		t.Errorf("trace = %d %q", status, log)
	}
	// Without a log, a failed job's log lists its denied requests.
	j2 := newJob(t, run.URL, "apps/web", "")
	jobReq(t, "GET", genericURL(run.URL, "libs/pylib"), j2.Token)
	raw(t, "POST", run.URL+"/-/sim/jobs/2/finish", tokAdmin, `{"status": "failed"}`)
	if status, log := raw(t, "GET", run.URL+"/api/v4/projects/apps%2Fweb/jobs/2/trace", tokMaint, ""); status != 200 ||
		!strings.Contains(log, "Authentication by CI/CD job token not allowed from web to pylib.") {
		t.Errorf("generated trace = %d %q", status, log)
	}
	if status, _ := raw(t, "POST", run.URL+"/-/sim/jobs/2/finish", tokAdmin, `{"status": "weird"}`); status != 400 {
		t.Errorf("bad status = %d", status)
	}
}

func TestJobFileErrors(t *testing.T) {
	for name, content := range map[string]string{
		"_jobs/apps/web/x.json":  `{}`,
		"_jobs/apps/web/7.json":  `{"nam": "typo"}`,
		"_jobs/apps/web/8.json":  `{"status": "exploded"}`,
		"_jobs/nope/proj/9.json": `{}`,
	} {
		dir := writeOrg(t)
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := sim.Load(dir, sim.Options{})
		if err == nil {
			s.Close()
			t.Errorf("%s %s: loaded", name, content)
			continue
		}
		if want := filepath.Base(name); !strings.Contains(err.Error(), want) && !strings.Contains(err.Error(), "nope/proj") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}
