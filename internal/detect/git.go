package detect

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// gitDetector finds git transport with the job token: clone, fetch, pull,
// ls-remote and push to token-bearing URLs (literal, built from variables,
// CI_REPOSITORY_URL rewrites), URLs that get the token from host-wide
// credentials set up earlier in the job (insteadOf rules, ~/.netrc,
// credential helpers), VCS dependency URLs of pip/npm/uv/bun/nix/cargo
// (P10) and Go modules fetched with such credentials (P28).
//
// Sources: docs/patterns.md P01–P06, P10, P11 and traps §3;
// https://docs.gitlab.com/ci/jobs/ci_job_token/ (git over HTTPS as gitlab-ci-token; cross-project
// push is rejected).
type gitDetector struct{}

// Name implements Detector.
func (gitDetector) Name() string { return "git" }

// Detect implements Detector.
func (gitDetector) Detect(in *Input, out *Output) {
	if in.Job == nil || in.Job.Trigger != nil || len(in.Commands) == 0 {
		return
	}
	goSeen := map[string]bool{}
	notes := walkJob(in, func(c *shell.Command, st *jobState) {
		st.gitUses(out, c, goSeen)
	})
	keepNotes(out, notes, "git")
}

// gitUses reports the git accesses of one command.
func (st *jobState) gitUses(out *Output, c *shell.Command, goSeen map[string]bool) {
	switch name := cmdName(c); name {
	case "git":
		st.gitCommandUses(out, c)
	case "go":
		st.goUses(out, c, goSeen)
	case "repo", "west":
		st.manifestUses(out, c)
	default:
		if vcsTools[name] || isPythonPip(c) {
			st.vcsUses(out, c)
			st.pyManifestVCSUses(out, c) // gitdeps.go
		}
	}
}

// ---- git configuration -------------------------------------------------------

// gitRule is a url.<base>.insteadOf (or pushInsteadOf) rule.
type gitRule struct {
	base, prefix string
	push         bool
	pos          loc.Pos
	cred         cred // credential carried by base
}

// gitCfg is the git configuration that matters for credentials.
type gitCfg struct {
	rules []gitRule
	// helpers are credential helpers that hand out the job token, by host
	// name ("" = every host).
	helpers map[string]cred
}

func (g gitCfg) clone() gitCfg {
	h := make(map[string]cred, len(g.helpers))
	for k, v := range g.helpers {
		h[k] = v
	}
	return gitCfg{rules: append([]gitRule(nil), g.rules...), helpers: h}
}

// configOp is what a git config invocation does to a key.
type configOp int

const (
	opSet configOp = iota
	opAdd
	opUnset
	opRemoveSection
)

// configKey splits "section.subsection.name"; the subsection keeps its
// case and may hold dots (url.https://h/.insteadOf).
func configKey(k string) (section, sub, name string) {
	i, j := strings.IndexByte(k, '.'), strings.LastIndexByte(k, '.')
	switch {
	case i < 0:
		return strings.ToLower(k), "", ""
	case i == j:
		return strings.ToLower(k[:i]), "", strings.ToLower(k[i+1:])
	}
	return strings.ToLower(k[:i]), k[i+1 : j], strings.ToLower(k[j+1:])
}

// set applies one configuration change; it returns a note when the change
// sets up a credential that cannot work or goes to another host.
func (g *gitCfg) set(srv inventory.Server, op configOp, key, value string, pos loc.Pos) (use.NoteKind, string) {
	if op == opRemoveSection {
		section, sub := strings.ToLower(key), ""
		if i := strings.IndexByte(key, '.'); i >= 0 {
			section, sub = strings.ToLower(key[:i]), key[i+1:]
		}
		switch section {
		case "url":
			g.dropRules(func(r gitRule) bool { return r.base == sub })
		case "credential":
			delete(g.helpers, helperHost(sub))
		}
		return "", ""
	}
	section, sub, name := configKey(key)
	switch {
	case section == "url" && (name == "insteadof" || name == "pushinsteadof"):
		push := name == "pushinsteadof"
		if op != opAdd {
			g.dropRules(func(r gitRule) bool { return r.base == sub && r.push == push })
		}
		if op == opUnset {
			return "", ""
		}
		r := gitRule{base: sub, prefix: value, push: push, pos: pos}
		if u, ok := ParseURL(sub); ok && u.HasUser {
			r.cred = classifyUserPass(u.User, u.Password)
		}
		g.rules = append(g.rules, r)
		return setupNote(srv, sub, r.cred, "the insteadOf rule")
	case section == "credential" && name == "helper":
		h := helperHost(sub)
		if op == opUnset || value == "" {
			delete(g.helpers, h)
			return "", ""
		}
		cr := classifyHelper(value)
		if cr.kind == credNone {
			return "", ""
		}
		cr.pos, cr.via = pos, "credential helper set at "+at(pos)
		g.helpers[h] = cr
		if cr.kind == credWrongUser {
			return use.WontWork, "the credential helper: " + wrongUserText(cr.user)
		}
	}
	return "", ""
}

