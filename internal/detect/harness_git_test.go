package detect_test

// The harness of the git, submodule, registry and Dockerfile table tests:
// a job is given as script text, YAML variables and repository files; the
// script goes through the shell layer with the job's environment built as
// discovery builds it, and one detector runs on the result.

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

const marker = inventory.JobToken

// memFiles is an in-memory inventory.Files: "project:path" -> content.
type memFiles map[string]string

func (m memFiles) ReadFile(project, name string) ([]byte, error) {
	if s, ok := m[project+":"+name]; ok {
		return []byte(s), nil
	}
	if !m.HasFiles(project) {
		return nil, fmt.Errorf("%s: %w", project, inventory.ErrNoProject)
	}
	return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
}

func (m memFiles) Glob(project, pattern string) ([]string, error) {
	var out []string
	for k := range m {
		p, name, _ := strings.Cut(k, ":")
		if ok, _ := path.Match(pattern, name); ok && p == project {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m memFiles) HasFiles(project string) bool {
	for k := range m {
		if strings.HasPrefix(k, project+":") {
			return true
		}
	}
	return false
}

// jobCase is one table row.
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

func server(noRegistry bool) inventory.Server {
	inv := &inventory.Inventory{ServerURL: "https://git.example.org", Registry: "registry.example.org"}
	if noRegistry {
		inv.Registry = ""
	}
	s, err := inv.Server()
	if err != nil {
		panic(err)
	}
	return s
}

// runJob builds the detector input for tc and runs d.
func runJob(t *testing.T, d detect.Detector, tc jobCase) *detect.Output {
	t.Helper()
	caller := tc.caller
	if caller == "" {
		caller = "apps/web"
	}
	srv := server(tc.noRegistry)
	p := &inventory.Project{Path: caller}
	files := memFiles{}
	for k, v := range tc.files {
		if !strings.Contains(k, ":") {
			k = caller + ":" + k
		}
		files[k] = v
	}
	files[caller+":.gitlab-ci.yml"] = "# test job\n"
	job := &ciconfig.Job{Name: "job", Pos: ciconfig.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 1}}
	if tc.image != "" {
		job.Image = &ciconfig.Image{Name: tc.image, Pos: ciconfig.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 2}}
	}
	for i, s := range tc.service {
		job.Services = append(job.Services, ciconfig.Image{Name: s, Pos: ciconfig.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 3 + i}})
	}
	for _, k := range sortedKeys(tc.vars) {
		job.Variables = append(job.Variables, ciconfig.Variable{Name: k, Value: tc.vars[k], Pos: ciconfig.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 5}})
	}
	if tc.script != "" {
		job.Script = []ciconfig.Script{{Text: strings.TrimPrefix(tc.script, "\n"), Pos: ciconfig.Pos{Project: caller, File: ".gitlab-ci.yml", Line: scriptLine}, LineStep: 1}}
	}
	// The job's environment and commands are built exactly as discovery
	// builds them for a scan.
	env := discovery.JobEnv(inventory.Predefined(srv, p), job.Variables, nil)
	cmds, diags := discovery.Commands(files, caller, job, env)
	for _, d := range diags {
		if d.Severity == diag.Error {
			t.Fatalf("the row's script does not parse: %s", d)
		}
	}
	in := &detect.Input{Caller: p, Server: srv, Job: job, Env: env, Commands: cmds, Files: files}
	out := &detect.Output{}
	d.Detect(in, out)
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// detector returns the detector of family name from detect.All().
func detector(t *testing.T, name string) detect.Detector {
	t.Helper()
	for _, d := range detect.All() {
		if d.Name() == name {
			return d
		}
	}
	t.Fatalf("no detector %q in detect.All()", name)
	return nil
}

// runTable runs every row against detector name.
func runTable(t *testing.T, name string, cases []jobCase) {
	d := detector(t, name)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := runJob(t, d, tc)
			caller := tc.caller
			if caller == "" {
				caller = "apps/web"
			}
			checkOutput(t, out, caller, tc.uses, tc.notes)
		})
	}
}

// checkOutput compares uses and notes with the rows' expectations. A use
// whose evidence is in another project's file shows as "project/file:line".
func checkOutput(t *testing.T, out *detect.Output, caller string, wantUses, wantNotes []string) {
	t.Helper()
	var uses []string
	for _, u := range out.Uses {
		uses = append(uses, useLine(u, caller))
		if u.Evidence.Job == "" {
			t.Errorf("use without job: %+v", u)
		}
		for _, s := range []string{u.Evidence.Detail, u.Target.Reference, u.Target.Value, u.Target.Reason} {
			if strings.Contains(s, marker) {
				t.Errorf("job-token marker leaked into %q", s)
			}
		}
	}
	slices.Sort(uses)
	var want []string
	for _, w := range wantUses {
		head, _, _ := strings.Cut(w, " ~ ")
		want = append(want, head)
	}
	slices.Sort(want)
	if !slices.Equal(uses, want) {
		t.Errorf("uses:\n got  %q\n want %q", uses, want)
	}
	// "use ~ substring" also checks the evidence detail.
	for _, w := range wantUses {
		head, sub, ok := strings.Cut(w, " ~ ")
		if !ok {
			continue
		}
		found := false
		for i, u := range out.Uses {
			if useLine(u, caller) == head && strings.Contains(out.Uses[i].Evidence.Detail, sub) {
				found = true
			}
		}
		if !found {
			t.Errorf("no use %q with detail containing %q", head, sub)
		}
	}
	var notes []string
	for _, n := range out.Notes {
		notes = append(notes, fmt.Sprintf("%s %s:%d", n.Kind, n.File, n.Line))
		if strings.Contains(n.Detail, marker) {
			t.Errorf("job-token marker leaked into note %q", n.Detail)
		}
	}
	slices.Sort(notes)
	var wantN []string
	for _, w := range wantNotes {
		head, _, _ := strings.Cut(w, " ~ ")
		wantN = append(wantN, head)
	}
	slices.Sort(wantN)
	if !slices.Equal(notes, wantN) {
		t.Errorf("notes:\n got  %q\n want %q\n details: %v", notes, wantN, noteDetails(out))
		return
	}
	for _, w := range wantNotes {
		head, sub, ok := strings.Cut(w, " ~ ")
		if !ok {
			continue
		}
		found := false
		for _, n := range out.Notes {
			if fmt.Sprintf("%s %s:%d", n.Kind, n.File, n.Line) == head && strings.Contains(n.Detail, sub) {
				found = true
			}
		}
		if !found {
			t.Errorf("no note %q with detail containing %q; details: %v", head, sub, noteDetails(out))
		}
	}
}

// useLine renders a use as the rows write it.
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

func noteDetails(out *detect.Output) []string {
	var s []string
	for _, n := range out.Notes {
		s = append(s, fmt.Sprintf("%s %s:%d %s", n.Kind, n.File, n.Line, n.Detail))
	}
	return s
}
