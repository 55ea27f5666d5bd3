package detect

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// pipDetector finds Python package index access with the job token
// (P17–P19): index URLs in PIP_*/UV_* variables, on pip/uv command lines,
// in requirements files and pip.conf/.pypirc files the job writes; uploads
// with twine and uv publish; Poetry and uv named sources joined to their
// credentials. Credentials must be the job token with user
// gitlab-ci-token (in the URL, a .netrc the job writes, or the tool's
// per-index variables); "__token__" or "oauth2" with the job token is
// rejected by GitLab (see basicAuthVerdict).
type pipDetector struct{}

func (pipDetector) Name() string { return "pip" }

// pyIndex is one package index URL the job uses, with where it was named.
type pyIndex struct {
	URL    string
	Name   string // uv/poetry index name, "" when unnamed
	Access access.Kind
	// at is the evidence: the command, variable or file line that names
	// the index.
	at site
	// cred overrides credentials from the URL (named-index variables).
	cred   *credential
	detail string
	// cmdLine: named on a command line (the tokens detector already notes
	// non-job-token credentials there).
	cmdLine bool
}

var pipEnvIndexVars = map[string]bool{
	"PIP_INDEX_URL": true, "PIP_EXTRA_INDEX_URL": true, "UV_INDEX_URL": true, "UV_EXTRA_INDEX_URL": true,
	"UV_DEFAULT_INDEX": true, "UV_INDEX": true,
}

func (pipDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		in.committedPipConf(out)
		return
	}
	var idx []pyIndex
	isIndexVar := func(n string) bool { return pipEnvIndexVars[n] }
	// Index variables only matter to jobs that run a Python package tool:
	// a global PIP_INDEX_URL is not an access by a job that never installs.
	var settings []setting
	if runsPythonTool(in.Commands) {
		settings = in.settings(isIndexVar)
	}
	for _, s := range append(settings, in.buildArgs(isIndexVar)...) {
		s := s
		for _, f := range strings.Fields(s.Value) {
			name, u := "", f
			if s.Name == "UV_INDEX" || s.Name == "UV_DEFAULT_INDEX" {
				if n, rest, ok := strings.Cut(f, "="); ok && !strings.Contains(n, "/") {
					name, u = n, rest
				}
			}
			detail := "variable " + s.Name + ": " + rawOf(s)
			if s.Cmd != nil {
				detail = CommandText(s.Cmd)
			}
			ix := pyIndex{URL: u, Name: name, Access: access.PackagesRead, at: s.site(), detail: detail}
			if name != "" {
				ix.cred = in.uvIndexCred(s.Cmd, name, u)
			}
			idx = append(idx, ix)
		}
	}
	idx = append(idx, in.pipCommandIndexes()...)
	idx = append(idx, in.pipConfWrites()...)
	idx = append(idx, in.pyprojectIndexes()...)
	idx = append(idx, in.pyUploads()...)
	netrc := in.netrc(nil)
	for _, ix := range idx {
		in.emitPyIndex(ix, netrc, out)
	}
}