func (g *gitCfg) dropRules(drop func(gitRule) bool) {
	kept := g.rules[:0]
	for _, r := range g.rules {
		if !drop(r) {
			kept = append(kept, r)
		}
	}
	g.rules = kept
}

// helperHost is the host name of a credential.<url>.helper subsection.
func helperHost(sub string) string {
	if sub == "" {
		return ""
	}
	if u, ok := ParseURL(sub); ok {
		return hostname(u.Host)
	}
	return strings.ToLower(sub)
}

var helperUserRE = regexp.MustCompile(`username=([^"'\s;}\\]+)`)

// classifyHelper classifies a credential helper given inline
// ('!f() { echo username=gitlab-ci-token; echo "password=$CI_JOB_TOKEN"; }; f').
// The helper is a shell snippet run with the job's environment, so a
// literal $CI_JOB_TOKEN in it is expanded when git runs it.
func classifyHelper(v string) cred {
	if !HasJobToken(v) && !tokenRefRE.MatchString(v) {
		return cred{}
	}
	user := ""
	if m := helperUserRE.FindStringSubmatch(v); m != nil {
		user = m[1]
	}
	if user == inventory.JobTokenUser || strings.Contains(user, "CI_REGISTRY_USER") || strings.Contains(user, "CI_DEPENDENCY_PROXY_USER") {
		return cred{kind: credJobToken, user: inventory.JobTokenUser}
	}
	return cred{kind: credWrongUser, user: user}
}

// setupNote explains a credential set up for a host (insteadOf base,
// ~/.netrc machine) that cannot work or leaves this GitLab.
func setupNote(srv inventory.Server, rawURLOrHost string, cr cred, what string) (use.NoteKind, string) {
	host := rawHost(rawURLOrHost)
	known := UnknownReason(host) == ""
	on := known && OnServer(srv, host)
	switch cr.kind {
	case credJobToken, credWrongUser:
		if known && !on {
			return use.OtherHost, what + " sends the job token to " + strings.ToLower(host) + ", which is not this GitLab (a leak, not an access)"
		}
		if cr.kind == credWrongUser {
			return use.WontWork, what + ": " + wrongUserText(cr.user)
		}
	case credLiteral:
		if on {
			return use.WontWork, what + ": " + literalText
		}
	}
	return "", ""
}

// rewrite applies the longest matching insteadOf rule (pushInsteadOf
// first for pushes), as git does.
func (g gitCfg) rewrite(url string, push bool) (string, *gitRule) {
	var best *gitRule
	pick := func(wantPush bool) {
		for i := range g.rules {
			r := &g.rules[i]
			if r.push != wantPush || r.prefix == "" || !strings.HasPrefix(url, r.prefix) {
				continue
			}
			if best == nil || len(r.prefix) >= len(best.prefix) {
				best = r
			}
		}
	}
	if push {
		pick(true)
	}
	if best == nil {
		pick(false)
	}
	if best == nil {
		return url, nil
	}
	return best.base + strings.TrimPrefix(url, best.prefix), best
}

// ---- git invocations ---------------------------------------------------------

// gitCall is one git invocation: the subcommand, its arguments, the
// directory it runs in and configuration given for it alone.
type gitCall struct {
	sub  string
	args []shell.Word
	dir  string
	cfg  [][2]string // -c key=value and GIT_CONFIG_KEY_n/VALUE_n
}

func (st *jobState) parseGitCall(c *shell.Command) (gitCall, bool) {
	call := gitCall{dir: st.cwd}
	args := argv(c)[1:]
	for len(args) > 0 {
		a := args[0].Value
		switch {
		case a == "-c" && len(args) > 1:
			k, v, _ := strings.Cut(args[1].Value, "=")
			call.cfg = append(call.cfg, [2]string{k, v})
			args = args[2:]
		case a == "-C" && len(args) > 1:
			call.dir = st.in.resolvePath(c, call.dir, args[1].Value)
			args = args[2:]
		case a == "--git-dir" || a == "--work-tree" || a == "--namespace" || a == "--super-prefix" || a == "--config-env":
			if len(args) < 2 {
				return call, false
			}
			args = args[2:]
		case strings.HasPrefix(a, "-"):
			args = args[1:]
		default:
			call.sub, call.args = a, args[1:]
			if count := st.in.envValue(c, "GIT_CONFIG_COUNT"); count != "" {
				n, _ := strconv.Atoi(count) // 0 when malformed
				for i := 0; i < n && i < 64; i++ {
					k := st.in.envValue(c, "GIT_CONFIG_KEY_"+strconv.Itoa(i))
					call.cfg = append(call.cfg, [2]string{k, st.in.envValue(c, "GIT_CONFIG_VALUE_"+strconv.Itoa(i))})
				}
			}
			return call, true
		}
	}
	return call, false
}

