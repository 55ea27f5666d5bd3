package ciconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

const app = "g/app"

// vars are the include-usable variables of g/app on gitlab.example.com.
var testVars = map[string]string{
	"CI_SERVER_FQDN":       "gitlab.example.com",
	"CI_SERVER_HOST":       "gitlab.example.com",
	"CI_PROJECT_PATH":      app,
	"CI_PROJECT_NAMESPACE": "g",
	"CI_DEFAULT_BRANCH":    "main",
}

// loadApp loads g/app's .gitlab-ci.yml from files (root given as ci).
func loadApp(t *testing.T, ci string, files memFiles, opts ...func(*Options)) *Config {
	t.Helper()
	if files == nil {
		files = memFiles{}
	}
	if files[app] == nil {
		files[app] = map[string]string{}
	}
	files[app][".gitlab-ci.yml"] = ci
	o := Options{Files: files, Vars: testVars}
	for _, f := range opts {
		f(&o)
	}
	return Load(app, ".gitlab-ci.yml", o)
}

func withLimits(l Limits) func(*Options) { return func(o *Options) { o.Limits = l } }

func jobNamed(t *testing.T, cfg *Config, name string) *Job {
	t.Helper()
	for i := range cfg.Jobs {
		if cfg.Jobs[i].Name == name {
			return &cfg.Jobs[i]
		}
	}
	t.Fatalf("no job %q; jobs: %v; diags:\n%s", name, jobNames(cfg), diagText(cfg.Diags))
	return nil
}

func jobNames(cfg *Config) []string {
	var out []string
	for _, j := range cfg.Jobs {
		out = append(out, j.Name)
	}
	return out
}

func texts(ss []Script) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out
}

func varMap(vs []Variable) map[string]string {
	m := map[string]string{}
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

func diagText(ds diag.List) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintln(&b, d.String())
	}
	return b.String()
}

func noteText(ns []Note) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "%s %s:%d %s %s\n", n.Kind, n.File, n.Line, n.Job, n.Detail)
	}
	return b.String()
}

// requireClean fails when the configuration produced any error.
func requireClean(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.Diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", diagText(cfg.Diags))
	}
}

// requireDiag finds a diagnostic of severity sev whose summary contains
// every fragment, and returns it.
func requireDiag(t *testing.T, cfg *Config, sev diag.Severity, fragments ...string) diag.Diagnostic {
	t.Helper()
	for _, d := range cfg.Diags {
		if d.Severity != sev {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(d.Summary, f) {
				ok = false
				break
			}
		}
		if ok {
			return d
		}
	}
	t.Fatalf("no %s diagnostic containing %q; got:\n%s", sev, fragments, diagText(cfg.Diags))
	return diag.Diagnostic{}
}

func requireNote(t *testing.T, cfg *Config, kind NoteKind, fragments ...string) Note {
	t.Helper()
	for _, n := range cfg.Notes {
		if n.Kind != kind {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(n.Detail, f) {
				ok = false
				break
			}
		}
		if ok {
			return n
		}
	}
	t.Fatalf("no %s note containing %q; got:\n%s", kind, fragments, noteText(cfg.Notes))
	return Note{}
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func equalMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}
