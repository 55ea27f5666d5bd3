package live_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/live"
	"github.com/tokenscope/tokenscope/internal/orggen"
)

// BenchmarkSnapshot snapshots a generated org of 2,000 projects served by
// the simulator at 20 ms per request, twice: the batched client
// (GraphQL, many projects and files per request) and, as the baseline, a
// naive per-project REST walk (list, then each project's tree, each file
// and each allowlist one request at a time; the client's REST mode, also
// its fallback before GitLab 16.6). It reports requests per project and
// wall time for each, and checks that a batched run with 20% of requests
// failing (429, 5xx, slow, dropped) ends with the clean run's snapshot.
//
//	go test -run '^$' -bench Snapshot -benchtime 1x ./internal/live
//
// TOKENSCOPE_BENCH_PROJECTS changes the org size.
func BenchmarkSnapshot(b *testing.B) {
	n := 2000
	if s := os.Getenv("TOKENSCOPE_BENCH_PROJECTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	if _, err := orggen.Write(dir, orggen.Options{Projects: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	groups := map[string]bool{}
	for _, p := range snap.Inventory.Projects {
		groups[p.Path[:strings.IndexByte(p.Path, '/')]] = true
	}
	snap.Close()
	var top []string
	for g := range groups {
		top = append(top, g)
	}
	var clean *live.Result
	for _, mode := range []struct {
		name  string
		rest  bool
		fault float64
	}{{"batched", false, 0}, {"batched-20pct-faults", false, 0.2}, {"naive-rest", true, 0}} {
		b.Run(mode.name, func(b *testing.B) {
			s, url := startSim(b, dir, sim.Options{Latency: 20 * time.Millisecond, FailRate: mode.fault, Seed: 1, SlowDelay: time.Second})
			for b.Loop() {
				s.ResetStats()
				start := time.Now()
				res := snapshot(b, url, gitlab.Options{}, live.Options{Groups: top, REST: mode.rest})
				switch {
				case mode.name == "batched":
					clean = res
				case mode.fault > 0 && clean != nil:
					// Under faults the snapshot must be the clean one.
					if canonical(b, res.Inventory) != canonical(b, clean.Inventory) || !sameFiles(res.Files, clean.Files) {
						b.Error("snapshot under 20% faults differs from the clean run")
					}
					b.Logf("faults injected: %v", s.Stats().Faults)
				}
				st := s.Stats()
				b.ReportMetric(float64(st.Requests)/float64(len(res.Inventory.Projects)), "req/project")
				b.ReportMetric(float64(st.Requests), "requests")
				b.ReportMetric(time.Since(start).Seconds(), "wall-s")
				b.Logf("%s: %d projects, %d requests by route %v, GraphQL operations %v", mode.name, len(res.Inventory.Projects), st.Requests, st.ByRoute, st.GraphQLOperations)
			}
		})
	}
}