// cfgFor is the git configuration one invocation at pos sees: the job's
// plus what the command line and GIT_CONFIG_* give it.
func (st *jobState) cfgFor(call gitCall, pos loc.Pos, extra ...[2]string) gitCfg {
	all := append(append([][2]string(nil), call.cfg...), extra...)
	if len(all) == 0 {
		return st.git
	}
	g := st.git.clone()
	for _, kv := range all {
		g.set(st.in.Server, opAdd, kv[0], kv[1], pos)
	}
	return g
}

var (
	cloneSpec = optSpec{value: opts("bocju", "branch", "origin", "depth", "reference", "reference-if-able", "config",
		"filter", "jobs", "separate-git-dir", "template", "upload-pack", "shallow-since", "shallow-exclude",
		"server-option", "bundle-uri", "ref-format", "revision")}
	fetchSpec = optSpec{value: opts("josX", "depth", "deepen", "shallow-since", "shallow-exclude", "jobs",
		"upload-pack", "server-option", "refmap", "negotiation-tip", "recurse-submodules-default", "strategy",
		"strategy-option", "filter", "sort", "receive-pack", "exec", "push-option", "repo")}
	remoteSpec    = optSpec{value: opts("tm", "mirror")}
	submoduleSpec = optSpec{value: opts("bj", "branch", "name", "reference", "depth", "jobs")}
	configSpec    = optSpec{value: opts("f", "file", "blob", "type", "default", "comment", "value")}
	initSpec      = optSpec{value: opts("b", "initial-branch", "template", "separate-git-dir", "object-format",
		"ref-format", "shared")}
	manifestSpec = optSpec{value: opts("umbg", "manifest-url", "manifest-branch", "mr", "manifest-rev", "groups",
		"depth", "reference")}
)

// applyGit records what a git command changes: configuration, clones and
// remotes.
func (st *jobState) applyGit(c *shell.Command) []stateNote {
	call, ok := st.parseGitCall(c)
	if !ok {
		return nil
	}
	switch call.sub {
	case "config":
		return st.applyGitConfig(c, call)
	case "clone":
		p := cloneSpec.parse(call.args)
		if len(p.pos) == 0 {
			return nil
		}
		url := p.pos[0].Value
		dir := humanish(url)
		if len(p.pos) > 1 {
			dir = p.pos[1].Value
		}
		key := st.in.resolvePath(c, call.dir, dir)
		origin := "origin"
		if o, ok := p.last("-o", "--origin"); ok {
			origin = o.Value
		}
		st.clones[key] = url
		st.remotes[key] = map[string]string{origin: url}
		st.remoteAt[key+"\x00"+origin] = "cloned at " + at(c.Pos)
	case "remote":
		p := remoteSpec.parse(call.args)
		if len(p.pos) == 0 {
			return nil
		}
		repo, _ := st.repoDir(call.dir)
		rs := st.remotes[repo]
		if rs == nil {
			rs = map[string]string{}
			st.remotes[repo] = rs
		}
		switch op := p.pos[0].Value; {
		case (op == "add" || op == "set-url") && len(p.pos) >= 3:
			rs[p.pos[1].Value] = p.pos[2].Value
			st.remoteAt[repo+"\x00"+p.pos[1].Value] = "set at " + at(c.Pos)
		case (op == "remove" || op == "rm") && len(p.pos) >= 2:
			rs[p.pos[1].Value] = "" // removed: the checkout's origin is gone too
		case op == "rename" && len(p.pos) >= 3:
			rs[p.pos[2].Value] = rs[p.pos[1].Value]
			rs[p.pos[1].Value] = ""
		}
	case "credential":
		// printf 'protocol=https\nhost=H\nusername=gitlab-ci-token\npassword=%s\n' "$CI_JOB_TOKEN" | git credential approve
		if len(call.args) > 0 && call.args[0].Value == "approve" {
			return st.approveCredential(c)
		}
	case "init":
		key := call.dir
		if ps := initSpec.parse(call.args).pos; len(ps) > 0 {
			key = st.in.resolvePath(c, call.dir, ps[0].Value)
		}
		if key != "" {
			st.clones[key] = ""
			st.remotes[key] = map[string]string{}
		}
	}
	return nil
}

// applyGitConfig handles "git config" in its old (--add, --unset) and new
// (set, unset) forms.
func (st *jobState) applyGitConfig(c *shell.Command, call gitCall) []stateNote {
	p := configSpec.parse(call.args)
	pos := p.pos
	op := opSet
	if len(pos) > 0 {
		switch pos[0].Value {
		case "set":
			pos = pos[1:]
		case "unset":
			op, pos = opUnset, pos[1:]
		case "remove-section":
			op, pos = opRemoveSection, pos[1:]
		case "get", "list", "edit", "rename-section":
			return nil
		}
	}
	switch {
	case p.has("--add", "--append"):
		op = opAdd
	case p.has("--unset", "--unset-all"):
		op = opUnset
	case p.has("--remove-section"):
		op = opRemoveSection
	case p.has("--get", "--get-all", "--get-regexp", "-l", "--list", "-e", "--edit", "--get-urlmatch", "--rename-section"):
		return nil
	}
	if len(pos) == 0 || (op == opSet || op == opAdd) && len(pos) < 2 {
		return nil
	}
	value := ""
	if len(pos) > 1 {
		value = pos[1].Value
	}
	kind, detail := st.git.set(st.in.Server, op, pos[0].Value, value, c.Pos)
	if kind == "" {
		return nil
	}
	return []stateNote{{family: "git", note: st.in.NoteAt(c, kind, detail+": "+CommandText(c))}}
}

