package shell

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Source is one piece of script text to analyse, with its place.
type Source struct {
	Text string
	Pos  loc.Pos // where Text starts
	// LineStep is 1 when each line of Text is a line of the file, 0 when
	// the text was folded from several lines (all lines map to Pos.Line).
	LineStep int
	Section  string
}

// Options configure Analyze.
type Options struct {
	// ReadFile reads a file of the caller project (script files run by the
	// job: ./ci/x.sh, bash scripts/y.sh, source env.sh). Nil: not followed.
	ReadFile func(name string) ([]byte, error)
	// MaxFileDepth bounds script files running script files (default 8).
	MaxFileDepth int
	// MaxCommands bounds the commands returned (default 100000), against
	// hostile input.
	MaxCommands int
	// Cache, when set, shares work between calls with the same ReadFile
	// (the jobs of one project): see ProjectCache.
	Cache *ProjectCache
	// MaxSteps bounds the statements and loop iterations analysed, and
	// MaxScriptSize the text of one script (a file or an inline script);
	// 0: limits.ShellSteps, limits.ScriptSize.
	MaxSteps, MaxScriptSize int
}

// withDefaults fills the zero bounds of o with their defaults. Analyze
// does it once, so that the hot paths read plain fields.
func (o Options) withDefaults() Options {
	if o.MaxFileDepth <= 0 {
		o.MaxFileDepth = defaultMaxFileDepth
	}
	o.MaxCommands = limits.Or(o.MaxCommands, limits.ShellCommands)
	o.MaxSteps = limits.Or(o.MaxSteps, limits.ShellSteps)
	o.MaxScriptSize = limits.Or(o.MaxScriptSize, limits.ScriptSize)
	return o
}

// Result is what Analyze found.
type Result struct {
	Commands []*Command // in run order
	Diags    diag.List
}

// Limits that keep hostile scripts cheap. They are far above what real CI
// scripts need (the largest loops seen in the survey have a dozen items).
// Options raise the ones internal/limits lists (shell-commands,
// shell-steps, script-size).
const (
	defaultMaxFileDepth = 8
	maxLoopItems        = 32      // for-loop items analysed one by one
	maxLoopIters        = 2048    // loop iterations analysed one by one per Analyze
	maxCallDepth        = 16      // nested function calls
	maxRecursion        = 2       // activations of one function on the call stack
	maxNesting          = 200     // syntactic nesting of statements
	maxValueLen         = 1 << 16 // longest value a variable may hold (an array: all its elements)
	maxArrayElems       = 4096    // elements an array may hold
)

