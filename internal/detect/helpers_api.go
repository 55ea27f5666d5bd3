package detect

import (
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Helpers shared by the API and package-manager detectors: option parsing,
// launcher unwrapping, files written by a job, variable origins.

// useFor builds a use at the place a setting was made.
func (in *Input) useFor(s setting, k access.Kind, t use.Target, detail string) use.Use {
	if s.Cmd != nil {
		return in.UseAt(s.Cmd, k, t, detail)
	}
	return in.UseAtPos(s.Var.Pos, k, t, detail)
}

// noteFor builds a note at the place a setting was made.
func (in *Input) noteFor(s setting, k use.NoteKind, detail string) use.Note {
	if s.Cmd != nil {
		return in.NoteAt(s.Cmd, k, detail)
	}
	return in.NoteAtPos(s.Var.Pos, k, detail)
}

// cpSpec covers cp, install, mv and ln.
var cpSpec = optSpec{value: opts("mgotS", "mode", "owner", "group", "target-directory", "suffix")}

// writtenFile is a file that a job writes (or copies into place).
type writtenFile struct {
	Path    string // destination as expanded
	Content string // what ends up in the file (for appends: the appended part)
	Append  bool
	Cmd     *shell.Command
	// From is the repository file copied into place ("" when the content
	// comes from the command itself).
	From string
}

// writes returns the files the job writes whose destination matches, in
// run order: echo/printf redirected, cat/tee with a here-document or
// here-string, "tee file" fed by a pipe, cp/install/mv of a repository
// file, and "envsubst < template > file".
func (in *Input) writes(match func(dest string) bool) []writtenFile {
	var out []writtenFile
	for _, c := range in.Commands {
		ws := argv(c)
		name := cmdBase(ws[0].Value)
		switch name {
		case "cp", "install", "mv", "ln":
			p := cpSpec.parse(ws[1:])
			if len(p.pos) != 2 {
				continue
			}
			dst := p.pos[1].Value
			if strings.HasSuffix(dst, "/") || dst == "." || dst == "~" {
				dst = strings.TrimSuffix(dst, "/") + "/" + path.Base(p.pos[0].Value)
			}
			if !match(dst) {
				continue
			}
			src := p.pos[0].Value
			content, from := in.readSource(out, src)
			out = append(out, writtenFile{Path: dst, Content: content, Cmd: c, From: from})
			continue
		case "tee":
			p := optSpec{}.parse(ws[1:])
			content, ok := stdinContent(in, c)
			if !ok {
				continue
			}
			for _, f := range p.pos {
				if match(f.Value) {
					out = append(out, writtenFile{Path: f.Value, Content: content, Append: p.has("-a", "--append"), Cmd: c})
				}
			}
			continue
		}
		for _, r := range c.Redirects {
			if (r.Op != ">" && r.Op != ">>" && r.Op != ">|" && r.Op != "&>" && r.Op != "&>>") || !match(r.Target.Value) {
				continue
			}
			content, from, ok := in.commandOutput(out, c, ws)
			if !ok {
				continue
			}
			out = append(out, writtenFile{Path: r.Target.Value, Content: content, Append: strings.HasSuffix(r.Op, ">>"), Cmd: c, From: from})
		}
	}
	return out
}

// commandOutput is what a command prints, as far as it can be known.
func (in *Input) commandOutput(prev []writtenFile, c *shell.Command, ws []shell.Word) (content, from string, ok bool) {
	switch cmdBase(ws[0].Value) {
	case "echo":
		return echoText(ws[1:]), "", true
	case "printf":
		return printfText(ws[1:]), "", true
	case "cat":
		if len(ws) > 1 {
			var b strings.Builder
			for _, w := range ws[1:] {
				if strings.HasPrefix(w.Value, "-") {
					continue
				}
				s, f := in.readSource(prev, w.Value)
				b.WriteString(s)
				from = f
			}
			return b.String(), from, true
		}
		s, ok := stdinContent(in, c)
		return s, "", ok
	case "envsubst":
		for _, r := range c.Redirects {
			if r.Op == "<" {
				s, f := in.readSource(prev, r.Target.Value)
				return shell.ExpandVars(s, in.envOf(c)).Value, f, true
			}
		}
		if s, ok := stdinContent(in, c); ok {
			return shell.ExpandVars(s, in.envOf(c)).Value, "", true
		}
	}
	return "", "", false
}

// stdinContent is the text fed to c: a here-document, a here-string, a
// redirect from a repository file or the output of echo/printf/cat piped
// into it.
func stdinContent(in *Input, c *shell.Command) (string, bool) {
	for _, r := range c.Redirects {
		switch {
		case r.Heredoc != nil:
			return r.Heredoc.Value, true
		case r.Op == "<<<":
			return r.Target.Value + "\n", true
		case r.Op == "<":
			s, _ := in.readSource(nil, r.Target.Value)
			return s, true
		}
	}
	if c.Stdin != nil {
		s, _, ok := in.commandOutput(nil, c.Stdin, argv(c.Stdin))
		return s, ok
	}
	return "", false
}

// readSource reads a file a command copies: one written earlier by the
// job, else the repository file. from names the repository file.
func (in *Input) readSource(prev []writtenFile, name string) (content, from string) {
	for i := len(prev) - 1; i >= 0; i-- {
		if samePath(prev[i].Path, name) {
			return prev[i].Content, prev[i].From
		}
	}
	rel, ok := in.repoPath(name)
	if !ok {
		return "", ""
	}
	s, ok := in.readRepo(rel)
	if !ok {
		return "", ""
	}
	return s, rel
}

// echoText is what echo prints. Escapes are interpreted as dash's echo
// and "echo -e" do, because both shells occur in CI images; a literal
// "\n" never matters to the configuration formats read here.
func echoText(args []shell.Word) string {
	var parts []string
	noNewline := false
	for _, a := range args {
		if len(parts) == 0 && echoFlagRE.MatchString(a.Value) {
			noNewline = noNewline || strings.Contains(a.Value, "n")
			continue
		}
		parts = append(parts, a.Value)
	}
	s := unescape(strings.Join(parts, " "))
	if !noNewline {
		s += "\n"
	}
	return s
}

// printfText renders printf FORMAT ARGS with %s (and %b, %d) verbs.
func printfText(args []shell.Word) string {
	if len(args) == 0 {
		return ""
	}
	format := args[0].Value
	rest := args[1:]
	var b strings.Builder
	for {
		used := 0
		for i := 0; i < len(format); i++ {
			ch := format[i]
			if ch != '%' || i+1 >= len(format) {
				b.WriteByte(ch)
				continue
			}
			i++
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
			if used < len(rest) {
				b.WriteString(rest[used].Value)
			}
			used++
		}
		// printf reuses the format while arguments remain.
		if used == 0 || used >= len(rest) {
			break
		}
		rest = rest[used:]
	}
	return unescape(b.String())
}

var echoFlagRE = regexp.MustCompile(`^-[neE]+$`)

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\"`, `"`).Replace(s)
}

// isJobTokenRef reports whether text references one of the predefined
// job-token variables directly ($CI_JOB_TOKEN, ${CI_REGISTRY_PASSWORD}).
func isJobTokenRef(s string) bool {
	for _, v := range inventory.JobTokenVariables {
		if strings.Contains(s, "$"+v) || strings.Contains(s, "${"+v+"}") || strings.Contains(s, "%"+v+"%") {
			return true
		}
	}
	return false
}

// netrcEntry is one "machine" entry of a .netrc the job writes.
type netrcEntry struct {
	Login, Password string
	Write           writtenFile
}

// netrc returns the .netrc entries the job writes before command c (all
// when c is nil), by host.
func (in *Input) netrc(c *shell.Command) map[string]netrcEntry {
	out := map[string]netrcEntry{}
	before := map[*shell.Command]bool{}
	for _, x := range in.Commands {
		if x == c {
			break
		}
		before[x] = true
	}
	for _, w := range in.writes(func(d string) bool { b := path.Base(d); return b == ".netrc" || b == "_netrc" }) {
		if c != nil && !before[w.Cmd] {
			break
		}
		if !w.Append {
			// ">" replaces the file.
			out = map[string]netrcEntry{}
		}
		f := strings.Fields(w.Content)
		var host string
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "machine":
				host = strings.ToLower(f[i+1])
				out[host] = netrcEntry{Write: w}
			case "login", "password":
				if host == "" {
					continue
				}
				e := out[host]
				if f[i] == "login" {
					e.Login = f[i+1]
				} else {
					e.Password = f[i+1]
				}
				out[host] = e
			}
		}
	}
	return out
}

// credential is how a request authenticates.
type credential struct {
	User, Secret string
	Where        string // "URL user info", ".netrc", "UV_INDEX_X_PASSWORD", ...
}

// jobToken reports whether the credential is the job token with the user
// name GitLab requires (gitlab-ci-token) for basic auth.
func (cr credential) jobToken() bool { return HasJobToken(cr.Secret) }

// basicAuthVerdict classifies a basic-auth credential sent to GitLab:
// the job token with user gitlab-ci-token is a use; the job token with any
// other user is rejected, because GitLab looks a job token up only when the
// login is gitlab-ci-token and otherwise treats the password as a personal
// access token (lib/gitlab/auth/auth_finders.rb,
// find_user_from_job_token_basic_auth).
func basicAuthVerdict(cr credential) (isUse bool, wontWork string) {
	if !cr.jobToken() {
		return false, ""
	}
	if cr.User != inventory.JobTokenUser && !HasJobToken(cr.User) {
		u := cr.User
		if u == "" {
			u = "(none)"
		}
		return false, "the job token is sent with user name " + u + "; GitLab accepts it over basic auth only with user gitlab-ci-token"
	}
	return true, ""
}