// emitPyIndex classifies one index and its credentials.
func (in *Input) emitPyIndex(ix pyIndex, netrc map[string]netrcEntry, out *Output) {
	u, ok := ParseURL(ix.URL)
	if !ok {
		return
	}
	cred := credential{User: u.User, Secret: u.Password, Where: "URL user info"}
	switch {
	case ix.cred != nil:
		cred = *ix.cred
	case !u.HasUser:
		if e, ok := netrcFor(netrc, u.Host); ok {
			cred = credential{User: e.login, Secret: e.password, Where: ".netrc"}
		}
	}
	// A ~/.netrc entry that sends the job token elsewhere, or with the
	// wrong user name, is noted once where the job writes it
	// (jobState.netrcNotes).
	setUp := cred.Where == ".netrc"
	note := func(k use.NoteKind, d string) { out.Notes = append(out.Notes, in.noteAtSite(ix.at, k, d)) }
	if !OnServer(in.Server, u.Host) {
		if cred.jobToken() && UnknownReason(u.Host) == "" && !setUp {
			note(use.OtherHost, "the job token is sent to Python index host "+u.Host+", which is not this GitLab server: "+ix.detail)
		}
		return
	}
	method := "GET"
	if ix.Access == access.PackagesWrite {
		method = "POST"
	}
	ep, ok := ClassifyAPI(in.Server, u, method)
	if !ok || ep.Access == "" || !strings.HasPrefix(ep.Family, "packages") {
		return
	}
	isUse, wontWork := basicAuthVerdict(cred)
	switch {
	case wontWork != "":
		if !setUp {
			note(use.WontWork, wontWork+" ("+cred.Where+"): "+ix.detail)
		}
		return
	case !isUse:
		if cred.Secret != "" && !ix.cmdLine {
			note(use.NotJobToken, "Python index credentials ("+cred.Where+") are not the job token: "+ix.detail)
		}
		return
	}
	d := ix.detail
	if cred.Where != "URL user info" {
		d += " (credentials from " + cred.Where + ")"
	}
	u2 := in.useAtSite(ix.at, ix.Access, ep.Target, d)
	u2.Target = in.withPyPackages(u2.Target) // publishers.go
	if u2.Target.Reason != "" {
		u2.Target.Reference = ix.URL
	}
	out.Uses = append(out.Uses, u2)
}

// pyTools are the commands that install Python packages from an index.
func isPipCommand(ws []shell.Word) (rest []shell.Word, ok bool) {
	name := cmdBase(ws[0].Value)
	switch {
	case name == "pip" || strings.HasPrefix(name, "pip3") || name == "pip2":
		return ws[1:], true
	case strings.HasPrefix(name, "python") || name == "py":
		if m, args, ok := pythonModule(ws); ok && m == "pip" {
			return args, true
		}
	case name == "uv":
		if len(ws) > 2 && ws[1].Value == "pip" {
			return ws[2:], true
		}
		if len(ws) > 1 {
			switch ws[1].Value {
			case "add", "sync", "lock", "run", "tool", "export":
				return ws[2:], true
			}
		}
	case name == "uvx" || name == "pipx" || name == "pip-compile" || name == "pip-sync":
		return ws[1:], true
	}
	return nil, false
}

var pipSpec = optSpec{value: opts("irceft", "index-url", "extra-index-url", "index", "default-index", "requirement",
	"constraint", "find-links", "target", "prefix", "root", "python", "from", "with", "editable", "src",
	"upgrade-strategy", "cache-dir", "trusted-host", "platform", "python-version", "implementation", "abi",
	"progress-bar", "log", "timeout", "retries", "proxy", "cert", "client-cert", "only-binary", "no-binary",
	"config-settings", "report", "group", "extra", "output-file", "directory", "project", "index-strategy",
	"keyring-provider", "spec", "pip-args"),
}

// pipCommandIndexes reads index options from pip/uv command lines and the
// requirements files they name.
func (in *Input) pipCommandIndexes() []pyIndex {
	var out []pyIndex
	for _, c := range in.Commands {
		args, ok := isPipCommand(argv(c))
		if !ok {
			continue
		}
		p := pipSpec.parse(args)
		detail := CommandText(c)
		for _, o := range p.opts {
			if !o.has {
				continue
			}
			switch o.name {
			case "-i", "--index-url", "--extra-index-url", "--index", "--default-index":
				v := o.val.Value
				name := ""
				if o.name == "--index" || o.name == "--default-index" {
					if n, rest, ok := strings.Cut(v, "="); ok && !strings.Contains(n, "/") {
						name, v = n, rest
					}
				}
				ix := pyIndex{URL: v, Name: name, Access: access.PackagesRead, at: cmdSite(c), detail: detail, cmdLine: true}
				if name != "" {
					ix.cred = in.uvIndexCred(c, name, v)
				}
				out = append(out, ix)
			case "-r", "--requirement", "-c", "--constraint":
				out = append(out, in.requirementsIndexes(c, o.val.Value, 0)...)
			}
		}
	}
	return out
}

