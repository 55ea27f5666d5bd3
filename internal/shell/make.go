package shell

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// make TARGET runs the recipe of TARGET in the project's Makefile:
//
//	REGISTRY_PROJECT ?= 42
//	fetch-deps:
//		curl --header "JOB-TOKEN: $${CI_JOB_TOKEN}" -o deps.tgz "$(CI_API_V4_URL)/projects/$(REGISTRY_PROJECT)/packages/generic/deps/1/deps.tgz"
//
// The recipe lines of the targets named on the command line (else the
// first target), after their prerequisites' recipes, are analysed as
// shell, each line in its own child shell as make runs them. Make's
// syntax is followed only as far as recipes need it
// (https://www.gnu.org/software/make/manual/make.html):
//   - VAR = value, VAR := value, VAR ::= value, VAR ?= value, VAR +=
//     value (with export and override in front), and VAR=value on the
//     command line, which wins. ?= keeps a value from the environment;
//     the others override it.
//   - $(VAR) and ${VAR} expand to the make variable (recursively, at
//     most 16 levels), else stay a shell reference ${VAR} so that the
//     job's variables (the environment make passes on) and unknown names
//     behave as in scripts; $$ is $; $@, $< and $^ are the target, first
//     prerequisite and prerequisites; $(shell cmd) is $(cmd); other
//     functions are unknown output.
//   - Recipe lines start with a tab (or follow "target: ; "); @, - and +
//     in front are dropped; backslash-newline continues a line.
//     Conditionals (ifeq ... endif) are not evaluated: both sides are
//     read. include is not followed.
//   - Bounded: 8 levels of prerequisites and make calls, 64 recipes per
//     job script, each target once per make command.

const (
	maxMakeDepth   = 8
	maxMakeRecipes = 64
	maxMakeExpand  = 16
)

// makefile is a parsed Makefile.
type makefile struct {
	rel   string
	vars  map[string]makeVar
	rules map[string]*makeRule
	first string
}

type makeVar struct {
	value string
	cond  bool // ?=: the environment wins
}

type makeRule struct {
	prereqs []string
	recipe  []makeLine
}

type makeLine struct {
	text string
	line int
}

// parseMakefile reads the parts of a Makefile that recipes need.
func parseMakefile(rel, text string) *makefile {
	mf := &makefile{rel: rel, vars: map[string]makeVar{}, rules: map[string]*makeRule{}}
	lines := strings.Split(text, "\n")
	var cur []*makeRule
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		l := strings.TrimSuffix(lines[i], "\r")
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + " " + strings.TrimLeft(strings.TrimSuffix(lines[i], "\r"), " \t")
		}
		if strings.HasPrefix(l, "\t") {
			if len(cur) > 0 {
				for _, r := range cur {
					r.recipe = append(r.recipe, makeLine{strings.TrimPrefix(l, "\t"), lineNo})
				}
			}
			continue
		}
		if j := strings.IndexByte(l, '#'); j >= 0 {
			l = l[:j]
		}
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		first, _, _ := strings.Cut(t, " ")
		switch first {
		case "ifeq", "ifneq", "ifdef", "ifndef", "else", "endif", "include", "-include", "sinclude", "define", "endef", "vpath", "unexport":
			continue
		}
		if name, op, value, ok := makeAssign(t); ok {
			cur = nil
			old, had := mf.vars[name]
			switch op {
			case "?=":
				if !had {
					mf.vars[name] = makeVar{value: value, cond: true}
				}
			case "+=":
				if had {
					mf.vars[name] = makeVar{value: old.value + " " + value, cond: old.cond}
				} else {
					mf.vars[name] = makeVar{value: value}
				}
			default:
				mf.vars[name] = makeVar{value: value}
			}
			continue
		}
		head, rest, ok := strings.Cut(t, ":")
		if !ok || strings.HasPrefix(rest, "=") {
			cur = nil
			continue
		}
		rest = strings.TrimPrefix(rest, ":") // double-colon rules
		inline := ""
		if j := strings.IndexByte(rest, ';'); j >= 0 {
			rest, inline = rest[:j], strings.TrimSpace(rest[j+1:])
		}
		cur = nil
		for _, target := range strings.Fields(head) {
			if strings.ContainsAny(target, "%$") {
				continue // pattern rules and computed names are not followed
			}
			r := mf.rules[target]
			if r == nil {
				r = &makeRule{}
				mf.rules[target] = r
			}
			r.prereqs = append(r.prereqs, strings.Fields(rest)...)
			if inline != "" {
				r.recipe = append(r.recipe, makeLine{inline, lineNo})
			}
			cur = append(cur, r)
			if mf.first == "" && !strings.HasPrefix(target, ".") {
				mf.first = target
			}
		}
	}
	return mf
}

