package shell

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// FuzzAnalyze feeds arbitrary text as a job script (and as the script
// files it may run) and checks the invariants the detectors rely on.
// The seeds in testdata/fuzz/FuzzAnalyze run with every go test.
func FuzzAnalyze(f *testing.F) {
	f.Add("git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/a/b.git", 1)
	repanic = true
	f.Cleanup(func() { repanic = false })
	f.Fuzz(func(t *testing.T, text string, step int) {
		read := func(name string) ([]byte, error) {
			if strings.HasSuffix(name, ".sh") {
				return []byte(text), nil
			}
			return nil, fs.ErrNotExist
		}
		srcs := []Source{
			{Text: text, Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 7}, LineStep: step & 1, Section: "script"},
			{Text: "echo end", Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 1000}, LineStep: 1, Section: "script"},
		}
		r := Analyze(srcs, jobEnv(), Options{ReadFile: read, MaxCommands: 5000})
		lines := strings.Count(text, "\n") + 1
		for i, c := range r.Commands {
			if len(c.Args) == 0 {
				t.Fatalf("command %d has no args", i)
			}
			if c.Env == nil {
				t.Fatalf("command %d has no Env", i)
			}
			if c.Pos.File == ".gitlab-ci.yml" && (c.Pos.Line < 7 || c.Pos.Line > 7+lines && c.Pos.Line != 1000) {
				t.Fatalf("command %d at line %d, outside the source (lines 7..%d)", i, c.Pos.Line, 6+lines)
			}
			if c.Stdin != nil && c.Stdin == c {
				t.Fatalf("command %d is its own stdin", i)
			}
			for _, w := range c.Args {
				for _, u := range w.Unknown {
					if u == "" {
						t.Fatalf("command %d: empty unknown name in %+v", i, w)
					}
				}
			}
		}
		for _, d := range r.Diags {
			if strings.Contains(d.Summary, "internal error") {
				t.Fatalf("panic: %v", d)
			}
		}
		// The text as a before_script that several jobs share: continuing
		// from the cached state gives what analysing it again gives.
		shared := []Source{
			{Text: text, Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 7}, LineStep: step & 1, Section: "before_script"},
			{Text: `echo "$CI_PROJECT_NAME" "$X"; curl -H "JOB-TOKEN: $CI_JOB_TOKEN" "$URL"`, Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 1000}, LineStep: 1, Section: "script"},
		}
		cache := NewProjectCache()
		for _, x := range []string{"1", "2", "1"} {
			env := jobEnv()
			env["X"] = x
			opts := Options{ReadFile: read, MaxCommands: 5000}
			want := renderSeen(Analyze(shared, env, opts).Commands, "X", "URL", "CI_PROJECT_NAME")
			opts.Cache = cache
			if got := renderSeen(Analyze(shared, env, opts).Commands, "X", "URL", "CI_PROJECT_NAME"); got != want {
				t.Fatalf("X=%s: with the project cache\n%s\nwant\n%s", x, got, want)
			}
		}
	})
}