// uvIndexCred returns the UV_INDEX_<NAME>_USERNAME/PASSWORD credentials of
// a named index, or nil when the URL should be used as is.
func (in *Input) uvIndexCred(c *shell.Command, name, url string) *credential {
	key := "UV_INDEX_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	pass, ok := in.getenv(c, key+"_PASSWORD")
	if !ok {
		return nil
	}
	user, _ := in.getenv(c, key+"_USERNAME")
	return &credential{User: user, Secret: pass, Where: key + "_PASSWORD"}
}

// requirementsIndexes reads --index-url/--extra-index-url lines of a
// requirements file. pip expands ${VAR} (upper case names) in them
// (pip docs, "Requirements File Format").
func (in *Input) requirementsIndexes(c *shell.Command, name string, depth int) []pyIndex {
	rel, ok := in.repoPath(name)
	if !ok || depth > maxRequirementDepth {
		return nil
	}
	text, ok := in.readRepo(rel)
	if !ok {
		return nil
	}
	var out []pyIndex
	env := in.envOf(c)
	for _, l := range requirementsLines(text) {
		if f, ok := requirementsInclude(rel, l.text); ok {
			out = append(out, in.requirementsIndexes(c, f, depth+1)...)
			continue
		}
		if u, ok := cutOption(l.text, "-i", "--index-url", "--extra-index-url"); ok && u != "" {
			out = append(out, pyIndex{URL: expandBraced(strings.Fields(u)[0], env), Access: access.PackagesRead, at: fileSite(rel, l.n),
				detail: rel + ": " + l.text + " (used by " + CommandText(c) + ")"})
		}
	}
	return out
}

// pipConfWrites reads pip.conf/pip.ini and .pypirc files the job writes:
// their values are taken as written (pip and twine do not expand
// variables; the shell already did when the file was written).
func (in *Input) pipConfWrites() []pyIndex {
	var out []pyIndex
	for _, w := range in.writes(func(d string) bool {
		b := path.Base(d)
		return b == "pip.conf" || b == "pip.ini" || b == ".pypirc"
	}) {
		ini := parseINI(w.out.value)
		if path.Base(w.path) == ".pypirc" {
			for _, sec := range ini {
				repo := sec.get("repository")
				if repo == "" || sec.name == "distutils" {
					continue
				}
				cred := &credential{User: sec.get("username"), Secret: sec.get("password"), Where: ".pypirc [" + sec.name + "]"}
				out = append(out, pyIndex{URL: repo, Name: sec.name, Access: access.PackagesWrite, at: cmdSite(w.cmd), cred: cred,
					detail: "writes .pypirc [" + sec.name + "] repository = " + repo})
			}
			continue
		}
		for _, sec := range ini {
			for _, key := range []string{"index-url", "extra-index-url"} {
				for _, u := range strings.Fields(sec.get(key)) {
					out = append(out, pyIndex{URL: u, Access: access.PackagesRead, at: cmdSite(w.cmd), detail: "writes " + path.Base(w.path) + " " + key + " = " + u})
				}
			}
		}
	}
	return out
}

// committedPipConf notes pip configuration committed with a job-token
// placeholder: pip reads pip.conf with configparser's RawConfigParser and
// does not expand variables, so the literal text is sent.
func (in *Input) committedPipConf(out *Output) {
	for _, name := range []string{"pip.conf", "pip.ini", ".pip/pip.conf", ".config/pip/pip.conf"} {
		text, ok := in.readRepo(name)
		if !ok {
			continue
		}
		for i, line := range strings.Split(text, "\n") {
			if isJobTokenRef(line) && strings.Contains(line, "index-url") {
				out.Notes = append(out.Notes, in.noteAtSite(fileSite(name, i+1), use.WontWork,
					"pip does not expand variables in "+name+", so the literal text is sent instead of the job token: "+strings.TrimSpace(line)))
			}
		}
	}
}

