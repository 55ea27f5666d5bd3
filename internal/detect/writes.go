package detect

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// What commands print and which files they write: credential and
// configuration files (.netrc, .npmrc, pip.conf, settings.xml, Docker
// config.json) are mostly written by echo, printf, cat with a
// here-document, tee or cp.

// output is the text a command prints, as far as the script shows it.
type output struct {
	value string // expanded
	raw   string // as written
	// substituted reports a command substitution that ran ("$(...)" in an
	// unquoted context): its result is computed at run time.
	substituted bool
	// from is the repository file the text was read from ("" when the
	// command itself produced it).
	from string
}

// hasSubst reports whether any word holds a command substitution.
func hasSubst(ws ...shell.Word) bool {
	for _, w := range ws {
		for _, u := range w.Unknown {
			if strings.HasPrefix(u, "$(") || strings.HasPrefix(u, "`") {
				return true
			}
		}
	}
	return false
}

// commandOutput returns what c prints when that is knowable from the
// text: echo, printf, cat (of files, a here-document or a pipe), tee and
// envsubst. prev are files the job wrote before c (latest last), which
// cat reads instead of the repository's.
func (in *Input) commandOutput(c *shell.Command, prev []fileWrite) (output, bool) {
	if c == nil || len(c.Args) == 0 {
		return output{}, false
	}
	ws := argv(c)
	switch nameOf(c, ws) {
	case "echo":
		return echoOutput(ws[1:]), true
	case "printf":
		return printfOutput(ws[1:])
	case "cat":
		return in.catOutput(c, ws[1:], prev)
	case "tee":
		return in.stdin(c, prev)
	case "envsubst":
		o, ok := in.stdin(c, prev)
		if ok {
			o.value = shell.ExpandVars(o.value, in.envOf(c)).Value
		}
		return o, ok
	}
	return output{}, false
}

// catOutput is what "cat FILE..." prints: unknown unless every file can
// be read.
func (in *Input) catOutput(c *shell.Command, args []shell.Word, prev []fileWrite) (output, bool) {
	var files []string
	for _, w := range args {
		if w.Value == "-" || !strings.HasPrefix(w.Value, "-") {
			files = append(files, w.Value)
		}
	}
	if len(files) == 0 || len(files) == 1 && files[0] == "-" {
		return in.stdin(c, prev)
	}
	var b strings.Builder
	var o output
	for _, f := range files {
		s, from, ok := in.readSource(prev, f)
		if !ok {
			return output{}, false
		}
		b.WriteString(s)
		o.from = from
	}
	o.value = b.String()
	o.raw = o.value
	return o, true
}

// stdin is what c reads on standard input: a here-document, a
// here-string, a file (<) or the output of the command piped into it.
func (in *Input) stdin(c *shell.Command, prev []fileWrite) (output, bool) {
	for _, r := range c.Redirects {
		switch {
		case r.Heredoc != nil:
			return output{value: r.Heredoc.Value, raw: r.Heredoc.Raw, substituted: hasSubst(*r.Heredoc)}, true
		case r.Op == "<<<":
			return output{value: r.Target.Value + "\n", raw: r.Target.Raw, substituted: hasSubst(r.Target)}, true
		case r.Op == "<":
			s, from, ok := in.readSource(prev, r.Target.Value)
			return output{value: s, raw: s, from: from}, ok
		}
	}
	if c.Stdin != nil {
		return in.commandOutput(c.Stdin, prev)
	}
	return output{}, false
}

// echoOutput is what echo prints. Escapes are interpreted unless -E is
// given, as dash's and busybox's echo do (and bash's with -e), because
// those shells are common in CI images; a literal "\n" never matters to
// the configuration formats read here.
func echoOutput(args []shell.Word) output {
	interpret, newline := true, true
	for len(args) > 0 && isEchoFlag(args[0].Value) {
		for _, r := range args[0].Value[1:] {
			switch r {
			case 'n':
				newline = false
			case 'e':
				interpret = true
			case 'E':
				interpret = false
			}
		}
		args = args[1:]
	}
	vs := make([]string, len(args))
	rs := make([]string, len(args))
	for i, a := range args {
		vs[i], rs[i] = a.Value, a.Raw
	}
	v := strings.Join(vs, " ")
	if interpret {
		v = unescape(v)
	}
	if newline {
		v += "\n"
	}
	return output{value: v, raw: strings.Join(rs, " "), substituted: hasSubst(args...)}
}

func isEchoFlag(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, r := range s[1:] {
		if r != 'e' && r != 'n' && r != 'E' {
			return false
		}
	}
	return true
}

// printfOutput is what "printf FORMAT ARGS" prints; unknown without a
// format.
func printfOutput(args []shell.Word) (output, bool) {
	if len(args) > 0 && args[0].Value == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return output{}, false
	}
	rs := make([]string, len(args))
	for i, a := range args {
		rs[i] = a.Raw
	}
	return output{value: printf(args[0].Value, words(args[1:])), raw: strings.Join(rs, " "), substituted: hasSubst(args...)}, true
}

// maxPrintfRounds bounds how often printf reuses its format, so that a
// hostile argument list cannot multiply a large format without bound.
const maxPrintfRounds = 64

