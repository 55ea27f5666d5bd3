package shell

import (
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// prefixAssign is one FOO=bar before a command name.
type prefixAssign struct {
	name string
	w    Word
}

func (a *analyzer) callExpr(st *shState, ctx *srcCtx, s *syntax.Stmt, ce *syntax.CallExpr) flow {
	e := a.expander(st, ctx)
	if len(ce.Args) == 0 {
		for _, as := range ce.Assigns {
			a.assign(st, e, as, assignOpts{})
		}
		a.redirects(st, ctx, s.Redirs)
		return flowNext
	}
	args := make([]Word, 0, len(ce.Args))
	for _, w := range ce.Args {
		args = e.appendFields(args, w)
	}
	if len(args) == 0 {
		// The command word expanded to nothing ($EMPTY): bash then
		// applies the assignments to the shell.
		for _, as := range ce.Assigns {
			a.assign(st, e, as, assignOpts{})
		}
		a.redirects(st, ctx, s.Redirs)
		return flowNext
	}
	// Prefix assignments hold for this command only; each sees the
	// previous ones.
	cmdEnv := st.env.freeze()
	var pre []prefixAssign
	if len(ce.Assigns) > 0 {
		tmp := *st
		tmp.log = nil
		te := a.expander(&tmp, ctx)
		for _, as := range ce.Assigns {
			name, w := a.assign(&tmp, te, as, assignOpts{export: true})
			if name != "" {
				pre = append(pre, prefixAssign{name, w})
			}
		}
		cmdEnv = tmp.env.freeze()
	}
	redirs := a.redirects(st, ctx, s.Redirs)
	return a.run(st, ctx, s, args, pre, cmdEnv, redirs)
}

type assignOpts struct {
	export bool
	local  bool
}

// assign performs one assignment and returns the name and the value
// assigned (for arrays, the elements joined by spaces).
func (a *analyzer) assign(st *shState, e *expander, as *syntax.Assign, o assignOpts) (string, Word) {
	if as.Name == nil {
		return "", Word{}
	}
	name := as.Name.Value
	if o.local {
		a.makeLocal(st, name)
	}
	old, hasOld := st.env.lookup(name)
	switch {
	case as.Array != nil:
		var elems []Word
		size := 0
		for _, el := range as.Array.Elems {
			if el.Value == nil {
				continue
			}
			for _, f := range e.fields(el.Value) {
				elems = append(elems, f)
				size += len(f.Value)
			}
			if len(elems) > maxArrayElems || size > maxValueLen {
				break // over the bound already: arrayFits refuses it below
			}
		}
		if as.Append && hasOld && old.state == varSet {
			prev := old.elems
			if !old.isArray {
				prev = []Word{old.word()}
			}
			elems = append(append([]Word(nil), prev...), elems...)
		}
		if !arrayFits(elems) {
			// Doubling an array forty times (a=("${a[@]}" "${a[@]}"))
			// would take terabytes; past the bound it is unknown.
			if e.ctx != nil && !a.overArrays[name] {
				if a.overArrays == nil {
					a.overArrays = map[string]bool{}
				}
				a.overArrays[name] = true
				a.diags.Warnf(e.ctx.project, e.ctx.file, e.ctx.pos(as.Pos()).Line,
					"array %s would hold more than %d elements or %d bytes: its value is taken as unknown", name, maxArrayElems, maxValueLen)
			}
			st.setVar(name, unknownVar(name))
			return name, Word{Value: "${" + name + "}", Unknown: []string{name}}
		}
		v := &variable{elems: elems, isArray: true, exported: o.export || hasOld && old.exported}
		st.setVar(name, v)
		return name, joinWords(elems, " ")
	case as.Index != nil:
		// a[i]=v: known index into a known array; anything else leaves
		// the array unknown.
		w := e.str(as.Value)
		i, ok := e.arith(as.Index)
		if ok && i >= 0 && i < 1024 {
			var elems []Word
			if hasOld && old.state == varSet {
				elems = append(elems, old.elems...)
				if !old.isArray {
					elems = []Word{old.word()}
				}
			}
			for int64(len(elems)) <= i {
				elems = append(elems, Word{})
			}
			elems[i] = w
			st.setVar(name, &variable{elems: elems, isArray: true, exported: hasOld && old.exported})
		} else {
			st.setVar(name, unknownVar(name))
		}
		return name, w
	}
	w := e.str(as.Value)
	if as.Append && hasOld && old.state == varSet {
		prev := old.word()
		w = Word{Raw: w.Raw, Value: prev.Value + w.Value, Unknown: prev.Unknown}
		for _, u := range e.str(as.Value).Unknown {
			w.Unknown = addName(w.Unknown, u)
		}
	}
	v := a.newVar(st, name, w)
	if o.export {
		v.exported = true
	}
	st.setVar(name, v)
	return name, w
}

// arrayFits reports whether elems is within the array bounds: at most
// maxArrayElems elements of maxValueLen bytes in total.
func arrayFits(elems []Word) bool {
	if len(elems) > maxArrayElems {
		return false
	}
	n := 0
	for _, el := range elems {
		n += len(el.Value)
	}
	return n <= maxValueLen
}

// newVar makes a scalar variable holding w; it stays exported if it was.
func (a *analyzer) newVar(st *shState, name string, w Word) *variable {
	v := &variable{value: w.Value, unknown: w.Unknown}
	if len(w.Value) > maxValueLen {
		v = unknownVar(name)
	}
	if old, _ := st.env.lookup(name); old.exported {
		v.exported = true
	}
	return v
}

// makeLocal saves name's current value so that the function call
// restores it on return.
func (a *analyzer) makeLocal(st *shState, name string) {
	if st.fn == nil {
		return
	}
	for _, s := range st.fn.saved {
		if s.name == name {
			return
		}
	}
	prev, ok := st.env.lookup(name)
	if !ok {
		prev = variable{state: varAbsent}
	}
	st.fn.saved = append(st.fn.saved, savedVar{name, &prev})
}

// declClause handles export, declare, typeset, local, readonly; it is
// returned as a command too (export PIP_INDEX_URL=... is evidence).
func (a *analyzer) declClause(st *shState, ctx *srcCtx, s *syntax.Stmt, c *syntax.DeclClause) flow {
	e := a.expander(st, ctx)
	variant := c.Variant.Value
	declare := variant == "declare" || variant == "typeset"
	export, unexport, global := variant == "export", false, false
	// local, and declare inside a function without -g, make the
	// variable local to the function call.
	opts := func() assignOpts {
		return assignOpts{export: export && !unexport, local: variant == "local" || declare && st.fn != nil && !global}
	}
	args := []Word{{Raw: variant, Value: variant}}
	for _, as := range c.Args {
		switch {
		case as.Naked && as.Name == nil && as.Value != nil:
			ws := e.fields(as.Value)
			args = append(args, ws...)
			for _, w := range ws {
				if v := w.Value; len(v) > 1 && (v[0] == '-' || v[0] == '+') {
					on := v[0] == '-'
					for _, f := range v[1:] {
						switch {
						case f == 'x':
							export, unexport = on, !on
						case f == 'g':
							global = on
						case f == 'n' && variant == "export":
							unexport = true
						}
					}
					continue
				}
				// export "$NAME=value" built at run time.
				if name, val, ok := strings.Cut(w.Value, "="); ok && syntax.ValidName(name) {
					o := opts()
					if o.local {
						a.makeLocal(st, name)
					}
					v := a.newVar(st, name, Word{Value: val, Unknown: w.Unknown})
					v.exported = v.exported || o.export
					st.setVar(name, v)
				}
			}
		case as.Naked:
			name := as.Name.Value
			args = append(args, Word{Raw: name, Value: name})
			o := opts()
			if o.local {
				a.makeLocal(st, name)
			}
			old, ok := st.env.lookup(name)
			switch {
			case ok && old.state == varSet:
				v := old
				v.exported = (old.exported || o.export) && !unexport
				st.setVar(name, &v)
			case o.local:
				st.setVar(name, &variable{state: varUnset})
			case o.export:
				// Marked for export: a later assignment is exported.
				if !ok {
					old.state = varAbsent
				}
				old.exported = true
				st.setVar(name, &old)
			}
		default:
			name, w := a.assign(st, e, as, opts())
			if unexport {
				if v, ok := st.env.lookup(name); ok {
					v.exported = false
					st.setVar(name, &v)
				}
			}
			op := "="
			if as.Append {
				op = "+="
			}
			args = append(args, Word{Raw: ctx.raw(as), Value: name + op + w.Value, Unknown: w.Unknown})
		}
	}
	redirs := a.redirects(st, ctx, s.Redirs)
	a.emit(st, ctx, s.Pos(), args, nil, st.env.freeze(), redirs)
	return flowNext
}

func (a *analyzer) redirects(st *shState, ctx *srcCtx, rs []*syntax.Redirect) []Redirect {
	if len(rs) == 0 {
		return nil
	}
	e := a.expander(st, ctx)
	out := make([]Redirect, 0, len(rs))
	for _, r := range rs {
		rd := Redirect{Op: r.Op.String()}
		if r.N != nil {
			rd.N = r.N.Value
		}
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			rd.Target = e.strMode(r.Word, qNone)
			rd.Target.Raw = ctx.raw(r.Word)
			rd.Target.Unknown = nil
			rd.Heredoc = e.heredoc(r)
		default:
			rd.Target = e.str(r.Word)
		}
		out = append(out, rd)
	}
	return out
}

