package detect

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// The detector tests are script-driven: a case gives a job's variables,
// script text and repository files; the harness builds the job's
// environment as discovery does, runs the shell layer over the script and
// then one detector, and renders uses and notes compactly for comparison.

const callerPath = "acme/app"

var testCaller = &inventory.Project{Path: callerPath, ID: 100}

// apiFiles is an in-memory repository of the caller.
type apiFiles map[string]string

func (m apiFiles) ReadFile(project, name string) ([]byte, error) {
	if project != callerPath {
		return nil, fmt.Errorf("read %s: %w", name, inventory.ErrNoProject)
	}
	s, ok := m[path.Clean(name)]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", name, fs.ErrNotExist)
	}
	return []byte(s), nil
}

func (m apiFiles) Glob(project, pattern string) ([]string, error) {
	var out []string
	for k := range m {
		if ok, _ := path.Match(path.Clean(pattern), k); ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m apiFiles) HasFiles(project string) bool { return project == callerPath }

// tjob is one test job.
type tjob struct {
	vars   []ciconfig.Variable
	script string // one literal block: line n of the text is line n of .gitlab-ci.yml
	// items, when set, are the job's script items as ciconfig flattens
	// them (a folded scalar has LineStep 0).
	items []ciconfig.Script
	files map[string]string
	needs []ciconfig.Need
	repo  bool // repository-level pass (no job)
}

// v is a YAML variable defined at line.
func v(name, value string, line int) ciconfig.Variable {
	return ciconfig.Variable{Name: name, Value: value, Pos: ciconfig.Pos{Project: callerPath, File: ".gitlab-ci.yml", Line: line}}
}

// input builds the detector input for a job.
func (j tjob) input(t testing.TB) *Input {
	t.Helper()
	predefined := inventory.Predefined(testServer, testCaller)
	files := apiFiles(j.files)
	if j.repo {
		return &Input{Caller: testCaller, Server: testServer, Env: shell.MapEnv(predefined), Files: files}
	}
	env := jobEnv(predefined, j.vars)
	job := &ciconfig.Job{Name: "job", Variables: j.vars, Needs: j.needs}
	var srcs []shell.Source
	if j.script != "" {
		srcs = append(srcs, shell.Source{Text: j.script, Pos: shell.Pos{Project: callerPath, File: ".gitlab-ci.yml", Line: 1}, LineStep: 1, Section: "script"})
	}
	for _, it := range j.items {
		srcs = append(srcs, shell.Source{Text: it.Text, Pos: shell.Pos{Project: callerPath, File: ".gitlab-ci.yml", Line: it.Pos.Line}, LineStep: it.LineStep, Section: "script"})
	}
	var cmds []*shell.Command
	if len(srcs) > 0 {
		res := shell.Analyze(srcs, env, shell.Options{ReadFile: func(name string) ([]byte, error) { return files.ReadFile(callerPath, name) }})
		cmds = res.Commands
	}
	return &Input{Caller: testCaller, Server: testServer, Job: job, Env: env, Commands: cmds, Files: files}
}

// jobEnv mirrors discovery.JobEnv: predefined variables, then the job's
// YAML variables with references expanded (one level per lookup, cycles
// cut).
func jobEnv(predefined map[string]string, vars []ciconfig.Variable) shell.MapEnv {
	env := shell.MapEnv{}
	for k, v := range predefined {
		env[k] = v
	}
	defs := map[string]ciconfig.Variable{}
	for _, v := range vars {
		defs[v.Name] = v
	}
	resolving := map[string]bool{}
	var resolve func(string) (string, bool)
	resolve = func(name string) (string, bool) {
		d, ok := defs[name]
		if !ok {
			v, ok := predefined[name]
			return v, ok
		}
		if v, done := env[name]; done && !resolving[name] {
			if _, pre := predefined[name]; !pre {
				return v, true
			}
		}
		if resolving[name] || d.Raw {
			return d.Value, true
		}
		resolving[name] = true
		w := shell.ExpandVars(d.Value, lookupEnv(resolve))
		resolving[name] = false
		env[name] = w.Value
		return w.Value, true
	}
	for _, v := range vars {
		resolve(v.Name)
	}
	return env
}

type lookupEnv func(string) (string, bool)

func (f lookupEnv) Get(n string) (string, bool) { return f(n) }

// run runs one detector over a job.
func run(t testing.TB, d Detector, j tjob) *Output {
	t.Helper()
	in := j.input(t)
	out := &Output{}
	d.Detect(in, out)
	return out
}

// renderUses renders uses as "file:line access kind:value" (+" ?reason"
// when unresolvable), in emission order.
func renderUses(us []use.Use) []string {
	var out []string
	for _, u := range us {
		s := fmt.Sprintf("%s:%d %s %s:%s", u.Evidence.File, u.Evidence.Line, u.Access, u.Target.Kind, u.Target.Value)
		if u.Target.Reason != "" {
			s += " ?"
		}
		if u.Evidence.Job != "" {
			s += " @" + u.Evidence.Job
		}
		out = append(out, s)
	}
	return out
}

// renderNotes renders notes as "file:line kind".
func renderNotes(ns []use.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s:%d %s", n.File, n.Line, n.Kind))
	}
	return out
}

// check compares a detector's output with the expected uses and notes;
// noteHas, when set, must appear in the first note's detail.
func check(t *testing.T, out *Output, uses, notes []string, noteHas string) {
	t.Helper()
	if got := renderUses(out.Uses); !equal(got, uses) {
		t.Errorf("uses:\n got  %q\n want %q", got, uses)
	}
	if got := renderNotes(out.Notes); !equal(got, notes) {
		t.Errorf("notes:\n got  %q\n want %q\n details: %q", got, notes, details(out.Notes))
	}
	if noteHas != "" && (len(out.Notes) == 0 || !strings.Contains(out.Notes[0].Detail, noteHas)) {
		t.Errorf("first note detail %q does not contain %q", details(out.Notes), noteHas)
	}
	for _, u := range out.Uses {
		assertNoSecret(t, u.Evidence.Detail)
		assertNoSecret(t, u.Target.Value)
		assertNoSecret(t, u.Target.Reference)
	}
	for _, n := range out.Notes {
		assertNoSecret(t, n.Detail)
	}
}

func details(ns []use.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Detail)
	}
	return out
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, inventory.JobToken) || strings.Contains(s, "glpat-") || strings.Contains(s, "glptt-") {
		t.Errorf("evidence leaks a token: %q", s)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
