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
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// Fixtures of the unit tests in this package; export_test.go lends the
// server and the in-memory files to the detector table tests
// (harness_test.go).

const tok = inventory.JobToken

var (
	testServer           = mustServer("registry.example.org")
	testServerNoRegistry = mustServer("")
)

func mustServer(registry string) inventory.Server {
	s, err := (&inventory.Inventory{ServerURL: "https://git.example.org", Registry: registry}).Server()
	if err != nil {
		panic(err)
	}
	return s
}

// memFiles is an in-memory inventory.Files: "project:path" -> content.
type memFiles map[string]string

func (m memFiles) ReadFile(project, name string) ([]byte, error) {
	if s, ok := m[project+":"+path.Clean(name)]; ok {
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
		if ok, _ := path.Match(path.Clean(pattern), name); ok && p == project {
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

// wd builds a word: as written, and expanded (defaults to as written).
func wd(raw string, value ...string) shell.Word {
	w := shell.Word{Raw: raw, Value: raw}
	if len(value) > 0 {
		w.Value = value[0]
	}
	return w
}

// plain builds words written without quotes or variables.
func plain(vals ...string) []shell.Word {
	out := make([]shell.Word, len(vals))
	for i, v := range vals {
		out[i] = wd(v)
	}
	return out
}

var (
	appsWeb = &inventory.Project{Path: "apps/web", ID: 301}
	acmeApp = &inventory.Project{Path: "acme/app", ID: 100}
)

// cmdAt builds a command of apps/web at .gitlab-ci.yml:line from plain
// words.
func cmdAt(line int, words ...string) *shell.Command {
	return &shell.Command{Args: plain(words...), Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: line}, Section: "script"}
}

// testInput is a job of apps/web running cmds with the predefined
// variables, without repository files.
func testInput(cmds ...*shell.Command) *Input { return inputFor(appsWeb, cmds...) }

func inputFor(p *inventory.Project, cmds ...*shell.Command) *Input {
	env := shell.MapEnv(inventory.Predefined(testServer, p))
	for _, c := range cmds {
		if c.Env == nil {
			c.Env = env
		}
	}
	return &Input{Caller: p, Server: testServer, Job: &ciconfig.Job{Name: "build"}, Env: env, Commands: cmds}
}

// scriptInput is a job of p running script (its line 1 at
// .gitlab-ci.yml:1) through the shell layer, with p's repository files.
func scriptInput(t testing.TB, p *inventory.Project, script string, files map[string]string) *Input {
	t.Helper()
	in := inputFor(p)
	fs := memFiles{}
	for k, v := range files {
		fs[p.Path+":"+k] = v
	}
	in.Files = fs
	res := shell.Analyze([]shell.Source{{Text: script, Pos: loc.Pos{Project: p.Path, File: ".gitlab-ci.yml", Line: 1}, LineStep: 1, Section: "script"}},
		in.Env, shell.Options{ReadFile: func(name string) ([]byte, error) { return fs.ReadFile(p.Path, name) }})
	in.Commands = res.Commands
	return in
}