// Analyze parses the sources as one shell session (before_script and
// script share a shell), expands every word with env and the assignments
// seen so far, and returns the commands that run. Comments, function
// bodies that are never called, and code after exit are skipped.
//
// Rules the analysis follows where the shell's behaviour depends on run
// time:
//   - Every branch of if, case, && and || is analysed, each starting from
//     the state before the branch. Afterwards a variable assigned in a
//     branch takes the branch's value only if it was unset or partly
//     unknown before the branch (the "default if unset" idiom
//     `[ -z "$X" ] && X=d`); a variable with a known value keeps it. When
//     several branches assign it, the first one giving a fully known value
//     wins, else the first one. A branch that exits assigns nothing.
//   - The other fully known values branches of if and case give a
//     variable (and, for a variable the script assigned before, the value
//     of && and || right sides too when it was not a job variable or
//     known before the && / ||) are kept as alternatives: a command
//     using the variable is returned once more per alternative branch,
//     and variables computed from it carry the alternatives (alts.go).
//   - A variable the analysis does not know (not a job variable, never
//     assigned) counts as unset for ${V:-d}, ${V:=d} and ${V:+x}; elsewhere
//     it stays ${V} and is listed in Word.Unknown.
//   - A for loop over known words analyses the body once per word (at most
//     32, and 2048 iterations per Analyze); over an unknown list, once with
//     the loop variable unknown. A while-read loop over known input (a
//     here-document, a repository file, piped known output) runs once per
//     line; other while/until bodies are analysed once, as a branch.
//   - Commands inside $(...) and <(...) run, so they are returned (before
//     the command using their output); the output is unknown ("$(...)")
//     unless the analysis can compute it: echo, printf, pwd, dirname,
//     basename, cat of repository files, and cut, sed s///, tr, awk
//     '{print $N}', head, tail over known input, or functions using them.
//   - Calls of functions are not returned themselves: the commands of the
//     body are, analysed at each call with the call's arguments. command,
//     builtin and exec, and the wrappers sudo, env, nohup, nice, timeout,
//     time and stdbuf are dropped: the command returned is the one they
//     run (env's NAME=value go to Assigns).
//   - Parameters $1.. of the job script are empty (the runner passes none).
//   - A construct spanning several items of a script array (if on one
//     item, fi on a later one) is parsed across them, as the runner joins
//     the items into one script.
func Analyze(sources []Source, env Env, opts Options) Result {
	opts = opts.withDefaults()
	p := parsers.Get().(*syntax.Parser)
	defer parsers.Put(p)
	a := &analyzer{opts: opts, parser: p}
	if a.psSession(sources) {
		st := &shState{env: newRoot(env), cwdOK: true}
		a.project = projectOf(env, sources)
		a.powershell(st, sources)
		return Result{Commands: a.cmds, Diags: a.diags}
	}
	start, st := 0, (*shState)(nil)
	var rec *recEnv
	var key string
	k := prefixLen(sources)
	if opts.Cache != nil && env != nil && k > 0 {
		key = prefixKey(sources[:k], opts)
		if e := opts.Cache.lookup(key, env); e != nil {
			st, start = a.restore(e, env), e.n
		} else {
			rec = &recEnv{inner: env, on: true, seen: map[string]bool{}}
			env = rec
		}
	}
	if st == nil {
		st = &shState{env: newRoot(env), cwdOK: true}
		a.project = projectOf(env, sources)
	}
	for i := start; i < len(sources); i++ {
		if a.halted {
			break
		}
		i += a.source(st, sources, i) - 1
		if rec != nil && i+1 >= k {
			rec.on = false
			if i+1 == k && a.quiet(st) {
				opts.Cache.store(key, k, rec.reads, a, st)
			}
			rec = nil
		}
	}
	if rec != nil && a.halted && a.quiet(st) {
		// exit in the prefix: the rest never runs, for any job alike.
		rec.on = false
		opts.Cache.store(key, k, rec.reads, a, st)
	}
	return Result{Commands: a.cmds, Diags: a.diags}
}

// parsers reuses parsers (and their buffers) across Analyze calls.
var parsers = sync.Pool{New: func() any { return syntax.NewParser(syntax.Variant(syntax.LangBash)) }}

// projectOf names the project whose repository the job runs in: the one
// whose files ./x.sh refers to, even when the script text came from a
// template of another project.
func projectOf(env Env, sources []Source) string {
	if env != nil {
		if p, ok := env.Get("CI_PROJECT_PATH"); ok && p != "" {
			return p
		}
	}
	if len(sources) > 0 {
		return sources[0].Pos.Project
	}
	return ""
}

// repanic makes tests see the stack of a panic that Analyze would
// otherwise report as a diagnostic.
var repanic = false

// analyzer holds what one Analyze call accumulates.
type analyzer struct {
	opts    Options
	parser  *syntax.Parser
	project string
	cmds    []*Command
	slab    []Command // Commands are allocated 16 at a time
	diags   diag.List
	// overArrays names the arrays already reported over maxArrayElems or
	// maxValueLen: a doubling loop would report one per statement.
	overArrays map[string]bool
	steps      int
	nesting    int
	// halted stops everything: exit at top level, or a limit reached.
	halted bool
	// stdin is the command whose output feeds the next command emitted
	// (the left side of a pipe).
	stdin *Command
	// outer holds the redirections of enclosing compound commands and
	// function calls; they apply to every command inside.
	outer     []Redirect
	calls     []*funcDef
	files     []string // script files being analysed, outermost first
	parsed    map[string]*parsedFile
	capture   *capture
	pipeIn    *capture // output of the left side of a pipe inside $(...)
	limitDiag bool
	loopIters int // loop iterations analysed one by one so far
	loopDiag  bool
	rx        map[string]*regexp.Regexp
	// altGroup numbers branch constructs that left alternative values;
	// altsLive says some did (alts.go); fanning is set while a command
	// is analysed once per alternative.
	altGroup int
	altsLive bool
	fanning  bool
	inWorld  bool // analysing a command once more for an alternative
	// defaultIdiom tells the next branches call that it merges the right
	// side of && or ||.
	defaultIdiom bool
	// written holds the files the job wrote, by fileKey (written.go).
	written map[string]*writtenFile
	// make commands being followed, recipe lines analysed (make.go).
	makeDepth   int
	makeRecipes int
	makeDiag    bool
}

