package detect_test

// The harness of the detector table tests. A job is given as YAML
// variables, image and services, script text and repository files; the
// harness builds the job's environment and commands exactly as discovery
// builds them for a scan (discovery.JobEnv, discovery.Commands), runs a
// detector, and compares its uses and notes with the row.
//
// Rows come in two styles:
//   - ordered rows (row: the REST API and package-manager tables) list
//     uses as "file:line access kind:value" (+" ?" when unresolved, " @job")
//     and notes as "file:line kind", in emission order; noteHas must
//     appear in the first note's detail. The caller is acme/app (ID 100)
//     and the script starts at .gitlab-ci.yml:1.
//   - sorted rows (jobCase: the git, submodule, registry and dockerfile
//     tables) list uses as "access kind=value file:line" (+"
//     (unresolved)") and notes as "kind file:line", in any order, each
//     optionally followed by " ~ detail substring". The caller is
//     apps/web, YAML variables sit at line 5 and the script starts at
//     .gitlab-ci.yml:10.
//
// Every row also checks that no token leaks into evidence and that every
// use of a job names the job.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

const marker = inventory.JobToken

// job is one test job.
type job struct {
	caller     *inventory.Project
	vars       []ciconfig.Variable
	image      string   // image: at .gitlab-ci.yml:2
	services   []string // services: at .gitlab-ci.yml:3, 4, ...
	script     string   // one literal block; its first line is at scriptLine
	scriptLine int
	// items, when set, are the job's script items as ciconfig flattens
	// them (a folded scalar has LineStep 0).
	items []ciconfig.Script
	files map[string]string // the caller's files by path; "project:path" for other projects
	needs []ciconfig.Need
	// repo runs the repository-level pass (no job).
	repo bool
	// noRegistry runs with an inventory that does not know CI_REGISTRY.
	noRegistry bool
	// lenient analyses scripts that do not parse (hostile-input tests);
	// otherwise such a script fails the row.
	lenient bool
}

// input builds the detector input for j.
func (j job) input(t testing.TB) *detect.Input {
	t.Helper()
	srv := detect.TestServer
	if j.noRegistry {
		srv = detect.TestServerNoRegistry
	}
	p := j.caller
	files := detect.MemFiles{p.Path + ":.gitlab-ci.yml": "# test job\n"}
	for k, v := range j.files {
		if !strings.Contains(k, ":") {
			k = p.Path + ":" + k
		}
		files[k] = v
	}
	predefined := inventory.Predefined(srv, p)
	if j.repo {
		return &detect.Input{Caller: p, Server: srv, Env: discovery.JobEnv(predefined, nil, nil), Files: files}
	}
	job := &ciconfig.Job{Name: "job", Pos: loc.Pos{Project: p.Path, File: ".gitlab-ci.yml", Line: 1}, Variables: j.vars, Needs: j.needs}
	if j.image != "" {
		job.Image = &ciconfig.Image{Name: j.image, Pos: loc.Pos{Project: p.Path, File: ".gitlab-ci.yml", Line: 2}}
	}
	for i, s := range j.services {
		job.Services = append(job.Services, ciconfig.Image{Name: s, Pos: loc.Pos{Project: p.Path, File: ".gitlab-ci.yml", Line: 3 + i}})
	}
	if j.script != "" {
		job.Script = append(job.Script, ciconfig.Script{Text: j.script, Pos: loc.Pos{Project: p.Path, File: ".gitlab-ci.yml", Line: j.scriptLine}, LineStep: 1})
	}
	for _, it := range j.items {
		it.Pos.Project, it.Pos.File = p.Path, ".gitlab-ci.yml"
		job.Script = append(job.Script, it)
	}
	env := discovery.JobEnv(predefined, job.Variables, nil)
	cmds, diags := discovery.Commands(files, p.Path, job, env)
	for _, d := range diags {
		if d.Severity == diag.Error && !j.lenient {
			t.Fatalf("the row's script does not parse: %s", d)
		}
	}
	return &detect.Input{Caller: p, Server: srv, Job: job, Env: env, Commands: cmds, Files: files}
}

// detector returns the detector of family name, run alone.
func detector(t testing.TB, name string) detect.Detector {
	t.Helper()
	d := detect.Family(name)
	if d == nil {
		t.Fatalf("no detector %q", name)
	}
	return d
}

