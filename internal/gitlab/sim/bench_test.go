package sim_test

import (
	"fmt"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/orggen"
)

// benchOrg serves a generated org of 2,000 projects without latency, so
// that the benchmarks measure the simulator's own cost per request (it
// must stay far below the 20 ms a benchmark adds as GitLab's latency).
func benchOrg(b *testing.B) (*gitlab.Client, []string) {
	b.Helper()
	dir := b.TempDir()
	if _, err := orggen.Write(dir, orggen.Options{Projects: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	s, err := sim.Load(dir, sim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	run, err := s.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { run.Close(); s.Close() })
	c, _ := client(b, run.URL, tokAdmin)
	var paths []string
	for _, p := range s.Export().Projects {
		paths = append(paths, p.Path)
	}
	return c, paths
}

// One request of the client's job token query for 50 projects.
//
//	go test -run '^$' -bench Simulator ./internal/gitlab/sim
func BenchmarkSimulatorGraphQLJobTokenSettings(b *testing.B) {
	c, paths := benchOrg(b)
	q := readClientQuery(b, "job_token_settings")
	vars := map[string]any{"fullPaths": paths[100:150], "first": 50, "authLogFirst": 20}
	for b.Loop() {
		var out gqlResponse
		if _, err := c.GraphQL.Do(gitlab.GraphQLQuery{Query: q, Variables: vars}, &out); err != nil || len(out.Errors) > 0 {
			b.Fatal(err, out.Errors)
		}
		if n := len(dig(out.Data, "projects", "nodes").([]any)); n != 50 {
			b.Fatalf("%d projects", n)
		}
	}
}

// One raw file read.
func BenchmarkSimulatorRawFile(b *testing.B) {
	c, paths := benchOrg(b)
	i := 0
	for b.Loop() {
		p := paths[200+i%1000]
		i++
		if _, _, err := c.RepositoryFiles.GetRawFile(p, ".gitlab-ci.yml", nil); err != nil {
			b.Fatal(fmt.Errorf("%s: %w", p, err))
		}
	}
}