// emit records a command that runs.
func (a *analyzer) emit(st *shState, ctx *srcCtx, p syntax.Pos, args []Word, pre []prefixAssign, env *layer, redirs []Redirect) *Command {
	if len(a.slab) == 0 {
		a.slab = make([]Command, 16)
	}
	c := &a.slab[0]
	a.slab = a.slab[1:]
	*c = Command{Args: args, Env: env, Pos: ctx.pos(p), Section: ctx.section, Base: BaseName(args[0].Value)}
	if len(pre) > 0 {
		c.Assigns = make(map[string]Word, len(pre))
		for _, p := range pre {
			c.Assigns[p.name] = p.w
		}
	}
	if len(a.outer) > 0 {
		redirs = append(redirs[:len(redirs):len(redirs)], a.outer...)
	}
	c.Redirects = redirs
	if a.stdin != nil {
		c.Stdin = a.stdin
		a.stdin = nil
	}
	a.cmds = append(a.cmds, c)
	if len(a.cmds) >= a.opts.MaxCommands {
		a.limit(ctx, p, "the scripts run more than "+strconv.Itoa(a.opts.MaxCommands)+" commands (limit "+string(limits.ShellCommands)+"; "+limits.Raise(limits.ShellCommands, int64(a.opts.MaxCommands))+")")
	}
	return c
}