// runDetectors runs the detectors of the families ("" for all) over j, in
// detect.All() order.
func runDetectors(t testing.TB, j job, families ...string) *detect.Output {
	t.Helper()
	in := j.input(t)
	out := &detect.Output{}
	if len(families) == 0 {
		for _, d := range detect.All() {
			d.Detect(in, out)
		}
		return out
	}
	for _, f := range families {
		detector(t, f).Detect(in, out)
	}
	return out
}

// assertClean checks what every row checks: no token in evidence, and
// the job named by every use of a job.
func assertClean(t *testing.T, out *detect.Output, isJob bool) {
	t.Helper()
	for _, u := range out.Uses {
		for _, s := range []string{u.Evidence.Detail, u.Target.Value, u.Target.Reference, u.Target.Reason} {
			assertNoSecret(t, s)
		}
		if isJob && u.Evidence.Job == "" {
			t.Errorf("use without job: %+v", u)
		}
	}
	for _, n := range out.Notes {
		assertNoSecret(t, n.Detail)
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, marker) || strings.Contains(s, "glpat-") || strings.Contains(s, "glptt-") {
		t.Errorf("evidence leaks a token: %q", s)
	}
}

func noteDetails(out *detect.Output) []string {
	var s []string
	for _, n := range out.Notes {
		s = append(s, fmt.Sprintf("%s %s:%d %s", n.Kind, n.File, n.Line, n.Detail))
	}
	return s
}

// ---- ordered rows ------------------------------------------------------------

// row is one ordered row (see the package comment).
type row struct {
	name string
	det  string // the detector family, for tables that mix families
	// The job: YAML variables (see v), a script whose first line is
	// .gitlab-ci.yml:1, script items, repository files of acme/app,
	// needs:, or the repository-level pass.
	vars   []ciconfig.Variable
	script string
	items  []ciconfig.Script
	files  map[string]string
	needs  []ciconfig.Need
	repo   bool
	uses   []string
	notes  []string
	// noteHas must appear in the first note's detail.
	noteHas string
}

const callerPath = "acme/app"

var testCaller = &inventory.Project{Path: callerPath, ID: 100}

// v is a YAML variable defined at line.
func v(name, value string, line int) ciconfig.Variable {
	return ciconfig.Variable{Name: name, Value: value, Pos: loc.Pos{Project: callerPath, File: ".gitlab-ci.yml", Line: line}}
}

// job is the row's job.
func (r row) job() job {
	return job{caller: testCaller, vars: r.vars, script: r.script, scriptLine: 1, items: r.items, files: r.files, needs: r.needs, repo: r.repo}
}

// runRows runs every row against the detector of family (or the row's
// own; "" for every detector), then the table's extra checks.
func runRows(t *testing.T, family string, rows []row, checks ...func(*testing.T, *detect.Output)) {
	t.Helper()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			var families []string
			switch {
			case r.det != "":
				families = []string{r.det}
			case family != "":
				families = []string{family}
			}
			out := runDetectors(t, r.job(), families...)
			checkOrdered(t, out, r.uses, r.notes, r.noteHas, !r.repo)
			for _, c := range checks {
				c(t, out)
			}
		})
	}
}

// checkOrdered compares a detector's output with an ordered row.
func checkOrdered(t *testing.T, out *detect.Output, uses, notes []string, noteHas string, isJob bool) {
	t.Helper()
	if got := renderUses(out.Uses); !slices.Equal(got, uses) {
		t.Errorf("uses:\n got  %q\n want %q", got, uses)
	}
	if got := renderNotes(out.Notes); !slices.Equal(got, notes) {
		t.Errorf("notes:\n got  %q\n want %q\n details: %q", got, notes, noteDetails(out))
	}
	if noteHas != "" && (len(out.Notes) == 0 || !strings.Contains(out.Notes[0].Detail, noteHas)) {
		t.Errorf("first note detail %q does not contain %q", noteDetails(out), noteHas)
	}
	assertClean(t, out, isJob)
}

// renderUses renders uses as "file:line access kind:value" (+" ?" when
// unresolvable, " @job"), in emission order.
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

