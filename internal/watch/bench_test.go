package watch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/watch"
)

// watchOrg writes an org of projects callers, each with jobsEach failed
// jobs in the last day whose logs (about 20 KB of build output) end with
// a job-token denial, plus a library they all call.
func watchOrg(t testing.TB, callers, jobsEach int) (dir string, projects []string) {
	t.Helper()
	dir = t.TempDir()
	var inv strings.Builder
	inv.WriteString("version: 1\nserver_url: https://gitlab.bench.example\ngitlab_version: \"18.5\"\nprojects:\n  - {path: libs/core, id: 1}\n")
	build := strings.Repeat("[build] compiling module ok, 12.3s elapsed, cache hit ratio 0.97\n", 300)
	now := time.Now().UTC()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := 1000
	for i := range callers {
		p := fmt.Sprintf("apps/app-%03d", i)
		projects = append(projects, p)
		fmt.Fprintf(&inv, "  - {path: %s, id: %d}\n", p, 100+i)
		write(p+"/.gitlab-ci.yml", "build:\n  script: [make]\n")
		for j := range jobsEach {
			id++
			at := now.Add(-time.Duration(j*callers+i) * time.Second)
			write(fmt.Sprintf("_jobs/%s/%d.json", p, id), fmt.Sprintf(`{"name": "build", "status": "failed", "created_at": %q}`, at.Format(time.RFC3339)))
			write(fmt.Sprintf("_jobs/%s/%d.log", p, id), "$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.bench.example/libs/core.git\n"+build+
				fmt.Sprintf("remote: Authentication by CI/CD job token not allowed from app-%03d to core.\n", i))
		}
	}
	write("libs/core/.gitlab-ci.yml", "test:\n  script: [make]\n")
	write("inventory.yaml", inv.String())
	return dir, projects
}

// BenchmarkWatch2000 is issue 9's second figure: the breakage watch over
// 2,000 failed jobs (100 projects × 20) with 20 ms of simulator latency
// per request, 8 requests in flight: requests made, wall time, bytes of
// log read.
func BenchmarkWatch2000(b *testing.B) {
	dir, projects := watchOrg(b, 100, 20)
	s, err := sim.Load(dir, sim.Options{Latency: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rn, err := s.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer rn.Close()
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	c, err := gitlab.New(gitlab.Options{URL: rn.URL, Token: "glpat-bench", Concurrency: 8})
	if err != nil {
		b.Fatal(err)
	}
	var rep *watch.Report
	s.ResetStats()
	b.ResetTimer()
	for b.Loop() {
		rep, err = watch.Run(context.Background(), c, watch.Options{
			Projects: projects, Since: time.Now().Add(-48 * time.Hour), MaxJobs: 5000, MaxLogBytes: 100 << 20,
			Concurrency: 8, Context: joblog.Context{Index: snap.Index},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rep.Failed != 2000 || rep.LogsRead != 2000 || len(rep.Findings) != 2000 {
		b.Fatalf("failed %d, read %d, findings %d; want 2000 each", rep.Failed, rep.LogsRead, len(rep.Findings))
	}
	b.ReportMetric(float64(s.Stats().Requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(rep.Bytes)/(1<<20), "MiB-read/op")
}

// TestWatchSim checks the watch against the simulator without latency:
// every failed job found once, each failure's edge, the cap.
func TestWatchSim(t *testing.T) {
	dir, projects := watchOrg(t, 5, 4)
	s, err := sim.Load(dir, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rn, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rn.Close()
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	c, err := gitlab.New(gitlab.Options{URL: rn.URL, Token: "glpat-test"})
	if err != nil {
		t.Fatal(err)
	}
	o := watch.Options{Projects: projects, Since: time.Now().Add(-time.Hour), Context: joblog.Context{Index: snap.Index}}
	rep, err := watch.Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 20 || len(rep.Findings) != 20 || rep.Capped {
		t.Fatalf("failed %d findings %d capped %v", rep.Failed, len(rep.Findings), rep.Capped)
	}
	for _, f := range rep.Findings {
		if f.Callee != "libs/core" || f.Caller != f.Job.Project || f.Job.WebURL == "" || f.Action != "review" {
			t.Errorf("finding %+v", f)
		}
	}
	// The cap reads the newest only: the jobs were created one second
	// apart, project after project.
	s.ResetStats()
	o.MaxJobs = 3
	rep, err = watch.Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 || !rep.Capped || rep.LogsRead != 3 {
		t.Fatalf("capped: failed %d read %d capped %v", rep.Failed, rep.LogsRead, rep.Capped)
	}
	if st := s.Stats(); st.ByRoute["GET /api/v4/projects/:id/jobs/:job_id/trace"] != 3 {
		t.Errorf("traces read under a cap of 3: %v", st.ByRoute)
	}
	// The byte cap stops a read, with a note.
	o.MaxJobs, o.MaxLogBytes = 1, 1000
	rep, err = watch.Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes != 1000 || len(rep.Notes) != 1 || len(rep.Findings) != 0 {
		t.Errorf("byte cap: %d bytes, notes %q, findings %d", rep.Bytes, rep.Notes, len(rep.Findings))
	}
	// The log bounds of --limit reach every log: matched on 16 bytes of
	// each end, the denial line is not recognised.
	o.MaxLogBytes, o.Read = 0, joblog.ReadOptions{MaxMatchLine: 16}
	rep, err = watch.Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LogsRead != 1 || len(rep.Findings) != 0 {
		t.Errorf("log-line 16: read %d, findings %+v", rep.LogsRead, rep.Findings)
	}
}