// run emits a simple command and applies its effect on the shell.
func (a *analyzer) run(st *shState, ctx *srcCtx, s *syntax.Stmt, args []Word, pre []prefixAssign, env *layer, redirs []Redirect) flow {
	name := args[0].Value
	useFuncs, exec := true, false
	for len(args) > 1 && (name == "command" || name == "builtin" || name == "exec") && !strings.HasPrefix(args[1].Value, "-") {
		exec = exec || name == "exec"
		useFuncs = false
		args = args[1:]
		name = args[0].Value
	}
	if inner, assigns := unwrap(args); inner != nil {
		// sudo git clone ... runs git: the command returned is git's.
		args, useFuncs = inner, false
		if len(assigns) > 0 {
			tmp := *st
			tmp.env, tmp.log = env, nil
			for _, as := range assigns {
				tmp.setVar(as.name, &variable{value: as.w.Value, unknown: as.w.Unknown, exported: true})
			}
			pre = append(pre[:len(pre):len(pre)], assigns...)
			env = tmp.env.freeze()
		}
	}
	if useFuncs {
		if fd := st.lookupFunc(name); fd != nil {
			return a.callFunc(st, ctx, s, fd, args, pre, redirs)
		}
	}
	c := a.emit(st, ctx, s.Pos(), args, pre, env, redirs)
	if a.halted {
		return flowExit
	}
	f := a.builtin(st, ctx, c)
	if exec && f == flowNext {
		return flowExit
	}
	return f
}

type savedVar struct {
	name string
	v    *variable
}

// callFunc analyses a function body at a call site.
func (a *analyzer) callFunc(st *shState, ctx *srcCtx, s *syntax.Stmt, fd *funcDef, args []Word, pre []prefixAssign, redirs []Redirect) flow {
	if len(a.calls) >= maxCallDepth {
		return flowNext
	}
	active := 0
	for _, c := range a.calls {
		if c == fd || c.body == fd.body {
			active++
		}
	}
	if active >= maxRecursion {
		return flowNext
	}
	if !a.step(ctx, s.Pos()) {
		return flowExit
	}
	a.calls = append(a.calls, fd)
	savedParams, savedFn := st.params, st.fn
	st.params = args[1:]
	st.fn = &callFrame{}
	for _, p := range pre {
		a.makeLocal(st, p.name)
		st.setVar(p.name, &variable{value: p.w.Value, unknown: p.w.Unknown, exported: true})
	}
	n := len(a.outer)
	a.outer = append(a.outer, redirs...)
	f := a.stmt(st, fd.ctx, fd.body)
	a.outer = a.outer[:n]
	for i := len(st.fn.saved) - 1; i >= 0; i-- {
		sv := st.fn.saved[i]
		st.setVar(sv.name, sv.v)
	}
	st.params, st.fn = savedParams, savedFn
	a.calls = a.calls[:len(a.calls)-1]
	if f == flowExit {
		return flowExit
	}
	return flowNext
}