// approveCredential records "git credential approve": the credential goes
// to the configured helper for the host it names.
func (st *jobState) approveCredential(c *shell.Command) []stateNote {
	o, _ := st.in.stdin(c, nil)
	text := o.value
	fields := map[string]string{}
	for _, line := range strings.Split(strings.NewReplacer(`\n`, "\n").Replace(text), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			fields[k] = v
		}
	}
	host := fields["host"]
	if u, ok := ParseURL(fields["url"]); ok && host == "" {
		host = u.Host
	}
	cr := classifyUserPass(fields["username"], fields["password"])
	if host == "" || cr.kind == credNone {
		return nil
	}
	cr.pos, cr.via = c.Pos, "credential approved at "+at(c.Pos)
	st.stored[hostname(strings.ToLower(host))] = cr
	if kind, detail := setupNote(st.in.Server, "https://"+host, cr, "git credential approve"); kind != "" {
		return []stateNote{{family: "git", note: st.in.NoteAt(c, kind, detail+": "+cmdLine(c))}}
	}
	return nil
}

// humanish is the directory git clone creates for url.
func humanish(url string) string {
	s := strings.TrimRight(url, "/")
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSuffix(s, ".git")
}

// gitVerdict is what a git URL amounts to.
type gitVerdict struct {
	use      bool
	target   use.Target
	via      string // where the credential was set up, "" when in the URL
	noteKind use.NoteKind
	note     string
}

// judgeGit decides whether fetching (or pushing to) raw sends the job
// token to a project of this GitLab.
func (st *jobState) judgeGit(cfg gitCfg, raw string, push bool) gitVerdict {
	srv := st.in.Server
	url, rule := cfg.rewrite(raw, push)
	u, ok := ParseURL(url)
	if !ok || (u.Scheme != "http" && u.Scheme != "https") {
		return gitVerdict{}
	}
	var cr cred
	if u.HasUser {
		cr = classifyUserPass(u.User, u.Password)
	}
	via := ""
	if rule != nil && rule.cred.kind != credNone {
		via = "credentials from the insteadOf rule set at " + at(rule.pos)
	}
	if cr.kind == credNone || cr.kind == credOther && u.Password == "" {
		// No password in the URL: git asks its credential helpers, and
		// curl reads ~/.netrc.
		cr = cred{}
		if hc, ok := st.hostCred(cfg, u.Host); ok {
			cr, via = hc, hc.via
		}
	}
	host := rawHost(url)
	unknown := UnknownReason(host)
	on := unknown == "" && OnServer(srv, u.Host)
	switch cr.kind {
	case credJobToken:
		t := projectTarget(srv, u)
		switch {
		case on:
			if !repoPath(t) {
				return gitVerdict{}
			}
			return gitVerdict{use: true, target: t, via: via}
		case unknown != "":
			t.Reference = stripUserinfo(url)
			t.Reason = "the host is not known: " + unknown
			return gitVerdict{use: true, target: t, via: via}
		case via == "":
			return gitVerdict{noteKind: use.OtherHost, note: "the job token is sent to " + strings.ToLower(host) + ", which is not this GitLab (a leak, not an access)"}
		}
	case credWrongUser:
		if via != "" {
			return gitVerdict{} // noted where it was set up
		}
		if on || unknown != "" {
			return gitVerdict{noteKind: use.WontWork, note: wrongUserText(cr.user)}
		}
		return gitVerdict{noteKind: use.OtherHost, note: "the job token is sent to " + strings.ToLower(host) + ", which is not this GitLab (a leak, not an access)"}
	case credLiteral:
		if on && via == "" {
			return gitVerdict{noteKind: use.WontWork, note: literalText}
		}
	case credOther:
		if on && via == "" {
			return gitVerdict{noteKind: use.NotJobToken, note: "the URL carries credentials that are not the job token (user " + redactUser(cr.user) + "): a personal, project or deploy token is not governed by the job token allowlist"}
		}
	}
	return gitVerdict{}
}

// projectTarget is the project a git URL names; a wiki repository
// ("group/project.wiki.git") belongs to its project.
func projectTarget(srv inventory.Server, u URL) use.Target {
	t := GitTarget(srv, u)
	if t.Reason == "" {
		t.Value = strings.TrimSuffix(t.Value, ".wiki")
	}
	return t
}

// repoPath reports whether t can name a project: two or more segments, or
// an unknown reference.
func repoPath(t use.Target) bool {
	return t.Reason != "" || strings.Count(strings.Trim(t.Value, "/"), "/") >= 1
}

