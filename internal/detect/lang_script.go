package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// scriptDetector finds REST calls carrying the job token in the Python,
// Ruby and JavaScript scripts a job runs: "python x.py", "python3 -m
// pkg.mod", "python -c CODE", "python3 - <<EOF", "ruby x.rb", "ruby -e
// CODE", "node x.js", "node -e CODE", and "./x" with a python, ruby or
// node #! line (also behind bundle exec, poetry run, pipenv run, uv run).
//
// No Go parser for these languages is both well kept and pure Go for
// what CI scripts are written in today: go-python/gpython parses Python
// 3.4 (no f-strings, which is how these scripts build URLs), tree-sitter
// needs cgo, goja's parser has no ES modules and esbuild's is internal. So
// the scripts are read by a conservative scanner (lang_lex.go,
// lang_eval.go): a tokenizer exact about strings, comments and brackets,
// and an evaluator of simple value flow. Its rules are in docs/design.md
// ("Scripts in other languages"). Each request found is judged by the
// REST family's rules, as the same request made with curl would be.
type scriptDetector struct{}

func (scriptDetector) Name() string { return "script" }

func (scriptDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	for _, c := range in.Commands {
		if s, ok := in.scriptRun(c); ok {
			in.scanScript(c, s, out)
		}
	}
	for _, c := range in.Commands {
		in.semanticRelease(c, out)
	}
}

// script is the source of a script a command runs.
type script struct {
	d    dialect
	file string // repository path; "" for inline code
	src  string
	// raw is the source as written, for evidence: inline code and
	// here-documents before the shell expanded them ("" for files).
	raw  string
	line int // the line of the source's first line (inline code: the command's)
}

// interpreters maps interpreter names to their dialect.
func interpreter(name string) (dialect, bool) {
	switch {
	case name == "python" || name == "py" || strings.HasPrefix(name, "python3") || strings.HasPrefix(name, "python2"):
		return langPython, true
	case name == "ruby" || strings.HasPrefix(name, "ruby3"):
		return langRuby, true
	case name == "node" || name == "nodejs":
		return langNode, true
	}
	return 0, false
}

// runnerPrefix is the length of a wrapper that runs its arguments in a
// managed environment: bundle exec, poetry run, pipenv run, uv run.
func runnerPrefix(ws []shell.Word) int {
	if len(ws) < 3 {
		return 0
	}
	switch cmdBase(ws[0].Value) + " " + ws[1].Value {
	case "bundle exec", "poetry run", "pipenv run", "uv run", "pdm run", "hatch run", "rye run":
		return 2
	}
	return 0
}

// scriptRun finds the script c runs, if any.
func (in *Input) scriptRun(c *shell.Command) (script, bool) {
	ws := argv(c)
	ws = ws[runnerPrefix(ws):]
	name := nameOf(c, ws)
	d, isInterp := interpreter(name)
	if !isInterp {
		// ./release.py, scripts/notify: a #! line decides.
		if !strings.Contains(ws[0].Value, "/") || !ws[0].Known() || strings.HasSuffix(ws[0].Value, ".sh") || strings.HasSuffix(ws[0].Value, ".bash") {
			return script{}, false
		}
		f, src, ok := in.scriptFile(c, ws[0].Value)
		if !ok {
			return script{}, false
		}
		d, ok = shebang(src, f)
		return script{d: d, file: f, src: src, line: 1}, ok
	}
	for i := 1; i < len(ws); i++ {
		v := ws[i].Value
		switch {
		case (v == "-c" && d == langPython || v == "-e" && d != langPython || v == "--eval" && d == langNode || v == "-p" && d == langNode) && i+1 < len(ws):
			return script{d: d, src: ws[i+1].Value, raw: ws[i+1].Raw, line: c.Pos.Line}, true
		case v == "-m" && d == langPython && i+1 < len(ws):
			mod := strings.ReplaceAll(ws[i+1].Value, ".", "/")
			for _, f := range []string{mod + ".py", mod + "/__main__.py"} {
				if p, src, ok := in.scriptFile(c, f); ok {
					return script{d: d, file: p, src: src, line: 1}, true
				}
			}
			return script{}, false
		case v == "-":
			return in.heredocScript(c, d)
		case v == "-W" || v == "-X" || v == "-r" && d != langPython || v == "-I" && d == langRuby || v == "--require":
			i++ // options with a value
		case strings.HasPrefix(v, "-"):
		default:
			if !ws[i].Known() {
				return script{}, false
			}
			p, src, ok := in.scriptFile(c, v)
			return script{d: d, file: p, src: src, line: 1}, ok
		}
	}
	return in.heredocScript(c, d)
}