// builtin applies what a command does to the shell: exit, cd, set,
// unset, read, source, eval, and scripts run by the job.
func (a *analyzer) builtin(st *shState, ctx *srcCtx, c *Command) flow {
	args := c.Args
	name := args[0].Value
	if len(c.Redirects) > 0 || name == "tee" {
		a.recordWrite(st, c)
	}
	if a.capture != nil {
		a.captureOutput(st, c)
	}
	switch name {
	case "exit":
		return flowExit
	case "return":
		if st.fn == nil && st.source == "" {
			return flowNext // bash refuses return outside functions
		}
		return flowReturn
	case "break":
		return flowBreak
	case "continue":
		return flowContinue
	case "cd", "pushd":
		a.cd(st, args[1:])
	case "popd":
		st.cwdOK = false
	case "set":
		setParams(st, args[1:])
	case "shift":
		n := 1
		if len(args) > 1 {
			if v, err := strconv.Atoi(args[1].Value); err == nil {
				n = v
			}
		}
		if n >= 0 && n <= len(st.params) {
			st.params = st.params[n:]
		}
	case "unset":
		funcs := false
		for _, w := range args[1:] {
			switch w.Value {
			case "-f":
				funcs = true
				continue
			case "-v":
				continue
			}
			if funcs {
				st.funcs = &funcDef{name: w.Value, gone: true, next: st.funcs}
			} else if syntax.ValidName(w.Value) {
				st.setVar(w.Value, &variable{state: varUnset})
			}
		}
	case "read", "mapfile", "readarray", "getopts":
		for _, n := range readNames(args) {
			st.setVar(n, unknownVar(n))
		}
	case "source", ".":
		if len(args) > 1 {
			return a.runFile(st, ctx, c, args[1], args[2:], true, true)
		}
	case "eval":
		return a.evalString(st, ctx, c, joinWords(args[1:], " "))
	default:
		return a.external(st, ctx, c)
	}
	return flowNext
}

// external handles commands that run shell code: bash -c, sh file,
// ./script.sh and paths to scripts in the repository.
func (a *analyzer) external(st *shState, ctx *srcCtx, c *Command) flow {
	name := c.Args[0].Value
	switch strings.TrimSuffix(strings.ToLower(path.Base(name)), ".exe") {
	case "pwsh", "powershell":
		a.pwshCommand(st, ctx, c) // powershell.go
		return flowNext
	case "make", "gmake":
		a.makeCommand(st, ctx, c) // make.go
		return flowNext
	}
	if shellNames[path.Base(name)] && (!strings.Contains(name, "/") || strings.HasPrefix(name, "/")) {
		a.shellCommand(st, ctx, c)
		return flowNext
	}
	if strings.Contains(name, "/") && c.Args[0].Known() {
		return a.runFile(st, ctx, c, c.Args[0], c.Args[1:], false, false)
	}
	return flowNext
}

var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "ash": true, "mksh": true}

// shellCommand follows bash -c 'string' [name args...] and bash file args.
func (a *analyzer) shellCommand(st *shState, ctx *srcCtx, c *Command) {
	args := c.Args[1:]
	for i := 0; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "--":
			if i+1 < len(args) {
				a.runFile(st, ctx, c, args[i+1], args[i+2:], false, true)
			}
			return
		case v == "-o" || v == "+o" || v == "-O" || v == "+O":
			i++
		case strings.HasPrefix(v, "--"):
		case len(v) > 1 && (v[0] == '-' || v[0] == '+'):
			if v[0] == '-' && strings.Contains(v, "c") {
				if i+1 >= len(args) {
					return
				}
				rest := args[i+2:]
				child := st.childShell()
				if len(rest) > 0 {
					child.arg0 = rest[0].Value
					child.params = rest[1:]
				}
				a.evalString(child, ctx, c, args[i+1])
				return
			}
			if strings.Contains(v, "s") {
				return // reads the script from stdin
			}
		default:
			a.runFile(st, ctx, c, args[i], args[i+1:], false, true)
			return
		}
	}
}

// childShell is the state of a new shell process started by this one:
// exported variables only, no functions, no parameters.
func (st *shState) childShell() *shState {
	return &shState{env: st.env.child(), cwd: st.cwd, cwdOK: st.cwdOK, source: st.source}
}