// hostCred returns the credential set up earlier for host: a credential
// helper, ~/.git-credentials or ~/.netrc.
func (st *jobState) hostCred(cfg gitCfg, host string) (cred, bool) {
	h := hostname(strings.ToLower(host))
	for _, k := range []string{h, ""} {
		if c, ok := cfg.helpers[k]; ok {
			return c, true
		}
	}
	if c, ok := st.stored[h]; ok {
		return c, true
	}
	if c, ok := st.netrc[h]; ok {
		return c, true
	}
	if c, ok := st.netrc["*"]; ok {
		return c, true
	}
	return cred{}, false
}

// reportGit turns a verdict into a use (and for a push to another project
// a will-not-work note) or a note.
func (st *jobState) reportGit(out *Output, s site, v gitVerdict, k access.Kind, text string) {
	in := st.in
	switch {
	case v.use:
		out.Uses = append(out.Uses, in.useAtSite(s, k, v.target, detailVia(text, v.via)))
		if k == access.RepositoryWrite && v.target.Reason == "" && !isOwnPath(in.Caller.Path, v.target.Value) {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.WontWork,
				"git push to another project ("+v.target.Value+") with the job token: GitLab rejects it unless that project allows job-token pushes (feature flag and admin_repositories policy); use a deploy key or a project access token: "+text))
		}
	case v.noteKind != "":
		out.Notes = append(out.Notes, in.noteAtSite(s, v.noteKind, v.note+": "+text))
	}
}

// gitCommandUses reports clone, fetch, pull, ls-remote, push, remote add
// -f and submodule add.
func (st *jobState) gitCommandUses(out *Output, c *shell.Command) {
	call, ok := st.parseGitCall(c)
	if !ok {
		return
	}
	text := CommandText(c)
	cfg := st.cfgFor(call, c.Pos)
	switch call.sub {
	case "clone":
		p := cloneSpec.parse(call.args)
		if len(p.pos) == 0 {
			return
		}
		var extra [][2]string
		for _, w := range p.all("-c", "--config") {
			k, v, _ := strings.Cut(w.Value, "=")
			extra = append(extra, [2]string{k, v})
		}
		cfg = st.cfgFor(call, c.Pos, extra...)
		url := p.pos[0].Value
		v := st.judgeGit(cfg, url, false)
		st.reportGit(out, cmdSite(c), v, access.RepositoryRead, text)
		if v.use && v.target.Reason == "" && p.has("--recurse-submodules", "--recursive") {
			st.cloneSubmoduleUses(out, c, cfg, v.target.Value, url)
		}
	case "fetch", "pull", "ls-remote", "push":
		p := fetchSpec.parse(call.args)
		push := call.sub == "push"
		repo := ""
		if len(p.pos) > 0 {
			repo = p.pos[0].Value
		}
		if r, ok := p.last("--repo"); ok && push {
			repo = r.Value
		}
		url, via, ok := st.remoteURL(call.dir, repo)
		if !ok {
			return
		}
		k := access.RepositoryRead
		if push {
			k = access.RepositoryWrite
		}
		v := st.judgeGit(cfg, url, push)
		if via != "" && v.use {
			v.via = strings.TrimSuffix(via+"; "+v.via, "; ")
		}
		st.reportGit(out, cmdSite(c), v, k, text)
	case "remote":
		p := remoteSpec.parse(call.args)
		if len(p.pos) >= 3 && p.pos[0].Value == "add" && p.has("-f", "--fetch") {
			st.reportGit(out, cmdSite(c), st.judgeGit(cfg, p.pos[2].Value, false), access.RepositoryRead, text)
		}
	case "submodule":
		// submodule add clones the new submodule; update is the submodule
		// detector's.
		if len(call.args) == 0 || call.args[0].Value != "add" {
			return
		}
		p := submoduleSpec.parse(call.args[1:])
		if len(p.pos) == 0 {
			return
		}
		url := p.pos[0].Value
		if isRelativeURL(url) {
			base, ok := st.originURL(call.dir)
			if !ok {
				return
			}
			if url, ok = resolveRelativeURL(base, url); !ok {
				return
			}
		}
		st.reportGit(out, cmdSite(c), st.judgeGit(cfg, url, false), access.RepositoryRead, text)
	}
}

// remoteURL returns the URL a repository operand names in directory dir:
// a URL as is, or a remote defined earlier in the job (via says where).
// ok is false for the project's own checkout (whose origin is the project
// itself) and for remotes the job never defined.
func (st *jobState) remoteURL(dir, repo string) (url, via string, ok bool) {
	if strings.Contains(repo, "://") || strings.HasPrefix(repo, "git@") {
		return repo, "", true
	}
	if repo == "" {
		repo = "origin"
	}
	key, ok := st.repoDir(dir)
	if !ok {
		return "", "", false
	}
	url = st.remotes[key][repo]
	if url == "" {
		return "", "", false
	}
	return url, "remote " + repo + " " + st.remoteAt[key+"\x00"+repo], true
}

