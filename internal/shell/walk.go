package shell

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

func (a *analyzer) stmts(st *shState, ctx *srcCtx, list []*syntax.Stmt) flow {
	for _, s := range list {
		if f := a.stmt(st, ctx, s); f != flowNext {
			return f
		}
		if a.halted {
			return flowExit
		}
	}
	return flowNext
}

func (a *analyzer) stmt(st *shState, ctx *srcCtx, s *syntax.Stmt) flow {
	if !a.step(ctx, s.Pos()) {
		return flowExit
	}
	a.nesting++
	defer func() { a.nesting-- }()
	if a.nesting > maxNesting {
		a.limit(ctx, s.Pos(), "the script nests too deeply to analyse")
		return flowExit
	}
	if s.Background || s.Coprocess || s.Disown {
		// A background job runs in a subshell: its assignments and its
		// exit do not affect this shell.
		sub := st.subshell()
		a.fanOut(sub, ctx, s)
		return flowNext
	}
	return a.fanOut(st, ctx, s)
}

// subshell returns a copy of st whose changes do not reach st.
func (st *shState) subshell() *shState {
	sub := *st
	sub.env = st.env.freeze()
	sub.log = nil
	return &sub
}

func (a *analyzer) command(st *shState, ctx *srcCtx, s *syntax.Stmt) flow {
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		return a.callExpr(st, ctx, s, c)
	case *syntax.DeclClause:
		return a.declClause(st, ctx, s, c)
	case nil:
		// Only redirections ("> file"): nothing runs, but their words
		// are expanded.
		a.redirects(st, ctx, s.Redirs)
		return flowNext
	}
	var own []Redirect
	if len(s.Redirs) > 0 {
		n := len(a.outer)
		own = a.redirects(st, ctx, s.Redirs)
		a.outer = append(a.outer, own...)
		defer func() { a.outer = a.outer[:n] }()
	}
	switch c := s.Cmd.(type) {
	case *syntax.Block:
		return a.stmts(st, ctx, c.Stmts)
	case *syntax.Subshell:
		if f := a.stmts(st.subshell(), ctx, c.Stmts); f == flowExit && a.halted {
			return flowExit
		}
		return flowNext
	case *syntax.BinaryCmd:
		return a.binaryCmd(st, ctx, c)
	case *syntax.IfClause:
		return a.ifClause(st, ctx, c)
	case *syntax.CaseClause:
		return a.caseClause(st, ctx, c)
	case *syntax.ForClause:
		return a.forClause(st, ctx, c)
	case *syntax.WhileClause:
		return a.whileClause(st, ctx, c, own)
	case *syntax.FuncDecl:
		if c.Name != nil && c.Body != nil {
			st.funcs = &funcDef{name: c.Name.Value, body: c.Body, ctx: ctx, next: st.funcs}
		}
		return flowNext
	case *syntax.TestClause:
		a.testExpr(st, ctx, c.X)
		return flowNext
	case *syntax.ArithmCmd:
		e := a.expander(st, ctx)
		e.arith(c.X)
		return flowNext
	case *syntax.LetClause:
		e := a.expander(st, ctx)
		for _, x := range c.Exprs {
			e.arith(x)
		}
		return flowNext
	case *syntax.TimeClause:
		if c.Stmt != nil {
			return a.stmt(st, ctx, c.Stmt)
		}
		return flowNext
	case *syntax.CoprocClause:
		if c.Stmt != nil {
			a.stmt(st.subshell(), ctx, c.Stmt)
		}
		return flowNext
	}
	return flowNext
}

// testExpr expands the words of [[ ]] so that command substitutions in
// them are analysed.
func (a *analyzer) testExpr(st *shState, ctx *srcCtx, x syntax.TestExpr) {
	switch t := x.(type) {
	case *syntax.BinaryTest:
		a.testExpr(st, ctx, t.X)
		a.testExpr(st, ctx, t.Y)
	case *syntax.UnaryTest:
		a.testExpr(st, ctx, t.X)
	case *syntax.ParenTest:
		a.testExpr(st, ctx, t.X)
	case *syntax.Word:
		a.expander(st, ctx).str(t)
	}
}

