package shell

import (
	"path"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Scripts the job writes and then runs:
//
//	cat > deploy.sh <<'EOF'
//	curl --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/42/packages/generic/x/1/x.tgz" -o x.tgz
//	EOF
//	bash deploy.sh
//
// A file written by echo, printf, cat (a here-document, a here-string,
// piped known output, repository files) or tee, through > or >>, is
// remembered with its content; running it (bash f, sh f, ./f, source f,
// . f) analyses that content like a script file of the repository, with
// the job's variables at the point it runs. A write whose content cannot
// be computed forgets the file. The commands found keep the position of
// the command that wrote the file (the file is not in the repository).

// writtenFile is a file the job wrote, as far as the analysis knows.
type writtenFile struct {
	text string
	at   loc.Pos // the command that last wrote it
	sect string
	pf   *parsedFile    // parsed on first run; reset by a new write
	bad  bool           // could not be parsed
	alts []*writtenFile // other contents the write may have given (alts.go)
}

// maxWritten and maxWrittenSize bound the files remembered and the size
// of each (generated scripts are a few lines; 64 of 256 KiB stay small).
const (
	maxWritten     = 64
	maxWrittenSize = 256 << 10
)

// fileKey names a file the job writes or runs: a path in the repository
// (relative to the project directory) or an absolute path outside it.
func (a *analyzer) fileKey(st *shState, p string) (string, bool) {
	if p == "" || strings.ContainsAny(p, "$`") {
		return "", false
	}
	dir := a.projectDir(st.env)
	switch {
	case strings.HasPrefix(p, dir+"/"):
		p = p[len(dir)+1:]
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~"):
		return path.Clean(p), true
	case st.cwdOK:
		p = path.Join(st.cwd, p)
	default:
		return "", false
	}
	p = path.Clean(p)
	if p == "." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// recordWrite remembers what c writes to files (see above).
func (a *analyzer) recordWrite(st *shState, c *Command) {
	var targets []Word
	appendTo := false
	for _, r := range c.Redirects {
		switch r.Op {
		case ">", ">|", "&>":
			if r.N == "" || r.N == "1" || r.Op == "&>" {
				targets, appendTo = []Word{r.Target}, false
			}
		case ">>", "&>>":
			if r.N == "" || r.N == "1" || r.Op == "&>>" {
				targets, appendTo = []Word{r.Target}, true
			}
		}
	}
	name := c.Name()
	if name == "tee" {
		for _, w := range c.Args[1:] {
			switch {
			case w.Value == "-a" || w.Value == "--append":
				appendTo = true
			case strings.HasPrefix(w.Value, "-"):
			default:
				targets = append(targets, w)
			}
		}
	}
	if len(targets) == 0 {
		return
	}
	text, ok := "", false
	switch name {
	case "echo", "printf", "cat":
		cp := &capture{}
		cc := *c
		cc.Redirects = nil
		for _, r := range c.Redirects {
			if r.Op == "<<<" || r.Heredoc != nil || r.Op == "<" {
				cc.Redirects = append(cc.Redirects, r)
			}
		}
		saved, savedIn := a.capture, a.pipeIn
		a.capture = cp
		a.captureOutput(st, &cc)
		a.capture, a.pipeIn = saved, savedIn
		text, ok = cp.out.String(), !cp.bad && !strings.Contains(cp.out.String(), "\x00")
	case "tee":
		in := a.pipeIn
		for _, r := range c.Redirects {
			switch {
			case r.Heredoc != nil && r.N == "":
				in = &capture{}
				in.write(*r.Heredoc)
			case r.Op == "<<<" && r.N == "":
				in = &capture{}
				in.write(r.Target)
				in.out.WriteByte('\n')
			}
		}
		if in != nil && !in.bad {
			text, ok = in.out.String(), true
		}
	}
	for _, t := range targets {
		if !t.Known() {
			continue
		}
		key, kok := a.fileKey(st, t.Value)
		if !kok || key == "/dev/null" || strings.HasPrefix(key, "/dev/") {
			continue
		}
		if !ok {
			delete(a.written, key)
			continue
		}
		full := text
		if old, had := a.written[key]; had && appendTo {
			full = old.text + text
		} else if appendTo && a.opts.ReadFile != nil {
			if rel, rok := a.repoPath(st, t.Value); rok {
				if data, err := a.opts.ReadFile(rel); err == nil {
					full = string(data) + text // appending to a repository file
				}
			}
		}
		if len(full) > maxWrittenSize {
			delete(a.written, key)
			continue
		}
		if a.written == nil {
			a.written = map[string]*writtenFile{}
		}
		if _, had := a.written[key]; !had && len(a.written) >= maxWritten {
			continue
		}
		if old := a.written[key]; old != nil && a.inWorld {
			// The same write with an alternative value: the file may
			// hold either text, and running it runs each.
			if full != old.text && len(old.alts) < maxAlts && !slices.ContainsFunc(old.alts, func(w *writtenFile) bool { return w.text == full }) {
				old.alts = append(old.alts, &writtenFile{text: full, at: c.Pos, sect: key})
			}
			continue
		}
		a.written[key] = &writtenFile{text: full, at: c.Pos, sect: key}
	}
}

// parseWritten parses a written file once per write; nil when it cannot
// be analysed (reported once).
func (a *analyzer) parseWritten(c *Command, key string, wf *writtenFile, shell bool) *parsedFile {
	if wf.pf != nil {
		return wf.pf
	}
	if wf.bad || !shell && !isShellScript(key, []byte(wf.text)) {
		return nil
	}
	// "$(...)" marks output the analysis could not compute at write
	// time; parsed again it would run a command named "...". $(false)
	// is a substitution whose output is equally unknown.
	text := strings.ReplaceAll(wf.text, cmdSubstUnknown, "$(false)")
	f, err := a.parse(text, key)
	if err != nil {
		wf.bad = true
		a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Warning, Pos: wf.at,
			Summary: "cannot parse the script " + key + " written by the job as shell: " + errText(err),
			Detail:  "its commands were not analysed when " + c.Name() + " runs it"})
		return nil
	}
	wf.pf = &parsedFile{file: f, text: text}
	return wf.pf
}