// ---- sorted rows -------------------------------------------------------------

// jobCase is one sorted row (see the package comment).
type jobCase struct {
	name    string
	caller  string            // default apps/web
	vars    map[string]string // job YAML variables
	image   string            // image: (at .gitlab-ci.yml:2)
	service []string          // services: (at .gitlab-ci.yml:3, 4, ...)
	script  string            // script: lines start at .gitlab-ci.yml:10
	files   map[string]string // caller files by path; "project:path" for other projects
	// noRegistry runs with an inventory that does not know CI_REGISTRY.
	noRegistry bool
	uses       []string // "access kind=value file:line", plus " (unresolved)"
	notes      []string // "kind file:line" or "kind file:line ~ detail substring"
}

// scriptLine is the .gitlab-ci.yml line of the script's first line.
const scriptLine = 10

// job is the row's job.
func (tc jobCase) job() job {
	caller := tc.caller
	if caller == "" {
		caller = "apps/web"
	}
	j := job{caller: &inventory.Project{Path: caller}, image: tc.image, services: tc.service, script: strings.TrimPrefix(tc.script, "\n"),
		scriptLine: scriptLine, files: tc.files, noRegistry: tc.noRegistry}
	names := make([]string, 0, len(tc.vars))
	for k := range tc.vars {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		j.vars = append(j.vars, ciconfig.Variable{Name: k, Value: tc.vars[k], Pos: loc.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 5}})
	}
	return j
}

// runTable runs every row against the detector of family name.
func runTable(t *testing.T, name string, cases []jobCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.job()
			checkSorted(t, runDetectors(t, j, name), j.caller.Path, tc.uses, tc.notes)
		})
	}
}

// checkSorted compares uses and notes with a sorted row. A use whose
// evidence is in another project's file shows as "project/file:line".
func checkSorted(t *testing.T, out *detect.Output, caller string, wantUses, wantNotes []string) {
	t.Helper()
	assertClean(t, out, true)
	var uses []string
	for _, u := range out.Uses {
		uses = append(uses, useLine(u, caller))
	}
	matchSorted(t, "uses", uses, wantUses, func(head, sub string) bool {
		return slices.ContainsFunc(out.Uses, func(u use.Use) bool {
			return useLine(u, caller) == head && strings.Contains(u.Evidence.Detail, sub)
		})
	})
	var notes []string
	for _, n := range out.Notes {
		notes = append(notes, noteLine(n))
	}
	matchSorted(t, "notes", notes, wantNotes, func(head, sub string) bool {
		return slices.ContainsFunc(out.Notes, func(n use.Note) bool { return noteLine(n) == head && strings.Contains(n.Detail, sub) })
	}, noteDetails(out)...)
}

// matchSorted compares got with the heads of want in any order, then
// checks each "head ~ substring" with has.
func matchSorted(t *testing.T, what string, got, want []string, has func(head, sub string) bool, details ...string) {
	t.Helper()
	got = slices.Sorted(slices.Values(got))
	var heads []string
	for _, w := range want {
		head, _, _ := strings.Cut(w, " ~ ")
		heads = append(heads, head)
	}
	slices.Sort(heads)
	if !slices.Equal(got, heads) {
		t.Errorf("%s:\n got  %q\n want %q\n details: %v", what, got, heads, details)
		return
	}
	for _, w := range want {
		if head, sub, ok := strings.Cut(w, " ~ "); ok && !has(head, sub) {
			t.Errorf("no %s %q with detail containing %q; details: %v", strings.TrimSuffix(what, "s"), head, sub, details)
		}
	}
}

// useLine renders a use as sorted rows write it.
func useLine(u use.Use, caller string) string {
	file := u.Evidence.File
	if u.Evidence.Project != "" && u.Evidence.Project != caller {
		file = u.Evidence.Project + "/" + file
	}
	s := fmt.Sprintf("%s %s=%s %s:%d", u.Access, u.Target.Kind, u.Target.Value, file, u.Evidence.Line)
	if u.Target.Reason != "" {
		s += " (unresolved)"
	}
	return s
}

// noteLine renders a note as sorted rows write it.
func noteLine(n use.Note) string { return fmt.Sprintf("%s %s:%d", n.Kind, n.File, n.Line) }