// originURL is the origin remote of the repository at dir: the project's
// own clone URL (CI_REPOSITORY_URL, which carries the job token) unless
// the job cloned another repository there or changed origin.
func (st *jobState) originURL(dir string) (string, bool) {
	key, ok := st.repoDir(dir)
	if !ok {
		return "", false
	}
	if u, set := st.remotes[key]["origin"]; set {
		return u, u != ""
	}
	if key != "" {
		return "", false
	}
	u := st.in.envValue(nil, "CI_REPOSITORY_URL")
	return u, u != ""
}

// ---- credential files ------------------------------------------------------

// netrcNotes explains ~/.netrc entries changed by c that cannot work or
// send the token elsewhere.
func (st *jobState) netrcNotes(c *shell.Command, old map[string]cred) []stateNote {
	var notes []stateNote
	for _, h := range sortedKeys(st.netrc) {
		cr := st.netrc[h]
		if o, ok := old[h]; ok && o.kind == cr.kind && o.user == cr.user {
			continue
		}
		host, what := h, "~/.netrc (machine "+h+")"
		if h == "*" {
			// The default entry serves every host without its own entry,
			// this GitLab included.
			host, what = st.in.Server.FQDN, "~/.netrc (default entry)"
		}
		if kind, detail := setupNote(st.in.Server, "https://"+host, cr, what); kind != "" {
			notes = append(notes, stateNote{family: "git", note: st.in.NoteAt(c, kind, detail+": "+cmdLine(c))})
		}
	}
	return notes
}

// parseGitCredentials reads ~/.git-credentials (one URL per line).
func parseGitCredentials(s string, pos loc.Pos) map[string]cred {
	out := map[string]cred{}
	for _, line := range strings.Split(strings.ReplaceAll(s, `\n`, "\n"), "\n") {
		u, ok := ParseURL(strings.TrimSpace(line))
		if !ok || !u.HasUser {
			continue
		}
		cr := classifyUserPass(u.User, u.Password)
		if cr.kind == credNone {
			continue
		}
		cr.pos, cr.via = pos, "credentials from ~/.git-credentials written at "+at(pos)
		out[hostname(u.Host)] = cr
	}
	return out
}

// ---- VCS dependency URLs (P10) -----------------------------------------------

// vcsTools are package managers that clone "git+https://..." dependencies
// with git.
var vcsTools = setOf("pip", "pip3", "pipx", "uv", "uvx", "poetry", "pdm", "pipenv", "npm", "npx", "pnpm", "pnpx",
	"yarn", "bun", "bunx", "nix", "ansible-galaxy", "cargo")

// isPythonPip reports "python -m pip" (or pip3, pipx).
func isPythonPip(c *shell.Command) bool {
	m, _, ok := pythonModule(argv(c))
	return ok && strings.HasPrefix(m, "pip")
}

// gitPlusRE finds VCS URLs in requirement strings:
// "git+https://...", "name @ git+ssh://...", "-e git+https://...#egg=x".
var gitPlusRE = regexp.MustCompile(`git\+([a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+)`)

// vcsURL strips a requirement's ref ("@main" in pip's path, "#lib" in npm's).
func vcsURL(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if slash := strings.IndexByte(rest, '/'); slash >= 0 {
			if at := strings.IndexByte(rest[slash:], '@'); at >= 0 {
				s = s[:i+3+slash+at]
			}
		}
	}
	return s
}