// heredocScript is the code an interpreter reads from a here-document.
func (in *Input) heredocScript(c *shell.Command, d dialect) (script, bool) {
	for _, r := range c.Redirects {
		if r.Heredoc != nil && (r.Op == "<<" || r.Op == "<<-") {
			return script{d: d, src: r.Heredoc.Value, raw: r.Heredoc.Raw, line: c.Pos.Line + 1}, true
		}
		if r.Op == "<<<" {
			return script{d: d, src: r.Target.Value, raw: r.Target.Raw, line: c.Pos.Line}, true
		}
	}
	return script{}, false
}

// scriptFile reads a script of the caller's repository.
func (in *Input) scriptFile(c *shell.Command, p string) (string, string, bool) {
	r := in.resolvePath(c, "", p)
	if r == "" || outsideRepo(r) || strings.Contains(r, "$") {
		return "", "", false
	}
	src, ok := in.readRepo(r)
	if !ok || len(src) > maxScriptBytes {
		return "", "", false
	}
	return r, src, true
}

// shebang returns the dialect of a script file: its #! line, else its
// extension.
func shebang(src, file string) (dialect, bool) {
	if first, _, _ := strings.Cut(src, "\n"); strings.HasPrefix(first, "#!") {
		fs := strings.Fields(strings.TrimPrefix(first, "#!"))
		for i, f := range fs {
			b := cmdBase(f)
			if i == 0 && b == "env" {
				continue
			}
			if strings.HasPrefix(f, "-") {
				continue
			}
			return interpreter(b)
		}
		return 0, false
	}
	switch {
	case strings.HasSuffix(file, ".py"):
		return langPython, true
	case strings.HasSuffix(file, ".rb"):
		return langRuby, true
	case strings.HasSuffix(file, ".js"), strings.HasSuffix(file, ".mjs"), strings.HasSuffix(file, ".cjs"):
		return langNode, true
	}
	return 0, false
}

// scanScript evaluates a script with the environment of the command that
// runs it, and judges each request it makes.
func (in *Input) scanScript(c *shell.Command, s script, out *Output) {
	env := in.envOf(c)
	e := newEvaluator(s.d, s.src, env.Get)
	e.run()
	text := s.src
	if s.raw != "" && strings.Count(s.raw, "\n") == strings.Count(s.src, "\n") {
		text = s.raw
	}
	lines := strings.Split(text, "\n")
	for _, r := range e.reqs {
		line := s.line + r.line - 1
		code := ""
		if r.line >= 1 && r.line <= len(lines) {
			code = strings.TrimSpace(lines[r.line-1])
		}
		pos := c.Pos
		via := CommandText(c)
		if s.file != "" {
			pos = loc.Pos{Project: in.Caller.Path, File: s.file, Line: line}
			via = "run by " + via + " at " + at(c.Pos)
		} else {
			pos.Line = line
		}
		sc := &shell.Command{Args: []shell.Word{{Raw: detailVia(code, r.how+", "+via), Value: code}}, Env: c.Env, Pos: pos, Section: c.Section}
		req := request{urls: []shell.Word{r.url.word(code)}, method: r.method}
		for _, h := range r.headers {
			if h.v.obj == nil && !h.v.isMap {
				req.headers = append(req.headers, h.k+": "+h.v.s)
			}
		}
		for _, f := range r.fields {
			if f.v.obj == nil && !f.v.isMap {
				req.fields = append(req.fields, f.k+"="+f.v.s)
			}
		}
		n := len(out.Uses)
		in.request(sc, req, out)
		for i := n; i < len(out.Uses); i++ {
			scriptReason(&out.Uses[i].Target, e.envRead)
		}
	}
}

// scriptReason rewords the reason of a target left unknown by a value
// of the script itself (not an environment variable it reads).
func scriptReason(t *use.Target, envRead map[string]bool) {
	m := unknownRE.FindStringSubmatch(t.Value + " " + t.Reference)
	if t.Reason == "" || m == nil {
		return
	}
	name := m[1] + m[2]
	if name == "" || envRead[name] {
		return
	}
	t.Reason = "the value comes from " + name + " in the script and is not known statically"
}