// iniSection is one [section] of an INI file.
type iniSection struct {
	name string
	keys map[string]string
}

func (s iniSection) get(k string) string { return s.keys[k] }

// parseINI reads INI text with configparser's continuation lines
// (indented lines extend the previous value).
func parseINI(text string) []iniSection {
	var out []iniSection
	cur := -1
	last := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';':
			continue
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			out = append(out, iniSection{name: strings.TrimSpace(t[1 : len(t)-1]), keys: map[string]string{}})
			cur, last = len(out)-1, ""
		case cur >= 0 && last != "" && (line[0] == ' ' || line[0] == '\t'):
			out[cur].keys[last] += " " + t
		case cur >= 0:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				k, v, ok = strings.Cut(t, ":")
			}
			if ok {
				last = strings.ToLower(strings.TrimSpace(k))
				out[cur].keys[last] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// pySource is a named index in pyproject.toml.
type pySource struct {
	kind       string // "poetry" or "uv"
	name, url  string
	publishURL string
	line       int
}

// pyprojectSources reads [[tool.poetry.source]] and [[tool.uv.index]]
// tables (name, url, publish-url) from pyproject.toml.
func pyprojectSources(text string) []pySource {
	var out []pySource
	cur := -1
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if strings.HasPrefix(t, "[") {
			cur = -1
			switch strings.ReplaceAll(t, " ", "") {
			case "[[tool.poetry.source]]":
				out = append(out, pySource{kind: "poetry", line: i + 1})
				cur = len(out) - 1
			case "[[tool.uv.index]]":
				out = append(out, pySource{kind: "uv", line: i + 1})
				cur = len(out) - 1
			}
			continue
		}
		if cur < 0 {
			continue
		}
		m := tomlKV.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		switch m[1] {
		case "name":
			out[cur].name = m[2]
		case "url":
			out[cur].url, out[cur].line = m[2], i+1
		case "publish-url":
			out[cur].publishURL = m[2]
		}
	}
	return out
}

var tomlKV = regexp.MustCompile(`^([A-Za-z_-]+)\s*=\s*["']([^"']*)["']`)

// pyprojectIndexes joins pyproject.toml sources to their credentials:
// "poetry config http-basic.<name> user pass" or
// POETRY_HTTP_BASIC_<NAME>_USERNAME/PASSWORD for Poetry, and
// UV_INDEX_<NAME>_USERNAME/PASSWORD for uv, in jobs that run the tool.
func (in *Input) pyprojectIndexes() []pyIndex {
	runs := false
	for _, c := range in.Commands {
		if n := cmdName(c); n == "poetry" || n == "uv" {
			runs = true
			break
		}
	}
	if !runs {
		return nil
	}
	text, ok := in.readRepo("pyproject.toml")
	if !ok {
		return nil
	}
	srcs := pyprojectSources(text)
	if len(srcs) == 0 {
		return nil
	}
	var out []pyIndex
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		if tool != "poetry" && tool != "uv" {
			continue
		}
		sub := ""
		if len(ws) > 1 {
			sub = ws[1].Value
		}
		for _, s := range srcs {
			if s.kind != tool || s.url == "" {
				continue
			}
			var cred *credential
			var place *shell.Command
			switch tool {
			case "poetry":
				if sub != "install" && sub != "lock" && sub != "update" && sub != "add" && sub != "sync" {
					continue
				}
				cred, place = in.poetryCred(c, s.name)
			case "uv":
				if sub != "sync" && sub != "lock" && sub != "add" && sub != "run" && sub != "export" {
					continue
				}
				cred = in.uvIndexCred(c, s.name, s.url)
			}
			if cred == nil {
				continue
			}
			ix := pyIndex{URL: s.url, Name: s.name, Access: access.PackagesRead, cred: cred, at: cmdSite(c),
				detail: "pyproject.toml:" + strconv.Itoa(s.line) + " " + s.kind + " source " + s.name + " = " + s.url + " (" + CommandText(c) + ")"}
			if place != nil {
				ix.at = cmdSite(place)
			}
			out = append(out, ix)
		}
	}
	return dedupeIndexes(out)
}

