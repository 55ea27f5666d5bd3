package trust

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

// hostileNames end a line, a comment or a scalar in YAML, or pass for
// another type: the draft is built from a graph directly, so that its
// quoting is tested whatever validation refuses upstream.
var hostileNames = []string{
	"g/nl\nedges: []\n#",
	"g/cr\rx: y",
	"g/ls\u2028- caller: evil\u2029x\u0085y",
	"g/q\"'x",
	"g/flow: [a, {b: c}]",
	"g/#comment",
	"g/&anchor *alias !tag",
	"g/bs\\\"\\",
	"g/c1\u0080\u009f\x7f\ufeff",
	"g/ctl\x00\x1b[2J",
	"g/$(x)${y}`z`",
	"- g/dash",
	"? g/key",
	"1e3",
	"0x1f",
	"yes",
	"null",
	"~",
	"",
	" g/space ",
	"g/-->|x|",
}

func namedGraph(names []string) *graph.Graph {
	g := &graph.Graph{}
	for i, n := range names {
		callee := names[(i+1)%len(names)]
		g.Edges = append(g.Edges, graph.Edge{Caller: n, Callee: callee, Access: []access.Kind{access.RepositoryRead, access.RepositoryWrite},
			Uses: []use.Use{{Origin: use.CIConfig, Access: access.RepositoryRead, Caller: n,
				Evidence: use.Evidence{Pos: loc.Pos{Project: n, File: ".gitlab-ci.yml\n" + n, Line: 3}, Job: "job " + n, Detail: "git clone " + callee}}}})
	}
	g.Edges = append(g.Edges, graph.Edge{Caller: names[0], Callee: names[2], Access: []access.Kind{access.RepositoryWrite}})
	g.Unresolved = []use.Unresolved{{Pos: loc.Pos{Project: names[0], File: names[1], Line: 9}, Job: names[2], Reference: names[3], Reason: names[4]}}
	slices.SortFunc(g.Edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	return g
}

// TestDraftQuotesHostileNames: the draft parses as YAML, its edges read
// back as exactly the names that went in, and no name adds or breaks a
// line (the same number of lines as a draft of benign names).
func TestDraftQuotesHostileNames(t *testing.T) {
	out := Draft(namedGraph(hostileNames), DraftOptions{Source: "snap\nedges: [x]"})
	var doc struct {
		Edges []struct{ Caller, Callee string }
		Waves []struct {
			Name     string
			Projects []string
		}
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("the draft is not YAML: %v\n%s", err, out)
	}
	var got, want []string
	for _, e := range doc.Edges {
		got = append(got, e.Caller+" -> "+e.Callee)
	}
	for i, n := range hostileNames {
		valid := string([]rune(n)) // invalid UTF-8 reads back as U+FFFD
		want = append(want, valid+" -> "+string([]rune(hostileNames[(i+1)%len(hostileNames)])))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("edges read back:\n%q\nwant\n%q", got, want)
	}
	var waved []string
	for _, w := range doc.Waves {
		waved = append(waved, w.Projects...)
	}
	for _, p := range waved {
		if !slices.Contains(hostileNames, p) {
			t.Errorf("wave project %q is none of the names", p)
		}
	}
	// Every line is one the draft writes: a comment, a top-level key, an
	// edge's or a wave's field. A name that ended a comment or a scalar
	// would leave a line of its own.
	shape := regexp.MustCompile(`^(|\s*#.*|(version|edges|groups|deny|waves): .*|(edges|waves):|  - (caller|name): .*|    (callee|access|reason|owner|unreviewed|all|projects|groups): .*)$`)
	for i, l := range strings.Split(string(out), "\n") {
		if !shape.MatchString(l) {
			t.Errorf("line %d is none the draft writes: %q", i+1, l)
		}
	}
	// trust.Load reads the same names back (the empty caller aside: an
	// edge needs one; it trims spaces).
	f, _ := Load("trust.yaml", out, LoadOptions{})
	if f == nil || len(f.Edges) != len(hostileNames)-2 {
		t.Fatalf("trust.Load read %v", f)
	}
	for _, e := range f.Edges {
		if !slices.ContainsFunc(want, func(w string) bool {
			c, d, _ := strings.Cut(w, " -> ")
			return strings.TrimSpace(c) == e.Caller && strings.TrimSpace(d) == e.Callee
		}) {
			t.Errorf("trust.Load read an edge %q -> %q", e.Caller, e.Callee)
		}
	}
}

func TestScalarReadsBack(t *testing.T) {
	for _, s := range append(slices.Clone(hostileNames), "true", "False", "0o17", ".inf", "-.5", "+1", "2026-01-02", "a: b", "a #b", "'", "\"", "@x", "`x", "%x", "!x", "|", ">", "=") {
		var v any
		if err := yaml.Unmarshal([]byte("k: "+scalar(s)+"\n"), &v); err != nil {
			t.Errorf("%q as %s: %v", s, scalar(s), err)
			continue
		}
		got, ok := v.(map[string]any)["k"].(string)
		if want := string([]rune(s)); !ok || got != want {
			t.Errorf("%q as %s reads back as %#v", s, scalar(s), v.(map[string]any)["k"])
		}
	}
}

// FuzzLoadTrust: whatever trust.yaml holds, Load never panics, and every
// diagnostic names a line of the file on one line of its own.
func FuzzLoadTrust(f *testing.F) {
	for _, s := range []string{
		"version: 1\nedges:\n  - {caller: a/b, callee: c/d, access: [repository-read], reason: r, owner: o}\n",
		"version: 1\nedges: []\ngroups:\n  - {callee: c/d, caller_group: a, access: [container-read], reason: r}\ndeny:\n  - {callee: c/d, except: [a/b], reason: r}\nwaves:\n  - {name: pilot, projects: [c/d]}\n  - {name: all, all: true}\n",
		"version: 1\nedges:\n  - {caller: \"a\\nb\", callee: [x], access: nope, expires: 2026-13-45}\n",
		"version: 2\n",
		"&a [*a, *a]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, diags := Load("trust.yaml", data, LoadOptions{})
		// YAML's line breaks: \r\n, \n, \r, and in yaml.v3 (YAML 1.1)
		// U+0085, U+2028, U+2029; +1: the end of a document is placed on
		// the line after it.
		text := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(string(data))
		lines := strings.Count(text, "\n") + 2
		for _, d := range diags {
			if d.Line < 0 || d.Line > lines || strings.Contains(d.String(), "\n") {
				t.Errorf("diagnostic %q: line %d of a %d-line file, or a raw newline", d.String(), d.Line, lines)
			}
		}
	})
}

// FuzzDraftName: the hostile-name property of the draft for any name: the
// draft parses as YAML, keeps its line structure, and the name reads back.
func FuzzDraftName(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	shape := regexp.MustCompile(`^(|\s*#.*|(version|edges|groups|deny|waves): .*|(edges|waves):|  - (caller|name): .*|    (callee|access|reason|owner|unreviewed|all|projects|groups): .*)$`)
	f.Fuzz(func(t *testing.T, name string) {
		names := []string{name, "g/b", "g/c", "g/d", "g/e"}
		if slices.Contains(names[1:], name) {
			t.Skip()
		}
		out := Draft(namedGraph(names), DraftOptions{Source: name})
		var doc struct {
			Edges []struct{ Caller, Callee string }
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("the draft is not YAML: %v\n%s", err, out)
		}
		found := false
		for _, e := range doc.Edges {
			found = found || e.Caller == string([]rune(name))
		}
		if !found {
			t.Errorf("name %q does not read back: %+v", name, doc.Edges)
		}
		for i, l := range strings.Split(string(out), "\n") {
			if !shape.MatchString(l) {
				t.Fatalf("line %d is none the draft writes: %q", i+1, l)
			}
		}
	})
}
