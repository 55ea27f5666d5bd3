package shell

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// runFile analyses a script file of the repository that c runs:
// sourced (inShell: same shell, shared variables) or run as a child
// process (exported variables only, its own parameters). explicit says
// the file is certainly a shell script (bash f, source f) whatever its
// name or #! line.
func (a *analyzer) runFile(st *shState, ctx *srcCtx, c *Command, p Word, args []Word, inShell, explicit bool) flow {
	if !p.Known() || p.Value == "" {
		return flowNext
	}
	// A script the job wrote itself (written.go) comes first: it
	// replaces any repository file of that name.
	var wf *writtenFile
	rel, ok := a.fileKey(st, p.Value)
	if ok {
		wf = a.written[rel]
	}
	if wf != nil && len(wf.alts) > 0 {
		// Each other content the file may hold runs too, in a copy of
		// the shell; the primary one runs last, in this shell.
		for _, alt := range wf.alts {
			a.written[rel] = alt
			a.runFile(st.subshell(), ctx, c, p, args, inShell, explicit)
			if a.halted {
				a.written[rel] = wf
				return flowExit
			}
		}
		a.written[rel] = wf
	}
	if wf == nil {
		if a.opts.ReadFile == nil {
			return flowNext
		}
		if rel, ok = a.repoPath(st, p.Value); !ok {
			return flowNext
		}
	}
	if slices.Contains(a.files, rel) {
		a.diags.Warnf(c.Pos.Project, c.Pos.File, c.Pos.Line,
			"script %s runs itself again (through %s): not followed a second time", rel, strings.Join(a.files, " -> "))
		return flowNext
	}
	if len(a.files) >= a.opts.MaxFileDepth {
		a.diags.Warnf(c.Pos.Project, c.Pos.File, c.Pos.Line,
			"script %s not analysed: scripts running scripts nest deeper than %d", rel, a.opts.MaxFileDepth)
		return flowNext
	}
	var pf *parsedFile
	var fctx *srcCtx
	if wf != nil {
		if pf = a.parseWritten(c, rel, wf, explicit || inShell); pf == nil {
			return flowNext
		}
		fctx = &srcCtx{text: pf.text, project: wf.at.Project, file: wf.at.File, line: wf.at.Line, step: 0, section: rel}
	} else {
		if pf = a.parseFile(c, rel, explicit || inShell); pf == nil {
			return flowNext
		}
		fctx = &srcCtx{text: pf.text, project: a.project, file: rel, line: 1, step: 1, section: rel}
	}
	a.files = append(a.files, rel)
	defer func() { a.files = a.files[:len(a.files)-1] }()
	if inShell {
		savedParams, savedSource, savedArg := st.params, st.source, st.sourceArg
		if len(args) > 0 {
			st.params = args
		}
		st.source, st.sourceArg = rel, p.Value
		f := a.stmts(st, fctx, pf.file.Stmts)
		st.params, st.source, st.sourceArg = savedParams, savedSource, savedArg
		if f == flowExit {
			return flowExit
		}
		return flowNext
	}
	child := st.childShell()
	child.params = args
	child.arg0 = p.Value
	child.source, child.sourceArg = rel, p.Value
	a.stmts(child, fctx, pf.file.Stmts)
	if a.halted {
		return flowExit
	}
	return flowNext
}

// repoPath turns a path the job uses into a path in the repository:
// relative to the working directory, or under CI_PROJECT_DIR.
func (a *analyzer) repoPath(st *shState, p string) (string, bool) {
	dir := a.projectDir(st.env)
	switch {
	case strings.HasPrefix(p, dir+"/"):
		p = p[len(dir)+1:]
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~"):
		return "", false // outside the repository (/etc/profile, ~/.bashrc)
	case st.cwdOK:
		p = path.Join(st.cwd, p)
	}
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	return p, true
}