func (a *analyzer) binaryCmd(st *shState, ctx *srcCtx, c *syntax.BinaryCmd) flow {
	switch c.Op {
	case syntax.Pipe, syntax.PipeAll:
		// Every part of a pipeline runs in a subshell. The left side's
		// output, when it can be computed, is the right side's input (for
		// filters inside $(...) and while-read loops).
		n := len(a.cmds)
		outer := a.capture
		left := &capture{}
		a.capture = left
		a.stmt(st.subshell(), ctx, c.X)
		a.capture = outer
		if a.halted {
			return flowExit
		}
		if len(a.cmds) > n {
			a.stdin = a.cmds[len(a.cmds)-1]
		}
		a.pipeIn = left
		a.stmt(st.subshell(), ctx, c.Y)
		a.stdin, a.pipeIn = nil, nil
		if a.halted {
			return flowExit
		}
		return flowNext
	default: // && and ||: Y runs only depending on X.
		if f := a.stmt(st, ctx, c.X); f != flowNext {
			return f
		}
		// [ -n "$X" ] || X=d keeps a known X: the default-if-unset idiom.
		a.defaultIdiom = true
		return a.branches(st, []func(*shState) flow{
			func(b *shState) flow { return a.stmt(b, ctx, c.Y) },
		}, true)
	}
}

func (a *analyzer) ifClause(st *shState, ctx *srcCtx, c *syntax.IfClause) flow {
	if f := a.stmts(st, ctx, c.Cond); f != flowNext {
		return f
	}
	alts := []func(*shState) flow{func(b *shState) flow { return a.stmts(b, ctx, c.Then) }}
	implicit := true
	if c.Else != nil {
		els := c.Else
		implicit = false
		alts = append(alts, func(b *shState) flow {
			if !els.ThenPos.IsValid() {
				return a.stmts(b, ctx, els.Then) // else
			}
			return a.ifClause(b, ctx, els) // elif
		})
	}
	return a.branches(st, alts, implicit)
}

func (a *analyzer) caseClause(st *shState, ctx *srcCtx, c *syntax.CaseClause) flow {
	e := a.expander(st, ctx)
	e.str(c.Word)
	implicit := true
	var alts []func(*shState) flow
	for _, item := range c.Items {
		for _, p := range item.Patterns {
			if p.Lit() == "*" {
				implicit = false
			}
			e.str(p)
		}
		alts = append(alts, func(b *shState) flow { return a.stmts(b, ctx, item.Stmts) })
	}
	return a.branches(st, alts, implicit)
}

func (a *analyzer) whileClause(st *shState, ctx *srcCtx, c *syntax.WhileClause, redirs []Redirect) flow {
	in := a.pipeIn
	a.pipeIn = nil
	if f := a.stmts(st, ctx, c.Cond); f != flowNext {
		return f
	}
	if names, ifs, ok := readLoop(c); ok {
		if text, ok := a.loopInput(st, redirs, in); ok {
			return a.readIter(st, ctx, c, names, ifs, text)
		}
	}
	return a.branches(st, []func(*shState) flow{func(b *shState) flow {
		f := a.stmts(b, ctx, c.Do)
		if f == flowBreak || f == flowContinue {
			f = flowNext
		}
		return f
	}}, true)
}