type parsedFile struct {
	file *syntax.File
	text string
}

// srcCtx is where a piece of parsed text comes from.
type srcCtx struct {
	text    string
	project string
	file    string
	line    int // file line of the first line of text
	step    int // file lines per text line (0 or 1)
	section string
	lines   []int // when set, the file line of each text line
}

func (c *srcCtx) pos(p syntax.Pos) loc.Pos {
	l := int(p.Line())
	if l < 1 {
		l = 1
	}
	if c.lines != nil {
		return loc.Pos{Project: c.project, File: c.file, Line: c.lines[min(l, len(c.lines))-1]}
	}
	return loc.Pos{Project: c.project, File: c.file, Line: c.line + (l-1)*c.step}
}

// raw returns the source text of a node.
func (c *srcCtx) raw(n syntax.Node) string {
	s, e := n.Pos(), n.End()
	if !s.IsValid() || !e.IsValid() {
		return ""
	}
	i, j := int(s.Offset()), int(e.Offset())
	if i < 0 || j > len(c.text) || i > j {
		return ""
	}
	return c.text[i:j]
}

// shState is the state of one shell: it is copied for subshells and
// branches (the environment layers make that cheap).
type shState struct {
	env    *layer
	funcs  *funcDef
	params []Word // $1...
	arg0   string
	cwd    string // working directory relative to the project directory
	cwdOK  bool
	fn     *callFrame
	log    *writeLog
	source string // script file being run ("" for the job script)
	// sourceArg is that file as the job named it (${BASH_SOURCE[0]}).
	sourceArg string
}

// setVar assigns name in this shell and remembers it for the enclosing
// conditional branch.
func (st *shState) setVar(name string, v *variable) {
	st.env = st.env.set(name, v)
	if st.log != nil {
		st.log.add(name)
	}
}

type writeLog struct {
	names []string
	seen  map[string]bool
}

func (w *writeLog) add(name string) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if !w.seen[name] {
		w.seen[name] = true
		w.names = append(w.names, name)
	}
}

type funcDef struct {
	name string
	body *syntax.Stmt
	ctx  *srcCtx
	next *funcDef
	gone bool // unset -f
}

func (st *shState) lookupFunc(name string) *funcDef {
	for f := st.funcs; f != nil; f = f.next {
		if f.name == name {
			if f.gone {
				return nil
			}
			return f
		}
	}
	return nil
}

type callFrame struct {
	saved []savedVar // values before `local`, restored on return
}

// flow says how a statement ended.
type flow uint8

const (
	flowNext flow = iota
	flowExit
	flowReturn
	flowBreak
	flowContinue
)

// maxJoin bounds the script items joined to complete a construct that
// spans several of them.
const maxJoin = 50

