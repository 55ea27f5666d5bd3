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
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
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
	// needsShell marks rows that need the real shell layer (loops,
	// functions, dead code after exit, Dockerfile RUN analysis).
	needsShell bool
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

// realShell reports whether the shell layer is implemented on this branch.
func realShell() bool {
	r := shell.Analyze([]shell.Source{{Text: "true", LineStep: 1}}, shell.MapEnv{}, shell.Options{})
	return len(r.Commands) > 0
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
	predefined := inventory.Predefined(srv, p)
	var env shell.MapEnv
	var cmds []*shell.Command
	if realShell() {
		env = discovery.JobEnv(predefined, job.Variables, nil)
		cmds, _ = discovery.Commands(files, caller, job, env)
	} else {
		if tc.needsShell || strings.Contains(tc.image+strings.Join(tc.service, " "), "$") {
			t.Skip("needs the shell layer (scripts or shell.ExpandVars)")
		}
		env = fallbackJobEnv(predefined, tc.vars)
		if len(job.Script) > 0 {
			cmds = fallbackAnalyze(job.Script[0].Text, caller, env)
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

// ---- temporary stand-in for the shell layer ----------------------------------
//
// Until the shell work package lands on this branch, a minimal lexer turns
// the table's scripts into commands: simple commands, quotes, $V ${V}
// ${V:-d} ${V/a/b}, && || ; |, > >> <<< and here-documents, comments,
// backslash continuations and NAME=value. Rows that need more are marked
// needsShell and skipped.

func fallbackJobEnv(predefined map[string]string, vars map[string]string) shell.MapEnv {
	env := shell.MapEnv{}
	for k, v := range predefined {
		env[k] = v
	}
	for i := 0; i < 3; i++ {
		for _, k := range sortedKeys(vars) {
			v, _ := fbExpand(vars[k], env, false)
			env[k] = v
		}
	}
	return env
}

func fallbackAnalyze(text, project string, env shell.MapEnv) []*shell.Command {
	lines := strings.Split(text, "\n")
	var out []*shell.Command
	vars := shell.MapEnv{}
	for k, v := range env {
		vars[k] = v
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		n := i
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		toks := fbLex(line, vars)
		var cur *shell.Command
		var prev *shell.Command
		flush := func(pipe bool) {
			if cur == nil {
				return
			}
			if len(cur.Args) == 0 {
				cur = nil
				return
			}
			snap := shell.MapEnv{}
			for k, v := range vars {
				snap[k] = v
			}
			cur.Env = snap
			if prev != nil {
				cur.Stdin = prev
			}
			out = append(out, cur)
			if pipe {
				prev = cur
			} else {
				prev = nil
			}
			cur = nil
		}
		for j := 0; j < len(toks); j++ {
			tk := toks[j]
			if cur == nil {
				cur = &shell.Command{Pos: shell.Pos{Project: project, File: ".gitlab-ci.yml", Line: scriptLine + n}, Section: "script"}
			}
			switch {
			case tk.op == "&&" || tk.op == "||" || tk.op == ";":
				flush(false)
			case tk.op == "|":
				flush(true)
			case tk.op == ">" || tk.op == ">>" || tk.op == "<<<" || tk.op == "<":
				if j+1 < len(toks) {
					cur.Redirects = append(cur.Redirects, shell.Redirect{Op: tk.op, Target: toks[j+1].w})
					j++
				}
			case tk.op == "<<":
				if j+1 < len(toks) {
					delim := toks[j+1].w
					j++
					quoted := strings.ContainsAny(delim.Raw, `'"`)
					var body []string
					for i+1 < len(lines) {
						i++
						if strings.TrimSpace(lines[i]) == delim.Value {
							break
						}
						body = append(body, strings.TrimLeft(lines[i], " "))
					}
					raw := strings.Join(body, "\n") + "\n"
					hd := shell.Word{Raw: raw, Value: raw}
					if !quoted {
						hd.Value, hd.Unknown = fbExpand(raw, vars, true)
					}
					cur.Redirects = append(cur.Redirects, shell.Redirect{Op: "<<", Target: delim, Heredoc: &hd})
				}
			default:
				if len(cur.Args) == 0 && isAssign(tk.w.Raw) {
					k, _, _ := strings.Cut(tk.w.Raw, "=")
					_, v, _ := strings.Cut(tk.w.Value, "=")
					vars[k] = v
					continue
				}
				cur.Args = append(cur.Args, tk.w)
			}
		}
		flush(false)
	}
	return out
}

func isAssign(raw string) bool {
	k, _, ok := strings.Cut(raw, "=")
	if !ok || k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

type fbTok struct {
	op string
	w  shell.Word
}

func fbLex(line string, env shell.MapEnv) []fbTok {
	var toks []fbTok
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '#':
			return toks
		}
		for _, op := range []string{"&&", "||", ">>", "<<<", "<<", ";", "|", ">", "<"} {
			if strings.HasPrefix(line[i:], op) {
				toks = append(toks, fbTok{op: op})
				i += len(op)
				goto next
			}
		}
		{
			start := i
			var val strings.Builder
			var unknown []string
			for i < len(line) && !strings.ContainsRune(" \t;&|<>", rune(line[i])) {
				switch line[i] {
				case '\'':
					j := strings.IndexByte(line[i+1:], '\'')
					if j < 0 {
						j = len(line) - i - 1
					}
					val.WriteString(line[i+1 : i+1+j])
					i += j + 2
				case '"':
					j := i + 1
					for j < len(line) && line[j] != '"' {
						if line[j] == '\\' {
							j++
						}
						j++
					}
					seg := strings.ReplaceAll(line[i+1:min(j, len(line))], `\"`, `"`)
					v, u := fbExpand(seg, env, true)
					val.WriteString(v)
					unknown = append(unknown, u...)
					i = j + 1
				default:
					j := i
					for j < len(line) && !strings.ContainsRune(" \t;&|<>'\"", rune(line[j])) {
						if line[j] == '$' && j+1 < len(line) && line[j+1] == '(' {
							k := strings.IndexByte(line[j:], ')')
							if k > 0 {
								j += k
							}
						}
						j++
					}
					v, u := fbExpand(line[i:j], env, true)
					val.WriteString(v)
					unknown = append(unknown, u...)
					i = j
				}
			}
			toks = append(toks, fbTok{w: shell.Word{Raw: line[start:min(i, len(line))], Value: val.String(), Unknown: unknown}})
		}
	next:
	}
	return toks
}

// fbExpand expands $V, ${V}, ${V:-d}, ${V/pat/rep} (pat may end in *) and
// keeps $(...) as written.
func fbExpand(s string, env shell.Env, _ bool) (string, []string) {
	var b strings.Builder
	var unknown []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case s[i+1] == '(':
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				j = len(s) - i - 1
			}
			b.WriteString(s[i : i+j+1])
			unknown = append(unknown, "$(...)")
			i += j
		case s[i+1] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String(), unknown
			}
			expr := s[i+2 : i+j]
			i += j
			name, op := expr, ""
			if k := strings.IndexAny(expr, ":/"); k >= 0 {
				name, op = expr[:k], expr[k:]
			}
			v, ok := env.Get(name)
			switch {
			case strings.HasPrefix(op, ":-"):
				if !ok || v == "" {
					v, ok = op[2:], true
				}
			case strings.HasPrefix(op, "/") && ok:
				pat, rep, _ := strings.Cut(op[1:], "/")
				if strings.HasSuffix(pat, "*") || strings.Contains(pat, "*") {
					pre, post, _ := strings.Cut(pat, "*")
					if a := strings.Index(v, pre); a >= 0 {
						if z := strings.LastIndex(v, post); z >= a+len(pre) {
							v = v[:a] + rep + v[z+len(post):]
						}
					}
				} else {
					v = strings.Replace(v, pat, rep, 1)
				}
			}
			if !ok {
				b.WriteString("${" + name + "}")
				unknown = append(unknown, name)
				continue
			}
			b.WriteString(v)
		default:
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j == i+1 {
				b.WriteByte('$')
				continue
			}
			name := s[i+1 : j]
			if v, ok := env.Get(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("${" + name + "}")
				unknown = append(unknown, name)
			}
			i = j - 1
		}
	}
	return b.String(), unknown
}