// readLoop recognises "while [IFS=x] read [-r] name...": the loop runs
// once per input line.
func readLoop(c *syntax.WhileClause) (names []string, ifs string, ok bool) {
	if c.Until || len(c.Cond) != 1 {
		return nil, "", false
	}
	ce, isCall := c.Cond[0].Cmd.(*syntax.CallExpr)
	if !isCall || len(ce.Args) < 2 || ce.Args[0].Lit() != "read" {
		return nil, "", false
	}
	ifs = " \t\n"
	for _, as := range ce.Assigns {
		if as.Name == nil || as.Name.Value != "IFS" {
			return nil, "", false
		}
		if as.Value == nil {
			ifs = ""
			continue
		}
		v, ok := litValue(as.Value)
		if !ok {
			return nil, "", false
		}
		ifs = v
	}
	for _, w := range ce.Args[1:] {
		v := w.Lit()
		switch {
		case v == "-r":
		case syntax.ValidName(v):
			names = append(names, v)
		default:
			return nil, "", false
		}
	}
	return names, ifs, len(names) > 0
}

// litValue returns the value of a word made only of literal and quoted
// text.
func litValue(w *syntax.Word) (string, bool) {
	var sb strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			sb.WriteString(unescape(p.Value, ""))
		case *syntax.SglQuoted:
			if p.Dollar {
				sb.WriteString(ansiC(p.Value))
			} else {
				sb.WriteString(p.Value)
			}
		case *syntax.DblQuoted:
			v, ok := litValue(&syntax.Word{Parts: p.Parts})
			if !ok {
				return "", false
			}
			sb.WriteString(v)
		default:
			return "", false
		}
	}
	return sb.String(), true
}

// loopInput is the known text a while-read loop reads: a here-document,
// a here-string, a repository file (done < repos.txt), or the output of
// the left side of a pipe.
func (a *analyzer) loopInput(st *shState, redirs []Redirect, piped *capture) (string, bool) {
	for _, r := range redirs {
		if r.N != "" && r.N != "0" {
			continue
		}
		switch {
		case r.Heredoc != nil:
			return r.Heredoc.Value, r.Heredoc.Known()
		case r.Op == "<<<":
			return r.Target.Value + "\n", r.Target.Known()
		case r.Op == "<":
			return a.readRepoFile(st, r.Target)
		}
	}
	if piped != nil && !piped.bad && len(piped.unk) == 0 {
		return piped.out.String(), true
	}
	return "", false
}

// readRepoFile reads a data file of the repository named by a known word.
func (a *analyzer) readRepoFile(st *shState, w Word) (string, bool) {
	if a.opts.ReadFile == nil || !w.Known() {
		return "", false
	}
	rel, ok := a.repoPath(st, w.Value)
	if !ok {
		return "", false
	}
	data, err := a.opts.ReadFile(rel)
	if err != nil || len(data) > maxValueLen {
		return "", false
	}
	return string(data), true
}

// readIter analyses a while-read loop body once per input line.
func (a *analyzer) readIter(st *shState, ctx *srcCtx, c *syntax.WhileClause, names []string, ifs, text string) flow {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	if len(lines) > maxLoopItems {
		a.diags.Warnf(ctx.project, ctx.file, ctx.pos(c.Pos()).Line,
			"while loop over %d lines: only the first %d were analysed", len(lines), maxLoopItems)
		lines = lines[:maxLoopItems]
	}
	if !a.unrollAllowed(ctx, c.Pos(), len(lines)) {
		return a.branches(st, []func(*shState) flow{func(b *shState) flow {
			for _, n := range names {
				b.setVar(n, unknownVar(n))
			}
			f := a.stmts(b, ctx, c.Do)
			if f == flowBreak || f == flowContinue {
				f = flowNext
			}
			return f
		}}, true)
	}
	for _, line := range lines {
		if !a.step(ctx, c.Pos()) {
			return flowExit
		}
		for i, v := range splitRead(line, ifs, len(names)) {
			st.setVar(names[i], a.newVar(st, names[i], Word{Value: v}))
		}
		f := a.stmts(st, ctx, c.Do)
		if f == flowBreak {
			return flowNext
		}
		if f == flowExit || f == flowReturn {
			return f
		}
	}
	return flowNext
}

