package detect

import (
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
func (d gitDetector) Detect(in *Input, out *Output) { replay{d}.Detect(in, out) }

func (gitDetector) stateNotes() string { return "git" }

func (gitDetector) start(in *Input, out *Output) func(*shell.Command, *jobState) {
	if len(in.Commands) == 0 {
		return nil
	}
	// The Go modules already reported for the job.
	goSeen := map[string]bool{}
	return func(c *shell.Command, st *jobState) { st.gitUses(out, c, goSeen) }
}

// gitState is what earlier commands of a job leave for git: its
// configuration and credentials, clones and remotes, and Go settings.
type gitState struct {
	git     gitCfg
	netrc   map[string]cred   // host name -> credential, from ~/.netrc
	stored  map[string]cred   // host name -> credential, from ~/.git-credentials
	clones  map[string]string // directory -> origin URL as written
	remotes map[string]map[string]string
	// remoteAt says where a remote was defined, by repository and name.
	remoteAt map[string]string
	goEnv    map[string]string
}

func newGitState() gitState {
	return gitState{
		git:      gitCfg{helpers: map[string]cred{}},
		netrc:    map[string]cred{},
		stored:   map[string]cred{},
		clones:   map[string]string{},
		remotes:  map[string]map[string]string{},
		remoteAt: map[string]string{},
		goEnv:    map[string]string{},
	}
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
			call.cfg = append(call.cfg, st.configFileSettings(c)...)
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