// parseFile reads and parses a script once per Analyze; nil when it
// cannot be analysed (the reason is reported when it matters).
func (a *analyzer) parseFile(c *Command, rel string, shell bool) *parsedFile {
	if pf, ok := a.parsed[rel]; ok {
		return pf
	}
	if a.parsed == nil {
		a.parsed = map[string]*parsedFile{}
	}
	a.parsed[rel] = nil
	data, err := a.opts.ReadFile(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Files without a shell extension that the job sources or runs
		// (venv/bin/activate, .env) are usually created by the job.
		if isShellName(rel) {
			a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Warning, Pos: c.Pos,
				Summary: "script " + rel + " run by the job is not in the repository",
				Detail:  "its commands were not analysed; it may be created by the job or the path may be wrong"})
		}
		return nil
	case err != nil:
		a.diags.Warnf(c.Pos.Project, c.Pos.File, c.Pos.Line, "cannot read script %s: %v", rel, err)
		return nil
	case len(data) > a.opts.MaxScriptSize:
		a.diags.Warnf(a.project, rel, 0, "script is larger than %d bytes: not analysed (limit %s; %s)", a.opts.MaxScriptSize, limits.ScriptSize, limits.Raise(limits.ScriptSize, int64(len(data))))
		return nil
	case !shell && !isShellScript(rel, data):
		return nil // ./build.py, ./gradlew written in another language
	}
	if pf := a.opts.Cache.parsedFile(rel, data); pf != nil {
		a.parsed[rel] = pf
		return pf
	}
	text := string(data)
	f, err := a.parse(text, rel)
	if err != nil {
		line := 0
		if p, ok := errPos(err); ok {
			line = int(p.Line())
		}
		a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Error, Pos: loc.Pos{Project: a.project, File: rel, Line: line},
			Summary: "cannot parse the script as shell: " + errText(err),
			Detail:  "its commands were not analysed"})
		return nil
	}
	pf := &parsedFile{file: f, text: text}
	a.parsed[rel] = pf
	a.opts.Cache.keepFile(rel, data, pf)
	return pf
}

func isShellName(name string) bool {
	switch path.Ext(name) {
	case ".sh", ".bash", ".ksh", ".zsh":
		return true
	}
	return false
}

// isShellScript decides from the #! line, or else from the extension,
// whether a file run as ./name is a shell script.
func isShellScript(name string, data []byte) bool {
	if bytes.HasPrefix(data, []byte("#!")) {
		line, _, _ := bytes.Cut(data[2:], []byte("\n"))
		fields := strings.Fields(string(line))
		for i := 0; i < len(fields); i++ {
			b := path.Base(fields[i])
			if b == "env" {
				for i+1 < len(fields) && strings.HasPrefix(fields[i+1], "-") {
					i++
				}
				continue
			}
			return shellNames[b]
		}
		return false
	}
	switch path.Ext(name) {
	case "", ".sh", ".bash", ".ksh", ".zsh", ".env":
		return true
	}
	return false
}

// evalString analyses a string the job runs as shell code (eval, bash
// -c), in st (the caller passes a child shell for bash -c). A string holding an unknown command substitution is not
// analysed: its text is not the code that runs.
func (a *analyzer) evalString(st *shState, ctx *srcCtx, c *Command, w Word) flow {
	if slices.Contains(w.Unknown, cmdSubstUnknown) || strings.TrimSpace(w.Value) == "" {
		return flowNext
	}
	if len(a.calls)+len(a.files) >= maxCallDepth {
		return flowNext
	}
	f, err := a.parse(w.Value, ctx.file)
	if err != nil {
		a.diags.Warnf(c.Pos.Project, c.Pos.File, c.Pos.Line, "cannot parse the string run by %s: %s", c.Name(), errText(err))
		return flowNext
	}
	step := 0
	if strings.Count(w.Raw, "\n") == strings.Count(w.Value, "\n") {
		step = 1
	}
	ectx := &srcCtx{text: w.Value, project: c.Pos.Project, file: c.Pos.File, line: c.Pos.Line, step: step, section: c.Section}
	// The evaluated code is as deep as the command running it.
	a.files = append(a.files, "")
	defer func() { a.files = a.files[:len(a.files)-1] }()
	return a.stmts(st, ectx, f.Stmts)
}