// makeAssign splits a variable assignment line.
func makeAssign(t string) (name, op, value string, ok bool) {
	for _, p := range []string{"export ", "override "} {
		t = strings.TrimPrefix(t, p)
	}
	i := strings.IndexAny(t, "=:?+!")
	if i <= 0 {
		return "", "", "", false
	}
	name = strings.TrimSpace(t[:i])
	if name == "" || strings.ContainsAny(name, " \t$()") {
		return "", "", "", false
	}
	rest := t[i:]
	for _, o := range []string{"::=", ":=", "?=", "+=", "!=", "="} {
		if strings.HasPrefix(rest, o) {
			if o == "!=" {
				return "", "", "", false // shell assignment: not followed
			}
			return name, o, strings.TrimSpace(rest[len(o):]), true
		}
	}
	return "", "", "", false
}

// makeRun is one make command being followed.
type makeRun struct {
	mf   *makefile
	cmd  map[string]string // VAR=value on the command line
	env  *layer
	done map[string]bool
}

// value returns the make value of name, or ok false to fall through to
// the environment.
func (m *makeRun) value(name string) (string, bool) {
	if v, ok := m.cmd[name]; ok {
		return v, true
	}
	v, ok := m.mf.vars[name]
	if !ok {
		if name == "MAKE" {
			return "make", true // $(MAKE) other-target
		}
		return "", false
	}
	if v.cond {
		if _, inEnv := m.env.lookup(name); inEnv {
			return "", false
		}
	}
	return v.value, true
}

// expand turns make text into shell text (see the rules above).
func (m *makeRun) expand(s, target string, prereqs []string, level int) string {
	if level > maxMakeExpand || !strings.Contains(s, "$") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if sb.Len() > maxValueLen {
			// Variables doubling at every level: the text is unknown.
			return "$(false)"
		}
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch n := s[i]; n {
		case '$':
			sb.WriteByte('$')
		case '@':
			sb.WriteString(target)
		case '<':
			if len(prereqs) > 0 {
				sb.WriteString(prereqs[0])
			}
		case '^':
			sb.WriteString(strings.Join(prereqs, " "))
		case '(', '{':
			closer := byte(')')
			if n == '{' {
				closer = '}'
			}
			depth, j := 1, i+1
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case n:
					depth++
				case closer:
					depth--
				}
			}
			if depth > 0 {
				sb.WriteString(s[i-1:])
				return sb.String()
			}
			inner := s[i+1 : j-1]
			i = j - 1
			if fn, arg, isFn := strings.Cut(inner, " "); isFn && !strings.Contains(fn, "$") {
				if fn == "shell" {
					sb.WriteString("$(" + m.expand(arg, target, prereqs, level+1) + ")")
				} else {
					sb.WriteString("$(false)") // a make function: its result is unknown
				}
				continue
			}
			name := m.expand(inner, target, prereqs, level+1)
			if v, ok := m.value(name); ok {
				sb.WriteString(m.expand(v, target, prereqs, level+1))
			} else if validMakeEnvName(name) {
				sb.WriteString("${" + name + "}")
			} else {
				sb.WriteString("$(false)")
			}
		default:
			// $X: the one-letter make variable X.
			name := string(n)
			if v, ok := m.value(name); ok {
				sb.WriteString(m.expand(v, target, prereqs, level+1))
			} else if validMakeEnvName(name) {
				sb.WriteString("${" + name + "}")
			}
		}
	}
	return sb.String()
}

func validMakeEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// makeCommand follows make [-C dir] [-f file] [VAR=value] [target...].
func (a *analyzer) makeCommand(st *shState, ctx *srcCtx, c *Command) {
	if a.opts.ReadFile == nil || a.makeDepth >= maxMakeDepth {
		return
	}
	dir, file := "", ""
	cmdVars := map[string]string{}
	var targets []string
	args := c.Args[1:]
	for i := 0; i < len(args); i++ {
		w := args[i]
		v := w.Value
		switch {
		case !w.Known():
			if !strings.HasPrefix(v, "-") && !strings.Contains(v, "=") {
				return // an unknown target: which recipe runs is not known
			}
		case v == "-C" || v == "--directory":
			if i+1 < len(args) {
				dir = path.Join(dir, args[i+1].Value)
				i++
			}
		case strings.HasPrefix(v, "--directory="):
			dir = path.Join(dir, strings.TrimPrefix(v, "--directory="))
		case strings.HasPrefix(v, "-C") && len(v) > 2:
			dir = path.Join(dir, v[2:])
		case v == "-f" || v == "--file" || v == "--makefile":
			if i+1 < len(args) {
				file = args[i+1].Value
				i++
			}
		case strings.HasPrefix(v, "-f") && len(v) > 2:
			file = v[2:]
		case v == "-j" || v == "-l" || v == "-o" || v == "-W" || v == "-I":
			if i+1 < len(args) && !strings.HasPrefix(args[i+1].Value, "-") {
				i++
			}
		case strings.HasPrefix(v, "-"):
		case strings.Contains(v, "="):
			k, val, _ := strings.Cut(v, "=")
			k = strings.TrimSuffix(strings.TrimSuffix(k, ":"), ":")
			if validMakeEnvName(k) {
				cmdVars[k] = val
			}
		default:
			targets = append(targets, v)
		}
	}
	base := st.cwd
	if !st.cwdOK {
		return
	}
	var mf *makefile
	names := []string{"GNUmakefile", "makefile", "Makefile"}
	if file != "" {
		names = []string{file}
	}
	for _, n := range names {
		rel, ok := a.repoPath(&shState{env: st.env, cwd: path.Join(base, dir), cwdOK: true}, n)
		if !ok {
			continue
		}
		data, err := a.opts.ReadFile(rel)
		if err != nil || len(data) > a.opts.MaxScriptSize {
			continue
		}
		mf = parseMakefile(rel, string(data))
		break
	}
	if mf == nil {
		return
	}
	if len(targets) == 0 {
		if mf.first == "" {
			return
		}
		targets = []string{mf.first}
	}
	m := &makeRun{mf: mf, cmd: cmdVars, env: st.env, done: map[string]bool{}}
	a.makeDepth++
	defer func() { a.makeDepth-- }()
	child := st.childShell()
	child.cwd = path.Join(base, dir)
	for _, t := range targets {
		if a.halted {
			return
		}
		a.makeTarget(child, c, m, t, 0)
	}
}

// makeTarget analyses the recipe of one target after its prerequisites'.
func (a *analyzer) makeTarget(st *shState, c *Command, m *makeRun, target string, depth int) {
	r := m.mf.rules[target]
	if r == nil || m.done[target] || depth > maxMakeDepth {
		return
	}
	m.done[target] = true
	for _, p := range r.prereqs {
		a.makeTarget(st, c, m, p, depth+1)
	}
	for _, l := range r.recipe {
		if a.halted {
			return
		}
		if a.makeRecipes >= maxMakeRecipes {
			if !a.makeDiag {
				a.makeDiag = true
				a.diags.Warnf(a.project, m.mf.rel, l.line, "make recipes: more than %d lines followed; the rest were not analysed", maxMakeRecipes)
			}
			return
		}
		a.makeRecipes++
		text := strings.TrimLeft(l.text, " \t")
		text = strings.TrimLeft(text, "@-+")
		text = m.expand(text, target, r.prereqs, 0)
		f, err := a.parse(text, m.mf.rel)
		if err != nil {
			a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Warning, Pos: c.Pos,
				Summary: "cannot parse a recipe line of " + m.mf.rel + " as shell: " + errText(err),
				Detail:  "the recipe of " + target + " run by make was not analysed past it"})
			return
		}
		rctx := &srcCtx{text: text, project: a.project, file: m.mf.rel, line: l.line, step: 0, section: m.mf.rel}
		// Every recipe line runs in its own shell.
		line := *st
		line.env = st.env.freeze()
		line.log = nil
		a.stmts(&line, rctx, f.Stmts)
	}
}
