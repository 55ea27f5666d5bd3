package detect

import (
	"encoding/json"
	"path"
	"sort"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
	"gopkg.in/yaml.v3"
)

// npmDetector finds npm/yarn/pnpm registry access with the job token
// (P20): .npmrc committed in the repository or written by a job, "npm
// config set", yarn berry's .yarnrc.yml, and "npm publish". The target is
// named by the auth line ("//host/api/v4/projects/31337/packages/npm/:
// _authToken=..."), or by the registry line it covers when the auth is
// host-wide.
//
// npm expands "${VAR}" in .npmrc keys and values when it reads the file
// (npm docs, "npmrc": environment variables), so a placeholder written
// literally (a committed file, a single-quoted echo) still sends the job
// token; "$VAR" without braces is not expanded.
type npmDetector struct{}

func (npmDetector) Name() string { return "npm" }

// npmEntry is one registry or auth setting.
type npmEntry struct {
	Scope string // "@acme" for scope registries, "" for the default
	URL   string // registry URL, or the auth prefix "//host/path/"
	Value string // token (expanded), for auth entries
	Raw   string // the line as written
	// Direct: the raw value names a job-token variable itself, so the
	// repository-level pass (no job) already sees it.
	Direct bool
	Src    site // the file line or command that set it
}

// npmConfig is what npm would read, in order of precedence (later wins).
type npmConfig struct {
	registries []npmEntry
	auths      []npmEntry
	notes      []npmNote
}

type npmNote struct {
	src    site
	detail string
}

func (npmDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		var cfg npmConfig
		cfg.addCommitted(in, in.envOf(nil))
		cfg.emitReads(in, out)
		return
	}
	cmds := npmCommands(in)
	written := in.npmWrites()
	if len(cmds) == 0 && len(written.auths) == 0 && len(written.registries) == 0 {
		return
	}
	var cfg npmConfig
	cfg.addCommitted(in, in.envOf(nil))
	committed := len(cfg.auths)
	cfg.registries = append(cfg.registries, written.registries...)
	cfg.auths = append(cfg.auths, written.auths...)

	installs, publishes := false, []npmCmd(nil)
	for _, c := range cmds {
		switch c.kind {
		case npmInstall:
			installs = true
		case npmPublish:
			publishes = append(publishes, c)
		}
	}
	// Reads: written config when the job installs (or runs no npm command
	// we recognise: a Makefile may), committed config only for settings the
	// repository-level pass could not see (tokens from job variables).
	var reads npmConfig
	reads.registries = cfg.registries
	for i, a := range cfg.auths {
		if i < committed {
			if installs && !a.Direct {
				reads.auths = append(reads.auths, a)
			}
			continue
		}
		if installs || len(publishes) == 0 {
			reads.auths = append(reads.auths, a)
		}
	}
	reads.notes = written.notes
	reads.emitReads(in, out)
	for _, p := range publishes {
		cfg.emitPublish(in, p, out)
	}
}

// addCommitted reads the repository's .npmrc and .yarnrc.yml.
func (cfg *npmConfig) addCommitted(in *Input, env shell.Env) {
	if s, ok := in.readRepo(".npmrc"); ok {
		cfg.addNpmrc(s, env, fileSite(".npmrc", 0))
	}
	if s, ok := in.readRepo(".yarnrc.yml"); ok {
		cfg.addYarnrc(s, env, fileSite(".yarnrc.yml", 0))
	}
}

