package discovery

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// TestExampleEdges scans the bundled example org and checks the result
// against examples/acme/expected-edges.txt, written by hand from what the
// pipelines do: exactly those edges with exactly those access kinds (no
// more: a false edge becomes an allowlist entry someone may approve), the
// listed unresolved references and at least the listed notes.
func TestExampleEdges(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "acme")
	want := readExpected(t, filepath.Join(dir, "expected-edges.txt"))
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	g, _, err := Scan(context.Background(), snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range g.Edges {
		got = append(got, edgeLine(e))
	}
	for _, l := range missing(want.edges, got) {
		t.Errorf("missing edge: %s", l)
	}
	for _, l := range missing(got, want.edges) {
		t.Errorf("unexpected edge: %s%s", l, evidenceOf(g, l))
	}
	for _, u := range want.unresolved {
		if !slices.ContainsFunc(g.Unresolved, func(x use.Unresolved) bool {
			return x.Project == u[0] && strings.Contains(x.Reference, u[1])
		}) {
			t.Errorf("missing unresolved reference in %s: %s (have %+v)", u[0], u[1], g.Unresolved)
		}
	}
	for _, n := range want.notes {
		if !slices.ContainsFunc(g.Notes, func(x use.Note) bool {
			return string(x.Kind) == n[0] && x.Project == n[1] && strings.Contains(strings.ToLower(x.Detail), strings.ToLower(n[2]))
		}) {
			t.Errorf("missing note %s in %s mentioning %q", n[0], n[1], n[2])
		}
	}
	if t.Failed() {
		for _, n := range g.Notes {
			t.Logf("note: %s %s %s:%d %s", n.Kind, n.Project, n.File, n.Line, n.Detail)
		}
	}
}

type expected struct {
	edges      []string
	unresolved [][2]string
	notes      [][3]string
}

func readExpected(t *testing.T, path string) expected {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var e expected
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "unresolved "):
			p, ref, _ := strings.Cut(strings.TrimPrefix(line, "unresolved "), ": ")
			e.unresolved = append(e.unresolved, [2]string{p, ref})
		case strings.HasPrefix(line, "note "):
			f := strings.SplitN(strings.TrimPrefix(line, "note "), " ", 2)
			p, detail, _ := strings.Cut(f[1], ": ")
			e.notes = append(e.notes, [3]string{f[0], p, detail})
		default:
			e.edges = append(e.edges, line)
		}
	}
	return e
}

func edgeLine(e graph.Edge) string {
	kinds := "(auth-log)"
	if len(e.Access) > 0 {
		s := make([]string, len(e.Access))
		for i, k := range e.Access {
			s[i] = string(k)
		}
		kinds = strings.Join(s, ", ")
	}
	return e.Caller + " -> " + e.Callee + ": " + kinds
}

func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

func evidenceOf(g *graph.Graph, line string) string {
	for _, e := range g.Edges {
		if edgeLine(e) == line {
			var s []string
			for _, u := range e.Uses {
				s = append(s, string(u.Access)+" "+u.Evidence.File+":"+itoa(u.Evidence.Line)+" "+u.Evidence.Detail)
			}
			return "\n\t" + strings.Join(s, "\n\t")
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