// poetryCred finds Poetry credentials for a source before command c:
// "poetry config http-basic.<name> <user> <password>" or the
// POETRY_HTTP_BASIC_<NAME>_* variables.
func (in *Input) poetryCred(c *shell.Command, name string) (*credential, *shell.Command) {
	var cred *credential
	var at *shell.Command
	for _, x := range in.Commands {
		if x == c {
			break
		}
		ws := argv(x)
		if nameOf(x, ws) != "poetry" || len(ws) < 5 || ws[1].Value != "config" {
			continue
		}
		if ws[2].Value == "http-basic."+name {
			cred, at = &credential{User: ws[3].Value, Secret: ws[4].Value, Where: "poetry config http-basic." + name}, x
		}
	}
	if cred != nil {
		return cred, at
	}
	key := "POETRY_HTTP_BASIC_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	if pass, ok := in.getenv(c, key+"_PASSWORD"); ok {
		user, _ := in.getenv(c, key+"_USERNAME")
		return &credential{User: user, Secret: pass, Where: key + "_PASSWORD"}, nil
	}
	return nil, nil
}

func dedupeIndexes(ix []pyIndex) []pyIndex {
	seen := map[string]bool{}
	var out []pyIndex
	for _, x := range ix {
		k := x.URL + "\x00" + string(x.Access)
		if x.at.c != nil {
			k += "\x00" + x.at.c.Pos.File + ":" + strconv.Itoa(x.at.c.Pos.Line)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, x)
	}
	return out
}

var (
	twineSpec = optSpec{value: opts("rup", "repository", "repository-url", "username", "password", "config-file",
		"comment", "sign-with", "identity", "client-cert", "cert")}
	uvPublishSpec = optSpec{value: opts("upt", "publish-url", "username", "password", "token", "index", "check-url",
		"trusted-publishing", "keyring-provider")}
	poetryPublishSpec = optSpec{value: opts("rup", "repository", "username", "password", "build", "dist-dir")}
)

