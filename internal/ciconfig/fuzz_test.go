package ciconfig

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary root and included files through Load. The
// included text is reachable as a local include, a project include and a
// component, so every stage sees it. Load must not panic, must finish, and
// must keep its promises: sorted visible jobs, placed evidence and
// diagnostics, the same result twice. Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("include: ci/a.yml\njob:\n  extends: .a\n  script: [echo]\n"), []byte(".a:\n  image: alpine\n"))
	f.Add([]byte("kid:\n  variables: {A: b}\n  trigger:\n    include: [ci/a.yml, {project: g/tpl, file: t.yml}]\n"),
		[]byte("j: {script: [echo $A]}\nagain:\n  trigger: {include: ci/b.yaml}\n"))
	recoverPanics = false
	f.Cleanup(func() { recoverPanics = true })
	f.Fuzz(func(t *testing.T, root, included []byte) {
		files := memFiles{
			app:            {".gitlab-ci.yml": string(root), "ci/a.yml": string(included), "ci/b.yaml": string(included)},
			"g/tpl":        {"t.yml": string(included), "templates/c.yml": string(included)},
			"g/tpl/nested": {"templates/c/template.yml": string(included)},
		}
		opts := Options{Files: files, Vars: testVars, Cache: NewCache(),
			Limits: Limits{MaxIncludes: 20, MaxNodes: 20_000, MaxTotalBytes: 1 << 20}}
		cfg := Load(app, ".gitlab-ci.yml", opts)
		checkInvariants(t, cfg)
		again := Load(app, ".gitlab-ci.yml", opts) // warm cache this time
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("two loads differ:\n%+v\n%+v", cfg, again)
		}
	})
}

func checkInvariants(t *testing.T, cfg *Config) {
	t.Helper()
	if !slices.IsSortedFunc(cfg.Jobs, func(a, b Job) int { return cmp.Compare(a.Name, b.Name) }) {
		t.Fatalf("jobs not sorted: %v", jobNames(cfg))
	}
	for _, j := range cfg.Jobs {
		if strings.HasPrefix(j.Name, ".") {
			t.Fatalf("hidden job returned: %q", j.Name)
		}
		if j.Pos.File == "" || j.Pos.Project == "" {
			t.Fatalf("job %q has no position: %+v", j.Name, j.Pos)
		}
		for _, sec := range [][]Script{j.PreGetSources, j.BeforeScript, j.Script, j.AfterScript} {
			for _, s := range sec {
				if s.Pos.File == "" || s.Pos.Line <= 0 || (s.LineStep != 0 && s.LineStep != 1) {
					t.Fatalf("job %q script %q badly placed: %+v", j.Name, s.Text, s)
				}
			}
		}
		if !slices.IsSortedFunc(j.Variables, func(a, b Variable) int { return cmp.Compare(a.Name, b.Name) }) {
			t.Fatalf("job %q variables not sorted", j.Name)
		}
		if len(j.Variants) > 3*DefaultLimits.MaxMatrixVariants+1000 {
			t.Fatalf("job %q has %d variants", j.Name, len(j.Variants))
		}
	}
	for _, d := range cfg.Diags {
		if d.File == "" || d.Project == "" || d.Summary == "" || d.Detail == "" {
			t.Fatalf("diagnostic without a place, a summary or advice: %+v", d)
		}
	}
	for _, n := range cfg.Notes {
		if n.Project == "" || n.Kind == "" || n.Detail == "" {
			t.Fatalf("incomplete note: %+v", n)
		}
	}
}