// printf formats like the shell's printf: every conversion (%s, %b, %d,
// ...) takes the next argument as text, and the format is reused while
// arguments remain.
func printf(format string, args []string) string {
	var b strings.Builder
	for round := 0; round < maxPrintfRounds; round++ {
		used := 0
		for i := 0; i < len(format); i++ {
			ch := format[i]
			if ch != '%' || i+1 >= len(format) {
				b.WriteByte(ch)
				continue
			}
			i++
			// Skip flags and width ("%-10s").
			for i < len(format) && strings.IndexByte("-+ #0123456789.", format[i]) >= 0 {
				i++
			}
			if i >= len(format) {
				break
			}
			if format[i] == '%' {
				b.WriteByte('%')
				continue
			}
			if used < len(args) {
				b.WriteString(args[used])
			}
			used++
		}
		if used == 0 || used >= len(args) {
			break
		}
		args = args[used:]
	}
	return unescape(b.String())
}

var unescaper = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\"`, `"`, `\r`, "")

// unescape interprets the backslash escapes of echo -e and printf.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return unescaper.Replace(s)
}

// fileWrite is a file a command writes (or copies into place).
type fileWrite struct {
	path string // destination as expanded
	// out is what ends up in the file (for appends: the appended part);
	// out.from names the repository file copied or read into it.
	out    output
	known  bool // out is known; an unknown write still replaces the file
	append bool
	cmd    *shell.Command
}

// cpSpec covers cp, install, mv and ln.
var cpSpec = optSpec{value: opts("mgotS", "mode", "owner", "group", "target-directory", "suffix")}

// commandWrites returns the files c writes whose destination matches
// (nil: all): its output redirected to a file, tee's files, and cp,
// install, mv or ln of a file. prev are the job's earlier writes (latest
// last), read by cat and cp instead of the repository's files.
func (in *Input) commandWrites(c *shell.Command, match func(dest string) bool, prev []fileWrite) []fileWrite {
	if c == nil || len(c.Args) == 0 {
		return nil
	}
	if match == nil {
		match = func(string) bool { return true }
	}
	ws := argv(c)
	name := nameOf(c, ws)
	var out []fileWrite
	switch name {
	case "cp", "install", "mv", "ln":
		p := cpSpec.parse(ws[1:])
		if len(p.pos) == 2 {
			dst := p.pos[1].Value
			if strings.HasSuffix(dst, "/") || dst == "." || dst == "~" {
				dst = strings.TrimSuffix(dst, "/") + "/" + path.Base(p.pos[0].Value)
			}
			if match(dst) {
				s, from, ok := in.readSource(prev, p.pos[0].Value)
				out = append(out, fileWrite{path: dst, out: output{value: s, raw: s, from: from}, known: ok, cmd: c})
			}
		}
	case "tee":
		p := optSpec{}.parse(ws[1:])
		var o output
		known, done := false, false
		for _, f := range p.pos {
			if !match(f.Value) {
				continue
			}
			if !done {
				o, known = in.stdin(c, prev)
				done = true
			}
			out = append(out, fileWrite{path: f.Value, out: o, known: known, append: p.has("-a", "--append"), cmd: c})
		}
	}
	var o output
	known, done := false, false
	for _, r := range c.Redirects {
		switch r.Op {
		case ">", ">>", ">|", "&>", "&>>":
		default:
			continue
		}
		if !match(r.Target.Value) {
			continue
		}
		if !done {
			o, known = in.commandOutput(c, prev)
			done = true
		}
		out = append(out, fileWrite{path: r.Target.Value, out: o, known: known, append: strings.HasSuffix(r.Op, ">>"), cmd: c})
	}
	return out
}

// maxStateFile bounds the content kept for one credential file (real ones
// are a few hundred bytes): a script appending in a loop must not grow
// memory, or the work of re-reading the file after each write, without
// bound.
const maxStateFile = 16 << 10

// applyWrite returns a file's content after write w: ">" replaces it,
// ">>" appends, and a write of unknown content leaves only what was
// known before it (an unknown overwrite empties the file).
func applyWrite(old string, w fileWrite) string {
	content := ""
	if w.append {
		content = old
	}
	if w.known {
		content += w.out.value
	}
	if len(content) > maxStateFile {
		content = content[:maxStateFile]
	}
	return content
}

// writes returns the files the job writes whose destination matches, in
// run order; see commandWrites.
func (in *Input) writes(match func(dest string) bool) []fileWrite {
	var out []fileWrite
	for _, c := range in.Commands {
		out = append(out, in.commandWrites(c, match, out)...)
	}
	return out
}

// readSource reads a file a command copies or prints: one written earlier
// by the job, else the repository file. from names the repository file;
// ok is false when neither is known.
func (in *Input) readSource(prev []fileWrite, name string) (content, from string, ok bool) {
	for i := len(prev) - 1; i >= 0; i-- {
		if samePath(prev[i].path, name) {
			return prev[i].out.value, prev[i].out.from, prev[i].known
		}
	}
	rel, ok := in.repoPath(name)
	if !ok {
		return "", "", false
	}
	s, ok := in.readRepo(rel)
	if !ok {
		return "", "", false
	}
	return s, rel, true
}

// writesFiles reports whether c writes files by its arguments alone
// (without redirections).
func writesFiles(c *shell.Command) bool {
	switch cmdName(c) {
	case "tee", "cp", "install", "mv", "ln":
		return true
	}
	return false
}

// removedFiles returns the files "rm" or "unlink" deletes.
func removedFiles(c *shell.Command) []string {
	ws := argv(c)
	switch nameOf(c, ws) {
	case "rm", "unlink":
	default:
		return nil
	}
	var out []string
	for _, a := range ws[1:] {
		if !strings.HasPrefix(a.Value, "-") {
			out = append(out, a.Value)
		}
	}
	return out
}