// pyUploads finds twine upload and uv publish (packages-write), and
// poetry publish to a repository configured in the job.
func (in *Input) pyUploads() []pyIndex {
	var out []pyIndex
	for _, c := range in.Commands {
		ws := argv(c)
		name := nameOf(c, ws)
		args := ws[1:]
		if m, margs, ok := pythonModule(ws); ok {
			name, args = m, margs
		}
		switch {
		case name == "twine" && len(args) > 0 && args[0].Value == "upload":
			p := twineSpec.parse(args[1:])
			url, ok := p.last("--repository-url")
			if !ok {
				if v, set := in.getenv(c, "TWINE_REPOSITORY_URL"); set {
					url = shell.Word{Value: v}
				}
			}
			if url.Value == "" {
				// --repository NAME is read from a .pypirc the job writes.
				continue
			}
			user, pass := in.flagOrEnv(c, p, []string{"-u", "--username"}, "TWINE_USERNAME"), in.flagOrEnv(c, p, []string{"-p", "--password"}, "TWINE_PASSWORD")
			out = append(out, pyIndex{URL: url.Value, Access: access.PackagesWrite, at: cmdSite(c), detail: CommandText(c),
				cred: &credential{User: user, Secret: pass, Where: "twine credentials"}, cmdLine: true})
		case name == "uv" && len(args) > 0 && args[0].Value == "publish":
			p := uvPublishSpec.parse(args[1:])
			url, ok := p.last("--publish-url")
			if !ok {
				if v, set := in.getenv(c, "UV_PUBLISH_URL"); set {
					url = shell.Word{Value: v}
				}
			}
			var indexCred *credential
			if idx, ok := p.last("--index"); ok && url.Value == "" {
				// [[tool.uv.index]] name = idx with publish-url (P19).
				if text, ok := in.readRepo("pyproject.toml"); ok {
					for _, src := range pyprojectSources(text) {
						if src.kind == "uv" && src.name == idx.Value && src.publishURL != "" {
							url = shell.Word{Value: src.publishURL}
							indexCred = in.uvIndexCred(c, src.name, src.publishURL)
						}
					}
				}
			}
			if url.Value == "" {
				continue
			}
			user, pass := in.flagOrEnv(c, p, []string{"-u", "--username"}, "UV_PUBLISH_USERNAME"), in.flagOrEnv(c, p, []string{"-p", "--password"}, "UV_PUBLISH_PASSWORD")
			if pass == "" && indexCred != nil {
				user, pass = indexCred.User, indexCred.Secret
			}
			if pass == "" {
				// A token is sent with user __token__.
				if t := in.flagOrEnv(c, p, []string{"-t", "--token"}, "UV_PUBLISH_TOKEN"); t != "" {
					user, pass = "__token__", t
				}
			}
			out = append(out, pyIndex{URL: url.Value, Access: access.PackagesWrite, at: cmdSite(c), detail: CommandText(c),
				cred: &credential{User: user, Secret: pass, Where: "uv publish credentials"}, cmdLine: true})
		case name == "poetry" && len(args) > 0 && args[0].Value == "publish":
			p := poetryPublishSpec.parse(args[1:])
			repo, ok := p.last("-r", "--repository")
			if !ok {
				continue
			}
			url := in.poetryRepoURL(c, repo.Value)
			if url == "" {
				continue
			}
			cred, _ := in.poetryCred(c, repo.Value)
			if u, ok := p.last("-u", "--username"); ok {
				pw, _ := p.last("-p", "--password")
				cred = &credential{User: u.Value, Secret: pw.Value, Where: "poetry publish --username/--password"}
			}
			if cred == nil {
				continue
			}
			out = append(out, pyIndex{URL: url, Name: repo.Value, Access: access.PackagesWrite, at: cmdSite(c), cred: cred, detail: CommandText(c) + " (repository " + repo.Value + " = " + url + ")"})
		}
	}
	return out
}

// poetryRepoURL finds "poetry config repositories.<name> <url>" before c,
// or POETRY_REPOSITORIES_<NAME>_URL.
func (in *Input) poetryRepoURL(c *shell.Command, name string) string {
	url := ""
	for _, x := range in.Commands {
		if x == c {
			break
		}
		ws := argv(x)
		if nameOf(x, ws) == "poetry" && len(ws) >= 4 && ws[1].Value == "config" && ws[2].Value == "repositories."+name {
			url = ws[3].Value
		}
	}
	if url == "" {
		url, _ = in.getenv(c, "POETRY_REPOSITORIES_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))+"_URL")
	}
	return url
}

// flagOrEnv returns the last value of the flags, else the variable.
func (in *Input) flagOrEnv(c *shell.Command, p parsed, flags []string, env string) string {
	if w, ok := p.last(flags...); ok {
		return w.Value
	}
	v, _ := in.getenv(c, env)
	return v
}

// pythonTools are the commands that read pip/uv index settings.
var pythonTools = map[string]bool{
	"pip": true, "pip3": true, "uv": true, "uvx": true, "poetry": true, "pipenv": true, "pdm": true,
	"hatch": true, "tox": true, "nox": true, "pipx": true, "twine": true,
}

// runsPythonTool reports whether any command installs or publishes Python
// packages (pip, uv, poetry, ..., or python -m pip).
func runsPythonTool(cmds []*shell.Command) bool {
	for _, c := range cmds {
		ws := argv(c)
		if name := nameOf(c, ws); pythonTools[name] || strings.HasPrefix(name, "pip3.") {
			return true
		}
		if m, _, ok := pythonModule(ws); ok && pythonTools[m] {
			return true
		}
	}
	return false
}