// splitRead splits a line as read does for n names: the last name gets
// the rest of the line.
func splitRead(line, ifs string, n int) []string {
	out := make([]string, n)
	white := strings.Trim(ifs, " \t\n") == "" && ifs != ""
	if white {
		line = strings.Trim(line, ifs)
	}
	for i := 0; i < n-1 && line != ""; i++ {
		j := strings.IndexAny(line, ifs)
		if j < 0 || ifs == "" {
			out[i], line = line, ""
			break
		}
		out[i], line = line[:j], line[j+1:]
		if white {
			line = strings.TrimLeft(line, ifs)
		}
	}
	if line != "" {
		out[n-1] = line
		if white {
			out[n-1] = strings.TrimRight(line, ifs)
		}
	}
	return out
}

func (a *analyzer) forClause(st *shState, ctx *srcCtx, c *syntax.ForClause) flow {
	switch l := c.Loop.(type) {
	case *syntax.WordIter:
		return a.wordIter(st, ctx, c, l)
	case *syntax.CStyleLoop:
		return a.cStyleLoop(st, ctx, c, l)
	}
	return flowNext
}

func (a *analyzer) wordIter(st *shState, ctx *srcCtx, c *syntax.ForClause, l *syntax.WordIter) flow {
	name := l.Name.Value
	var items []Word
	unknownList := false
	if !l.InPos.IsValid() && len(l.Items) == 0 {
		items = append(items, st.params...) // for x; do ...
	}
	e := a.expander(st, ctx)
	for _, w := range l.Items {
		fs, listUnknown := e.fieldsForList(w)
		items = append(items, fs...)
		unknownList = unknownList || listUnknown
	}
	if len(items) > maxLoopItems {
		a.diags.Warnf(ctx.project, ctx.file, ctx.pos(c.Pos()).Line,
			"for loop over %d items: only the first %d were analysed", len(items), maxLoopItems)
		items = items[:maxLoopItems]
	}
	if !a.unrollAllowed(ctx, c.Pos(), len(items)) {
		items, unknownList = nil, true
	}
	for _, it := range items {
		if !a.step(ctx, c.Pos()) {
			return flowExit
		}
		st.setVar(name, &variable{value: it.Value, unknown: it.Unknown})
		f := a.stmts(st, ctx, c.Do)
		if f == flowBreak {
			return flowNext
		}
		if f == flowExit || f == flowReturn {
			return f
		}
	}
	if unknownList {
		return a.branches(st, []func(*shState) flow{func(b *shState) flow {
			b.setVar(name, unknownVar(name))
			f := a.stmts(b, ctx, c.Do)
			if f == flowBreak || f == flowContinue {
				f = flowNext
			}
			return f
		}}, true)
	}
	return flowNext
}

// unrollAllowed charges n loop iterations to the budget for analysing
// iterations one by one; past it (nested loops multiply), loops are
// analysed once with their variable unknown.
func (a *analyzer) unrollAllowed(ctx *srcCtx, p syntax.Pos, n int) bool {
	a.loopIters += n
	if a.loopIters <= maxLoopIters {
		return true
	}
	if !a.loopDiag {
		a.loopDiag = true
		a.diags.Warnf(ctx.project, ctx.file, ctx.pos(p).Line,
			"loops run more than %d iterations: further loops were analysed once with their variable unknown", maxLoopIters)
	}
	return false
}

func unknownVar(name string) *variable {
	return &variable{value: "${" + name + "}", unknown: []string{name}}
}