// source analyses sources[i] and returns how many items it consumed:
// more than one when a construct (if ... fi, a loop) spans several items
// of the script array, which works in GitLab because the runner writes
// all items into one shell script.
func (a *analyzer) source(st *shState, sources []Source, i int) (n int) {
	src := &sources[i]
	ctx := &srcCtx{text: src.Text, project: src.Pos.Project, file: src.Pos.File,
		line: max(src.Pos.Line, 1), step: src.LineStep, section: src.Section}
	if ctx.step < 0 || ctx.step > 1 {
		ctx.step = 1
	}
	defer func() {
		if r := recover(); r != nil {
			if repanic {
				panic(r)
			}
			a.diags.Errorf(ctx.project, ctx.file, ctx.line,
				"internal error while analysing this script: %v (please report it; the other scripts were analysed)", r)
			n = max(n, 1)
			// Drop what the interrupted walk left behind.
			a.capture, a.pipeIn, a.stdin, a.outer = nil, nil, nil, nil
			a.calls, a.files, a.nesting = a.calls[:0], a.files[:0], 0
		}
	}()
	n = 1
	f, err := a.parse(src.Text, src.Pos.File)
	if err != nil && incomplete(err) {
		if jf, jctx, k := a.join(sources, i); jf != nil {
			f, ctx, n, err = jf, jctx, k, nil
		}
	}
	if err != nil {
		line := ctx.line
		if p, ok := errPos(err); ok {
			line = ctx.pos(p).Line
		}
		detail := "the commands of this script item were not analysed; check its quoting"
		if errors.As(err, new(errParseLimit)) {
			detail = "the commands of this script item were not analysed; split it, or move it into a script file"
		}
		a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Error, Pos: loc.Pos{Project: ctx.project, File: ctx.file, Line: line},
			Summary: "cannot parse the script as shell: " + errText(err),
			Detail:  detail})
		return n
	}
	if a.stmts(st, ctx, f.Stmts) == flowExit {
		a.halted = true
	}
	return n
}

func incomplete(err error) bool {
	var pe syntax.ParseError
	return errors.As(err, &pe) && pe.Incomplete
}

// join parses sources[i] together with the following items of the same
// file and section until the text is complete. It returns the file, a
// context mapping each line back to its item, and the items used; nil
// when no join parses.
func (a *analyzer) join(sources []Source, i int) (*syntax.File, *srcCtx, int) {
	first := &sources[i]
	var sb strings.Builder
	var lines []int
	for k := i; k < len(sources) && k-i < maxJoin; k++ {
		s := &sources[k]
		if s.Pos.File != first.Pos.File || s.Pos.Project != first.Pos.Project || s.Section != first.Section {
			return nil, nil, 0
		}
		step := s.LineStep
		if step < 0 || step > 1 {
			step = 1
		}
		text := strings.TrimSuffix(s.Text, "\n")
		for j := range strings.Count(text, "\n") + 1 {
			lines = append(lines, max(s.Pos.Line, 1)+j*step)
		}
		sb.WriteString(text)
		sb.WriteByte('\n')
		if k == i || sb.Len() > maxCacheEntry {
			continue
		}
		f, err := a.parse(sb.String(), first.Pos.File)
		if err == nil {
			ctx := &srcCtx{text: sb.String(), project: first.Pos.Project, file: first.Pos.File,
				line: lines[0], step: 1, section: first.Section, lines: lines}
			return f, ctx, k - i + 1
		}
		if !incomplete(err) {
			return nil, nil, 0
		}
	}
	return nil, nil, 0
}

// errPos returns the position of a parse error.
func errPos(err error) (syntax.Pos, bool) {
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return pe.Pos, true
	}
	var le syntax.LangError
	if errors.As(err, &le) {
		return le.Pos, true
	}
	return syntax.Pos{}, false
}

func errText(err error) string {
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return pe.Text
	}
	var le syntax.LangError
	if errors.As(err, &le) {
		return le.Feature + " is not supported"
	}
	return err.Error()
}

// step counts work and reports whether the analysis may go on.
func (a *analyzer) step(ctx *srcCtx, p syntax.Pos) bool {
	if a.halted {
		return false
	}
	a.steps++
	if a.steps > a.opts.MaxSteps {
		a.limit(ctx, p, fmt.Sprintf("the analysis stopped after %d steps: the scripts loop or recurse too much (limit %s; %s)", a.opts.MaxSteps, limits.ShellSteps, limits.Raise(limits.ShellSteps, int64(a.opts.MaxSteps))))
		return false
	}
	return true
}

// limit stops the analysis with a warning naming the place.
func (a *analyzer) limit(ctx *srcCtx, p syntax.Pos, msg string) {
	a.halted = true
	if !a.limitDiag {
		a.limitDiag = true
		a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: ctx.project, File: ctx.file, Line: ctx.pos(p).Line},
			Summary: msg, Detail: "commands after this point were not analysed"})
	}
}