// vcsUses reports VCS dependency URLs on a package manager's command line,
// in requirements files it reads (-r) and in package.json for installs.
func (st *jobState) vcsUses(out *Output, c *shell.Command) {
	text := CommandText(c)
	cfg := st.git
	found := false
	ws := argv(c)
	name := cmdBase(ws[0].Value)
	for i, a := range ws[1:] {
		for _, m := range gitPlusRE.FindAllStringSubmatch(a.Value, -1) {
			found = true
			st.reportGit(out, cmdSite(c), st.judgeGit(cfg, vcsURL(m[1]), false), access.RepositoryRead, text)
		}
		if name == "cargo" && a.Value == "--git" && i+2 < len(ws) {
			found = true
			st.reportGit(out, cmdSite(c), st.judgeGit(cfg, ws[i+2].Value, false), access.RepositoryRead, text)
		}
	}
	for i := 1; i < len(ws); i++ {
		a := ws[i].Value
		var file string
		switch {
		case (a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint") && i+1 < len(ws):
			file = ws[i+1].Value
			i++
		case strings.HasPrefix(a, "--requirement="), strings.HasPrefix(a, "--constraint="):
			_, file, _ = strings.Cut(a, "=")
		case strings.HasPrefix(a, "-r") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			file = a[2:]
		}
		if file == "" {
			continue
		}
		if f, ok := st.repoFile(c, file); ok {
			if name == "ansible-galaxy" {
				st.galaxyUses(out, c, cfg, f)
			} else {
				st.requirementsUses(out, c, cfg, f, 0)
			}
		}
	}
	if !found && isNodeInstall(ws) {
		st.packageJSONUses(out, c, cfg)
	}
}

// requirementsUses reports VCS URLs in a pip requirements file. pip expands
// ${VAR} (only that form) from the environment.
func (st *jobState) requirementsUses(out *Output, c *shell.Command, cfg gitCfg, file string, depth int) {
	b, fsite, err := st.readTree(file)
	if err != nil || depth > maxRequirementDepth {
		return
	}
	e := st.in.envOf(c)
	for _, l := range requirementsLines(string(b)) {
		line := expandBraced(l.text, e)
		if f, ok := requirementsInclude(file, line); ok {
			st.requirementsUses(out, c, cfg, f, depth+1)
			continue
		}
		for _, m := range gitPlusRE.FindAllStringSubmatch(line, -1) {
			s := fsite
			s.line = l.n
			detail := l.text + " (installed by " + strings.Join(strings.Fields(CommandText(c)), " ") + " at " + at(c.Pos) + ")"
			st.reportGit(out, s, st.judgeGit(cfg, vcsURL(m[1]), false), access.RepositoryRead, detail)
		}
	}
}

// galaxySrcRE finds "src:" entries of an ansible-galaxy requirements file.
var galaxySrcRE = regexp.MustCompile(`^\s*(?:-\s*)?src:\s*["']?([^"'\s]+)`)

// galaxyUses reports git roles of an ansible-galaxy requirements file
// (P09). ansible-galaxy does not expand environment variables, so a
// ${CI_JOB_TOKEN} in the file is sent as written unless the job ran
// envsubst on it; host credentials (~/.netrc, insteadOf) still apply.
func (st *jobState) galaxyUses(out *Output, c *shell.Command, cfg gitCfg, file string) {
	b, fsite, err := st.readTree(file)
	if err != nil {
		return
	}
	for i, line := range strings.Split(string(b), "\n") {
		m := galaxySrcRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		url, _, _ := strings.Cut(strings.TrimPrefix(m[1], "git+"), ",")
		if !strings.Contains(url, "://") && !strings.HasPrefix(url, "git@") {
			continue // a Galaxy role name
		}
		s := fsite
		s.line = i + 1
		detail := strings.TrimSpace(line) + " (installed by " + CommandText(c) + " at " + at(c.Pos) + ")"
		st.reportGit(out, s, st.judgeGit(cfg, url, false), access.RepositoryRead, detail)
	}
}

func isNodeInstall(ws []shell.Word) bool {
	name := cmdBase(ws[0].Value)
	switch name {
	case "npm", "pnpm", "yarn", "bun":
	default:
		return false
	}
	if len(ws) == 1 {
		return name == "yarn"
	}
	switch ws[1].Value {
	case "install", "i", "ci", "add":
		for _, a := range ws[2:] {
			if !strings.HasPrefix(a.Value, "-") {
				return false // installs named packages, not package.json
			}
		}
		return true
	}
	return false
}

// packageJSONUses reports git dependencies of the package.json in the
// command's directory.
func (st *jobState) packageJSONUses(out *Output, c *shell.Command, cfg gitCfg) {
	file, ok := st.repoFile(c, "package.json")
	if !ok {
		return
	}
	b, fsite, err := st.readTree(file)
	if err != nil {
		return
	}
	for i, line := range strings.Split(string(b), "\n") {
		for _, m := range gitPlusRE.FindAllStringSubmatch(line, -1) {
			detail := strings.TrimSpace(line) + " (installed by " + CommandText(c) + " at " + at(c.Pos) + ")"
			s := fsite
			s.line = i + 1
			st.reportGit(out, s, st.judgeGit(cfg, vcsURL(m[1]), false), access.RepositoryRead, detail)
		}
	}
}

// manifestUses reports the manifest repository of "repo init -u URL" and
// "west init -m URL" (P09); the projects the manifest lists are fetched
// later and are not visible here.
func (st *jobState) manifestUses(out *Output, c *shell.Command) {
	ws := argv(c)
	if len(ws) < 2 || ws[1].Value != "init" {
		return
	}
	p := manifestSpec.parse(ws[2:])
	names := []string{"-u", "--manifest-url"}
	if cmdBase(ws[0].Value) == "west" {
		names = []string{"-m", "--manifest-url"}
	}
	if w, ok := p.last(names...); ok {
		st.reportGit(out, cmdSite(c), st.judgeGit(st.git, w.Value, false), access.RepositoryRead, CommandText(c))
	}
}

// ---- Go modules (P28) --------------------------------------------------------

// applyGoEnv records "go env -w K=V".
func (st *jobState) applyGoEnv(c *shell.Command) {
	ws := argv(c)
	if len(ws) < 3 || ws[1].Value != "env" || ws[2].Value != "-w" {
		return
	}
	for _, a := range ws[3:] {
		if k, v, ok := strings.Cut(a.Value, "="); ok {
			st.goEnv[k] = v
		}
	}
}

func (st *jobState) goSetting(c *shell.Command, name string) string {
	if v, ok := st.goEnv[name]; ok {
		return v
	}
	return st.in.envValue(c, name)
}

// goFetchesDirect reports whether go fetches mod from its origin (with
// git and the host credentials) rather than from a module proxy: GOPRIVATE
// or GONOPROXY match, or GOPROXY falls back to "direct" (the default
// "https://proxy.golang.org,direct" does for private modules, which the
// proxy cannot see).
func (st *jobState) goFetchesDirect(c *shell.Command, mod string) bool {
	proxy := st.goSetting(c, "GOPROXY")
	if proxy == "off" {
		return false
	}
	for _, name := range []string{"GONOPROXY", "GOPRIVATE"} {
		if goGlobMatch(st.goSetting(c, name), mod) {
			return true
		}
	}
	if proxy == "" {
		return true
	}
	for _, p := range strings.FieldsFunc(proxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if p == "direct" {
			return true
		}
	}
	return false
}

// goGlobMatch matches GOPRIVATE-style patterns against path prefixes.
func goGlobMatch(patterns, mod string) bool {
	segs := strings.Split(mod, "/")
	for _, p := range strings.Split(patterns, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n := strings.Count(p, "/") + 1
		if n > len(segs) {
			continue
		}
		if ok, _ := path.Match(p, strings.Join(segs[:n], "/")); ok {
			return true
		}
	}
	return false
}

// goLoads are go subcommands that download missing modules of go.mod.
var goLoads = setOf("build", "test", "run", "vet", "list", "install", "generate", "get")

// goUses reports Go modules on this GitLab fetched with host credentials:
// named on the command line (go get/install/run x@v), or required by
// go.mod when a command loads the module graph.
func (st *jobState) goUses(out *Output, c *shell.Command, seen map[string]bool) {
	ws := argv(c)
	if len(ws) < 2 {
		return
	}
	sub := ws[1].Value
	rest := ws[2:]
	if sub == "mod" {
		if len(rest) == 0 {
			return
		}
		switch rest[0].Value {
		case "download", "tidy", "vendor", "graph", "verify", "why":
		default:
			return
		}
		sub, rest = "mod "+rest[0].Value, rest[1:]
	} else if !goLoads[sub] {
		return
	}
	var named []string
	for _, a := range rest {
		v := a.Value
		if strings.HasPrefix(v, "-") || strings.HasPrefix(v, ".") || strings.HasPrefix(v, "/") {
			continue
		}
		if sub == "get" || strings.Contains(v, "@") || sub == "mod download" {
			named = append(named, v)
		}
	}
	text := CommandText(c)
	if len(named) > 0 {
		for _, m := range named {
			m, _, _ = strings.Cut(m, "@")
			st.goModuleUse(out, cmdSite(c), c, m, text)
		}
		return
	}
	flags := st.goSetting(c, "GOFLAGS")
	modFile, ok := st.repoFile(c, "go.mod")
	if !ok {
		return
	}
	if goLoads[sub] && sub != "get" && (strings.Contains(flags, "-mod=vendor") || st.hasRepoFile(path.Join(path.Dir(modFile), "vendor/modules.txt"))) {
		return
	}
	if seen[modFile] {
		return
	}
	b, fsite, err := st.readTree(modFile)
	if err != nil {
		return
	}
	seen[modFile] = true
	for _, r := range goRequires(string(b)) {
		detail := "require " + r.mod + " " + r.version + " (fetched by " + text + " at " + at(c.Pos) + ")"
		s := fsite
		s.line = r.line
		st.goModuleUse(out, s, c, r.mod, detail)
	}
}

func (st *jobState) hasRepoFile(name string) bool {
	_, _, err := st.readTree(name)
	return err == nil
}

// goModuleUse reports one module if it lives on this GitLab and is fetched
// directly with credentials that carry the job token.
func (st *jobState) goModuleUse(out *Output, s site, c *shell.Command, mod, detail string) {
	host, _, _ := strings.Cut(mod, "/")
	if !OnServer(st.in.Server, host) || !st.goFetchesDirect(c, mod) {
		return
	}
	url := "https://" + host + "/" + st.goProject(strings.TrimPrefix(mod, host+"/")) + ".git"
	v := st.judgeGit(st.git, url, false)
	if !v.use {
		return // without job-token credentials go fetches anonymously
	}
	st.reportGit(out, s, v, access.RepositoryRead, detail)
}

var majorRE = regexp.MustCompile(`/v[0-9]+$`)

// goProject maps a module path (without host) to the project path: up to
// ".git" when present, without a major-version suffix, and the longest
// prefix whose files are in the snapshot when the module sits in a
// subdirectory.
func (st *jobState) goProject(p string) string {
	if i := strings.Index(p, ".git"); i >= 0 && (i+4 == len(p) || p[i+4] == '/') {
		return p[:i]
	}
	p = majorRE.ReplaceAllString(p, "")
	if st.in.Files != nil && !st.in.Files.HasFiles(p) {
		for q := path.Dir(p); strings.Contains(q, "/"); q = path.Dir(q) {
			if st.in.Files.HasFiles(q) {
				return q
			}
		}
	}
	return p
}

type goRequire struct {
	mod, version string
	line         int
}

// goRequires reads the require directives of a go.mod file (gomod.go).
func goRequires(s string) []goRequire { return goModRequires("go.mod", []byte(s)) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