func (a *analyzer) cStyleLoop(st *shState, ctx *srcCtx, c *syntax.ForClause, l *syntax.CStyleLoop) flow {
	e := a.expander(st, ctx)
	if l.Init != nil {
		e.arith(l.Init)
	}
	for i := 0; i < maxLoopItems; i++ {
		v, ok := int64(1), true
		if l.Cond != nil {
			v, ok = a.expander(st, ctx).arith(l.Cond)
		}
		if !ok || !a.unrollAllowed(ctx, c.Pos(), 1) {
			// Unknown bound: analyse the body once more as a
			// conditional branch.
			return a.branches(st, []func(*shState) flow{func(b *shState) flow {
				f := a.stmts(b, ctx, c.Do)
				if f == flowBreak || f == flowContinue {
					f = flowNext
				}
				return f
			}}, true)
		}
		if v == 0 {
			return flowNext
		}
		if !a.step(ctx, c.Pos()) {
			return flowExit
		}
		f := a.stmts(st, ctx, c.Do)
		if f == flowBreak {
			return flowNext
		}
		if f == flowExit || f == flowReturn {
			return f
		}
		if l.Post != nil {
			a.expander(st, ctx).arith(l.Post)
		}
	}
	return flowNext
}

// branches analyses alternatives that may or may not run (if/else, case
// items, the right side of && and ||, loop bodies) and merges their
// assignments into st by the rule documented on Analyze. implicit says
// that running none of them is possible.
func (a *analyzer) branches(st *shState, alts []func(*shState) flow, implicit bool) flow {
	idiom := a.defaultIdiom
	a.defaultIdiom = false
	pre := st.env.freeze()
	type outcome struct {
		st   *shState
		flow flow
	}
	outs := make([]outcome, 0, len(alts))
	for _, run := range alts {
		b := *st
		b.env = pre
		b.log = &writeLog{}
		f := run(&b)
		if a.halted {
			return flowExit
		}
		outs = append(outs, outcome{&b, f})
	}
	// How the construct ends: it only ends the shell (or function) when
	// every way through it does.
	end := flowNext
	if !implicit {
		end = flowExit
		for _, o := range outs {
			switch o.flow {
			case flowExit:
			case flowReturn:
				end = flowReturn
			default:
				end = flowNext
			}
			if end == flowNext {
				break
			}
		}
	}
	var live []*shState
	for _, o := range outs {
		if o.flow == flowNext || o.flow == flowBreak || o.flow == flowContinue {
			live = append(live, o.st)
		}
	}
	// Variables.
	a.altGroup++
	grp := a.altGroup
	var names []string
	for _, b := range live {
		for _, n := range b.log.names {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		prev, ok := pre.lookup(n)
		prevKnown := ok && prev.state == varSet && len(prev.unknown) == 0 && !prev.isArray
		if prevKnown && (prev.job || idiom) {
			continue // a job variable, or X known before && / ||: the default-if-unset idiom
		}
		var pick *variable
		pickIdx := -1
		if prevKnown {
			pick = &prev // known before: keep it, the branches' values are alternatives
		} else {
			for i, b := range live {
				if !b.log.seen[n] {
					continue
				}
				v, ok := b.env.lookup(n)
				if !ok {
					v = variable{state: varAbsent}
				}
				if pick == nil {
					pick, pickIdx = &v, i
				}
				if v.state == varSet && len(v.unknown) == 0 {
					pick, pickIdx = &v, i
					break
				}
			}
		}
		if pick == nil {
			continue
		}
		alts := a.mergeAlts(grp, n, pick, pickIdx, live, prev, prevKnown)
		if prevKnown && len(alts) == len(prev.alts) {
			continue
		}
		v := *pick
		v.alts = alts
		st.setVar(n, &v)
	}
	// Functions defined in a branch stay defined; the working directory
	// is known afterwards only if no branch changed it.
	orig := st.funcs
	for _, b := range live {
		for f := b.funcs; f != nil && f != orig; f = f.next {
			st.funcs = &funcDef{name: f.name, body: f.body, ctx: f.ctx, gone: f.gone, next: st.funcs}
		}
		if b.cwd != st.cwd || b.cwdOK != st.cwdOK {
			st.cwdOK = false
		}
	}
	return end
}
