package detect

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Helpers shared by the API and package-manager detectors: option parsing,
// launcher unwrapping, files written by a job, variable origins.

// envOf is the environment a command runs with.
func (in *Input) envOf(c *shell.Command) shell.Env {
	if c != nil && c.Env != nil {
		return c.Env
	}
	if in.Env != nil {
		return in.Env
	}
	return shell.MapEnv{}
}

// getenv returns a variable as the command sees it.
func (in *Input) getenv(c *shell.Command, name string) (string, bool) {
	return in.envOf(c).Get(name)
}

// yamlVar returns the YAML variable name in effect for the job (the
// variant's value wins), with its position.
func (in *Input) yamlVar(name string) (ciconfig.Variable, bool) {
	if in.Job == nil {
		return ciconfig.Variable{}, false
	}
	if in.Variant != "" {
		for _, vr := range in.Job.Variants {
			if vr.Name != in.Variant {
				continue
			}
			for _, v := range vr.Variables {
				if v.Name == name {
					return v, true
				}
			}
		}
	}
	for _, v := range in.Job.Variables {
		if v.Name == name {
			return v, true
		}
	}
	return ciconfig.Variable{}, false
}

// setting is where a variable a tool reads got its value: a YAML variable,
// an export (or prefix assignment) in the script.
type setting struct {
	Name  string
	Value string // expanded
	Cmd   *shell.Command
	Var   *ciconfig.Variable
}

// origin finds where the variable name seen by command c (nil: the job's
// start) was set: a prefix assignment of c, the last export before c, or a
// YAML variable. ok is false for predefined or unset variables.
func (in *Input) origin(c *shell.Command, name string) (setting, bool) {
	val, set := in.getenv(c, name)
	if !set {
		return setting{}, false
	}
	if c != nil {
		if w, ok := c.Assigns[name]; ok {
			return setting{Name: name, Value: w.Value, Cmd: c}, true
		}
		var found *shell.Command
		for _, x := range in.Commands {
			if x == c {
				break
			}
			if exportsVar(x, name) {
				found = x
			}
		}
		if found != nil {
			return setting{Name: name, Value: val, Cmd: found}, true
		}
	}
	if v, ok := in.yamlVar(name); ok {
		return setting{Name: name, Value: val, Var: &v}, true
	}
	return setting{}, false
}

// exportsVar reports whether c is "export NAME=..." (or declare, typeset,
// readonly with an assignment).
func exportsVar(c *shell.Command, name string) bool {
	if len(c.Args) == 0 {
		return false
	}
	n := cmdBase(c.Args[0].Value)
	if n != "export" && n != "declare" && n != "typeset" && n != "readonly" {
		return false
	}
	for _, a := range c.Args[1:] {
		if k, _, ok := strings.Cut(a.Value, "="); ok && k == name {
			return true
		}
	}
	return false
}

// settings returns every place the job sets a variable whose name matches:
// YAML variables first (in name order), then exports and prefix
// assignments in run order. Values are expanded.
func (in *Input) settings(match func(name string) bool) []setting {
	var out []setting
	if in.Job != nil {
		seen := map[string]bool{}
		add := func(vs []ciconfig.Variable) {
			for i := range vs {
				v := vs[i]
				if !match(v.Name) || seen[v.Name] {
					continue
				}
				seen[v.Name] = true
				val := v.Value
				if in.Env != nil {
					if x, ok := in.Env.Get(v.Name); ok {
						val = x
					}
				}
				out = append(out, setting{Name: v.Name, Value: val, Var: &v})
			}
		}
		if in.Variant != "" {
			for _, vr := range in.Job.Variants {
				if vr.Name == in.Variant {
					add(vr.Variables)
				}
			}
		}
		add(in.Job.Variables)
	}
	for _, c := range in.Commands {
		ws := argv(c)
		if n := cmdBase(ws[0].Value); n == "export" || n == "declare" || n == "typeset" {
			for _, a := range ws[1:] {
				if k, v, ok := strings.Cut(a.Value, "="); ok && match(k) {
					out = append(out, setting{Name: k, Value: v, Cmd: c})
				}
			}
		}
		keys := make([]string, 0, len(c.Assigns))
		for k := range c.Assigns {
			if match(k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, setting{Name: k, Value: c.Assigns[k].Value, Cmd: c})
		}
	}
	return out
}

// buildArgs returns the --build-arg NAME=VALUE settings of image builds
// (docker/podman build, buildx, buildah, kaniko) whose name matches: a
// value forwarded into a Dockerfile is used there (P17, P39).
func (in *Input) buildArgs(match func(name string) bool) []setting {
	var out []setting
	for _, c := range in.Commands {
		ws := argv(c)
		switch cmdBase(ws[0].Value) {
		case "docker", "podman", "buildah", "executor", "nerdctl", "img":
		default:
			continue
		}
		for i := 1; i < len(ws); i++ {
			v := ws[i].Value
			var kv string
			switch {
			case v == "--build-arg" && i+1 < len(ws):
				i++
				kv = ws[i].Value
			case strings.HasPrefix(v, "--build-arg="):
				kv = strings.TrimPrefix(v, "--build-arg=")
			default:
				continue
			}
			if k, val, ok := strings.Cut(kv, "="); ok && match(k) {
				out = append(out, setting{Name: k, Value: val, Cmd: c})
			}
		}
	}
	return out
}

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
	if !ok || in.Files == nil || in.Caller == nil {
		return "", ""
	}
	data, err := in.Files.ReadFile(in.Caller.Path, rel)
	if err != nil {
		return "", ""
	}
	return string(data), rel
}

func samePath(a, b string) bool {
	return path.Clean(strings.TrimPrefix(a, "./")) == path.Clean(strings.TrimPrefix(b, "./"))
}

// repoPath turns a path as a job names it into a path inside the caller's
// repository: relative paths and paths under $CI_PROJECT_DIR. ok is false
// for other absolute paths, home paths and unexpanded references.
func (in *Input) repoPath(p string) (string, bool) {
	if p == "" || strings.Contains(p, "$") || strings.HasPrefix(p, "~") {
		return "", false
	}
	if strings.HasPrefix(p, "/") {
		var dir string
		if in.Env != nil {
			dir, _ = in.Env.Get("CI_PROJECT_DIR")
		}
		if dir == "" || !strings.HasPrefix(p, dir+"/") {
			return "", false
		}
		p = strings.TrimPrefix(p, dir+"/")
	}
	p = path.Clean(p)
	if p == "." || strings.HasPrefix(p, "../") || p == ".." {
		return "", false
	}
	return p, true
}

// readRepo reads a repository file of the caller; "" when missing.
func (in *Input) readRepo(name string) (string, bool) {
	if in.Files == nil || in.Caller == nil {
		return "", false
	}
	data, err := in.Files.ReadFile(in.Caller.Path, name)
	if err != nil {
		return "", false
	}
	return string(data), true
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

// expandBraced expands "${NAME}" references the way npm (.npmrc), yarn
// (.yarnrc.yml) and pip (requirements files) do at run time: only the
// braced form, unknown names left as written.
func expandBraced(s string, env shell.Env) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return bracedRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := env.Get(name); ok {
			return v
		}
		return m
	})
}

var bracedRE = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

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