// addNpmrc parses .npmrc text ("key=value" lines).
func (cfg *npmConfig) addNpmrc(text string, env shell.Env, src site) {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		s := src
		if s.file != "" {
			s.line = i + 1
		}
		cfg.addSetting(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`), line, env, s)
	}
}

// addSetting records one npm setting key=value.
func (cfg *npmConfig) addSetting(rawKey, rawVal, line string, env shell.Env, src site) {
	key := expandBraced(rawKey, env)
	val := expandBraced(rawVal, env)
	switch {
	case key == "registry":
		cfg.registries = append(cfg.registries, npmEntry{URL: val, Raw: line, Src: src})
	case strings.HasPrefix(key, "@") && strings.HasSuffix(key, ":registry"):
		cfg.registries = append(cfg.registries, npmEntry{Scope: strings.TrimSuffix(key, ":registry"), URL: val, Raw: line, Src: src})
	case strings.HasPrefix(key, "//") && (strings.HasSuffix(key, ":_authToken") || strings.HasSuffix(key, ":_password")):
		prefix := key[:strings.LastIndex(key, ":")]
		if !HasJobToken(val) && isJobTokenRef(rawVal) && !strings.Contains(rawVal, "${") {
			cfg.notes = append(cfg.notes, npmNote{src: src, detail: "npm expands only ${VAR} in .npmrc, so the literal text " + rawVal + " is sent instead of the job token: " + line})
			return
		}
		cfg.auths = append(cfg.auths, npmEntry{URL: nerfDart(prefix), Value: val, Raw: line, Src: src, Direct: isJobTokenRef(rawVal)})
	}
}

// addYarnrc maps yarn berry settings onto npm's model: a scope's
// npmRegistryServer with its npmAuthToken becomes a registry plus an auth
// for exactly that URL.
func (cfg *npmConfig) addYarnrc(text string, env shell.Env, src site) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return
	}
	at := func(n *yaml.Node) site {
		s := src
		if s.file != "" {
			s.line = n.Line
		}
		return s
	}
	addBlock := func(scope string, m *yaml.Node) {
		var server, token *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch m.Content[i].Value {
			case "npmRegistryServer", "npmPublishRegistry":
				if server == nil || m.Content[i].Value == "npmRegistryServer" {
					server = m.Content[i+1]
				}
			case "npmAuthToken":
				token = m.Content[i+1]
			}
		}
		if server == nil {
			return
		}
		url := expandBraced(server.Value, env)
		line := "npmRegistryServer: " + server.Value
		if scope != "" {
			line = "npmScopes." + strings.TrimPrefix(scope, "@") + ".npmRegistryServer: " + server.Value
		}
		cfg.registries = append(cfg.registries, npmEntry{Scope: scope, URL: url, Raw: line, Src: at(server)})
		if token != nil {
			cfg.auths = append(cfg.auths, npmEntry{URL: nerfDart(url), Value: expandBraced(token.Value, env),
				Raw: strings.Replace(line, "npmRegistryServer: "+server.Value, "npmAuthToken: "+token.Value, 1), Src: at(token), Direct: isJobTokenRef(token.Value)})
		}
	}
	top := root.Content[0]
	addBlock("", top)
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "npmScopes":
			scopes := top.Content[i+1]
			for j := 0; j+1 < len(scopes.Content); j += 2 {
				addBlock("@"+strings.TrimPrefix(scopes.Content[j].Value, "@"), scopes.Content[j+1])
			}
		case "npmRegistries":
			regs := top.Content[i+1]
			for j := 0; j+1 < len(regs.Content); j += 2 {
				for k := 0; k+1 < len(regs.Content[j+1].Content); k += 2 {
					if regs.Content[j+1].Content[k].Value == "npmAuthToken" {
						tok := regs.Content[j+1].Content[k+1]
						cfg.auths = append(cfg.auths, npmEntry{URL: nerfDart(expandBraced(regs.Content[j].Value, env)), Value: expandBraced(tok.Value, env),
							Raw: "npmRegistries." + regs.Content[j].Value + ".npmAuthToken: " + tok.Value, Src: at(tok), Direct: isJobTokenRef(tok.Value)})
					}
				}
			}
		}
	}
}

// nerfDart reduces a registry URL to npm's credential key form
// "//host/path/" (scheme dropped, host lower case, trailing slash).
func nerfDart(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+1:]
	}
	if !strings.HasPrefix(u, "//") {
		u = "//" + u
	}
	rest := u[2:]
	host, p, _ := strings.Cut(rest, "/")
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	out := "//" + strings.ToLower(host) + "/" + p
	if !strings.HasSuffix(out, "/") {
		out += "/"
	}
	return out
}

// authFor returns the auth entry npm uses for a registry URL: the longest
// credential key that is a prefix of the registry's (npm walks up the
// path, npm-registry-fetch getAuth), the last one set winning a tie.
func (cfg *npmConfig) authFor(registry string) (npmEntry, bool) {
	key := nerfDart(registry)
	best, found := npmEntry{}, false
	for _, a := range cfg.auths {
		if strings.HasPrefix(key, a.URL) && (!found || len(a.URL) >= len(best.URL)) {
			best, found = a, true
		}
	}
	return best, found
}

// emitReads turns job-token auths into packages-read uses.
func (cfg *npmConfig) emitReads(in *Input, out *Output) {
	for _, n := range cfg.notes {
		out.Notes = append(out.Notes, in.noteAtSite(n.src, use.WontWork, n.detail))
	}
	for _, a := range cfg.auths {
		if !HasJobToken(a.Value) {
			continue
		}
		u, ok := ParseURL("https:" + a.URL)
		if !ok {
			continue
		}
		if !OnServer(in.Server, u.Host) {
			if UnknownReason(u.Host) == "" {
				out.Notes = append(out.Notes, in.noteAtSite(a.Src, use.OtherHost, "the job token is configured for npm registry host "+u.Host+", which is not this GitLab server: "+a.Raw))
			}
			continue
		}
		ep, ok := ClassifyAPI(in.Server, u, "GET")
		if ok && ep.Access != "" && ep.Target.Kind != use.Instance {
			out.Uses = append(out.Uses, in.useAtSite(a.Src, access.PackagesRead, in.withNpmPackages(ep.Target, ""), a.Raw)) // publishers.go
			continue
		}
		if ok && ep.Target.Kind == use.Instance {
			scopes := cfg.scopesAt(a.URL)
			if len(scopes) == 0 {
				scopes = []string{""}
			}
			for _, s := range scopes {
				t := ep.Target
				if s != "" {
					t.Value = "npm packages of scope " + s
				}
				t = in.withNpmPackages(t, s) // publishers.go
				out.Uses = append(out.Uses, in.useAtSite(a.Src, access.PackagesRead, t, a.Raw))
			}
			continue
		}
		// A host-wide credential: the registries it covers name the targets.
		for _, r := range cfg.registries {
			if !strings.HasPrefix(nerfDart(r.URL), a.URL) {
				continue
			}
			if best, _ := cfg.authFor(r.URL); best.URL != a.URL {
				continue
			}
			ru, ok := ParseURL(r.URL)
			if !ok {
				continue
			}
			ep, ok := ClassifyAPI(in.Server, ru, "GET")
			if !ok || ep.Access == "" {
				continue
			}
			t := ep.Target
			if t.Kind == use.Instance && r.Scope != "" {
				t.Value = "npm packages of scope " + r.Scope
			}
			t = in.withNpmPackages(t, r.Scope) // publishers.go
			out.Uses = append(out.Uses, in.useAtSite(r.Src, access.PackagesRead, t, r.Raw+" (credential "+a.Raw+")"))
		}
	}
}

// scopesAt lists the scopes bound to exactly the registry prefix.
func (cfg *npmConfig) scopesAt(prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range cfg.registries {
		if r.Scope != "" && nerfDart(r.URL) == prefix && !seen[r.Scope] {
			seen[r.Scope] = true
			out = append(out, r.Scope)
		}
	}
	sort.Strings(out)
	return out
}

// npm command kinds.
const (
	npmOther = iota
	npmInstall
	npmPublish
)

type npmCmd struct {
	c        *shell.Command
	kind     int
	registry string // --registry value
	dir      string // folder published
}

var (
	npmSpec = optSpec{value: opts("", "registry", "workspace", "tag", "access", "otp", "prefix", "cwd", "filter",
		"dir")}
	npmConfigSpec = optSpec{value: opts("", "location", "userconfig", "global")}
)

// npmCommands lists the npm/yarn/pnpm/npx commands of the job.
func npmCommands(in *Input) []npmCmd {
	var out []npmCmd
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		switch tool {
		case "npm", "npx", "yarn", "pnpm", "pnpx", "bun", "bunx", "corepack":
		default:
			continue
		}
		p := npmSpec.parse(ws[1:])
		nc := npmCmd{c: c, kind: npmOther}
		if r, ok := p.last("--registry"); ok {
			nc.registry = r.Value
		}
		var sub []string
		for _, w := range p.pos {
			sub = append(sub, w.Value)
		}
		first := ""
		if len(sub) > 0 {
			first = sub[0]
		}
		switch {
		case tool == "npx" || tool == "pnpx" || tool == "bunx":
			nc.kind = npmInstall
		case tool == "yarn" && first == "npm" && len(sub) > 1 && sub[1] == "publish":
			nc.kind = npmPublish
		case first == "publish":
			nc.kind = npmPublish
			if len(sub) > 1 {
				nc.dir = sub[1]
			}
		case tool == "yarn" && first == "":
			nc.kind = npmInstall
		case first == "install" || first == "i" || first == "ci" || first == "add" || first == "update" || first == "upgrade" ||
			first == "up" || first == "exec" || first == "x" || first == "dlx" || first == "dedupe" || first == "audit" ||
			first == "outdated" || first == "view" || first == "info" || first == "fetch" || first == "pack" || first == "isntall":
			nc.kind = npmInstall
		}
		out = append(out, nc)
	}
	return out
}

// npmWrites collects npm settings the job writes: .npmrc files,
// .yarnrc.yml files, "npm|pnpm config set" and "yarn config set".
func (in *Input) npmWrites() npmConfig {
	var cfg npmConfig
	for _, w := range in.writes(func(d string) bool { b := path.Base(d); return b == ".npmrc" || b == ".yarnrc.yml" }) {
		env := in.envOf(w.cmd)
		src := cmdSite(w.cmd)
		if w.out.from != "" {
			// A committed file copied into place: evidence at its lines.
			src = fileSite(w.out.from, 0)
		}
		if path.Base(w.path) == ".yarnrc.yml" {
			cfg.addYarnrc(w.out.value, env, src)
		} else {
			cfg.addNpmrc(w.out.value, env, src)
		}
	}
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		if tool != "npm" && tool != "pnpm" && tool != "yarn" {
			continue
		}
		p := npmConfigSpec.parse(ws[1:])
		pos := words(p.pos)
		if len(pos) < 3 || (pos[0] != "config" && pos[0] != "set") {
			continue
		}
		if pos[0] == "config" {
			if pos[1] != "set" {
				continue
			}
			pos = pos[1:]
		}
		k, v := pos[1], ""
		if len(pos) > 2 {
			v = pos[2]
		} else if kk, vv, ok := strings.Cut(k, "="); ok {
			k, v = kk, vv
		}
		env := in.envOf(c)
		line := CommandText(c)
		if tool == "yarn" && strings.HasPrefix(k, "npm") {
			cfg.addYarnSetting(k, v, line, env, cmdSite(c))
			continue
		}
		cfg.addSetting(k, v, line, env, cmdSite(c))
	}
	return cfg
}

// addYarnSetting maps "yarn config set npmScopes.acme.npmAuthToken X" and
// friends.
func (cfg *npmConfig) addYarnSetting(key, val, line string, env shell.Env, src site) {
	val = expandBraced(val, env)
	parts := strings.Split(key, ".")
	scope := ""
	if len(parts) == 3 && parts[0] == "npmScopes" {
		scope, parts = "@"+strings.TrimPrefix(parts[1], "@"), parts[2:]
	}
	if len(parts) != 1 {
		return
	}
	switch parts[0] {
	case "npmRegistryServer":
		cfg.registries = append(cfg.registries, npmEntry{Scope: scope, URL: val, Raw: line, Src: src})
	case "npmAuthToken":
		// Bound to the scope's (or the default) registry, set before or after.
		url := ""
		for _, r := range cfg.registries {
			if r.Scope == scope {
				url = r.URL
			}
		}
		if url == "" {
			return
		}
		cfg.auths = append(cfg.auths, npmEntry{URL: nerfDart(url), Value: val, Raw: line, Src: src})
	}
}

// emitPublish turns "npm publish" into a packages-write use on the
// registry npm publishes to.
func (cfg *npmConfig) emitPublish(in *Input, p npmCmd, out *Output) {
	reg, how := p.registry, "--registry"
	if reg == "" {
		reg, how = cfg.publishRegistry(in, p)
	}
	if reg == "" {
		return
	}
	a, ok := cfg.authFor(reg)
	if !ok || !HasJobToken(a.Value) {
		return
	}
	u, ok := ParseURL(reg)
	if !ok || !OnServer(in.Server, u.Host) {
		return
	}
	ep, ok := ClassifyAPI(in.Server, u, "PUT")
	if !ok || ep.Access == "" {
		return
	}
	detail := CommandText(p.c) + " (registry " + reg + " from " + how + ")"
	if ep.Target.Kind == use.Instance {
		out.Notes = append(out.Notes, in.NoteAt(p.c, use.WontWork, "npm publish to the instance-level endpoint: GitLab accepts publishing only on a project-level endpoint: "+detail))
		return
	}
	out.Uses = append(out.Uses, in.UseAt(p.c, access.PackagesWrite, ep.Target, detail))
}

// publishRegistry finds where npm publishes: package.json publishConfig,
// else the registry bound to the package's scope, else the default
// registry.
func (cfg *npmConfig) publishRegistry(in *Input, p npmCmd) (reg, how string) {
	dir := "."
	if p.dir != "" && !strings.HasSuffix(p.dir, ".tgz") {
		if d, ok := in.repoPath(p.dir); ok {
			dir = d
		}
	}
	var pkg struct {
		Name          string            `json:"name"`
		PublishConfig map[string]string `json:"publishConfig"`
	}
	if s, ok := in.readRepo(path.Join(dir, "package.json")); ok {
		_ = json.Unmarshal([]byte(s), &pkg)
	}
	if r := pkg.PublishConfig["registry"]; r != "" {
		return r, "package.json publishConfig.registry"
	}
	scope := ""
	if strings.HasPrefix(pkg.Name, "@") {
		scope, _, _ = strings.Cut(pkg.Name, "/")
		if r := pkg.PublishConfig[scope+":registry"]; r != "" {
			return r, "package.json publishConfig"
		}
	}
	for i := len(cfg.registries) - 1; i >= 0; i-- {
		if scope != "" && cfg.registries[i].Scope == scope {
			return cfg.registries[i].URL, scope + ":registry"
		}
	}
	for i := len(cfg.registries) - 1; i >= 0; i-- {
		if cfg.registries[i].Scope == "" {
			return cfg.registries[i].URL, "registry"
		}
	}
	if r, ok := in.getenv(p.c, "NPM_CONFIG_REGISTRY"); ok {
		return r, "NPM_CONFIG_REGISTRY"
	}
	if r, ok := in.getenv(p.c, "npm_config_registry"); ok {
		return r, "npm_config_registry"
	}
	return "", ""
}