func (a *analyzer) cd(st *shState, args []Word) {
	var dir *Word
	for i := range args {
		if !strings.HasPrefix(args[i].Value, "-") || args[i].Value == "-" {
			dir = &args[i]
			break
		}
	}
	if dir == nil || !dir.Known() || dir.Value == "-" || dir.Value == "" {
		st.cwdOK = false
		if dir == nil {
			st.cwdOK = false // cd alone goes to HOME
		}
		return
	}
	p := dir.Value
	root := a.projectDir(st.env)
	switch {
	case p == root:
		st.cwd, st.cwdOK = "", true
	case strings.HasPrefix(p, root+"/"):
		st.cwd, st.cwdOK = path.Clean(p[len(root)+1:]), true
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~"):
		st.cwdOK = false
	case st.cwdOK:
		st.cwd = path.Clean(path.Join(st.cwd, p))
		if st.cwd == "." {
			st.cwd = ""
		}
		if strings.HasPrefix(st.cwd, "..") {
			st.cwdOK = false
		}
	}
}

// setParams handles set -- a b c (and set a b c).
func setParams(st *shState, args []Word) {
	for i, w := range args {
		if w.Value == "--" {
			st.params = append([]Word(nil), args[i+1:]...)
			return
		}
		if strings.HasPrefix(w.Value, "-") || strings.HasPrefix(w.Value, "+") {
			if w.Value == "-o" || w.Value == "+o" {
				return
			}
			continue
		}
		if i == 0 {
			st.params = append([]Word(nil), args...)
		}
		return
	}
}

// readNames returns the variables that read, mapfile or getopts set.
func readNames(args []Word) []string {
	name := args[0].Value
	var names []string
	withArg := map[string]bool{"-p": true, "-d": true, "-n": true, "-N": true, "-t": true, "-u": true, "-a": true,
		"-C": true, "-c": true, "-O": true, "-s": true, "-i": true}
	for i := 1; i < len(args); i++ {
		v := args[i].Value
		if strings.HasPrefix(v, "-") {
			if v == "-a" && i+1 < len(args) {
				names = append(names, args[i+1].Value)
			}
			if withArg[v] && !(name == "read" && v == "-s") {
				i++
			}
			continue
		}
		if name == "getopts" {
			if i+1 < len(args) {
				names = append(names, args[i+1].Value)
			}
			break
		}
		names = append(names, v)
	}
	if name == "read" && len(names) == 0 {
		names = append(names, "REPLY")
	}
	if (name == "mapfile" || name == "readarray") && len(names) == 0 {
		names = append(names, "MAPFILE")
	}
	var out []string
	for _, n := range names {
		if syntax.ValidName(n) {
			out = append(out, n)
		}
	}
	return out
}

// wrapperOpts lists, for commands that run another command, their
// options that take a value.
var wrapperOpts = map[string]map[string]bool{
	"sudo":    {"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-U": true},
	"env":     {"-u": true, "-C": true, "-S": true, "--unset": true, "--chdir": true},
	"nohup":   {},
	"nice":    {"-n": true},
	"timeout": {"-s": true, "-k": true, "--signal": true, "--kill-after": true},
	"time":    {"-f": true, "-o": true},
	"stdbuf":  {"-i": true, "-o": true, "-e": true},
}

// unwrap returns the command run by a wrapper (sudo, env, nohup, nice,
// timeout, time, stdbuf) and env's NAME=value assignments; nil when
// args is not a wrapper running a command.
func unwrap(args []Word) ([]Word, []prefixAssign) {
	var assigns []prefixAssign
	unwrapped := false
	for range 4 { // sudo env timeout ... nests a little
		opts, ok := wrapperOpts[args[0].Value]
		if !ok {
			break
		}
		name := args[0].Value
		i := 1
		for i < len(args) {
			v := args[i].Value
			if v == "--" {
				i++
				break
			}
			if name == "env" && !strings.HasPrefix(v, "-") {
				if n, val, ok := strings.Cut(v, "="); ok && syntax.ValidName(n) {
					assigns = append(assigns, prefixAssign{n, Word{Raw: args[i].Raw, Value: val, Unknown: args[i].Unknown}})
					i++
					continue
				}
			}
			if !strings.HasPrefix(v, "-") || v == "-" {
				break
			}
			if opts[v] {
				i++
			}
			i++
		}
		if name == "timeout" && i < len(args) {
			i++ // the duration
		}
		if i >= len(args) {
			return nil, nil
		}
		args = args[i:]
		unwrapped = true
	}
	if _, still := wrapperOpts[args[0].Value]; still || !unwrapped {
		return nil, nil
	}
	return args, assigns
}
