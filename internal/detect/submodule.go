package detect

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// submoduleDetector finds submodules fetched with the job token: by the
// runner when the job's GIT_SUBMODULE_STRATEGY is normal or recursive
// (P07), and by "git submodule update" in a script (P08).
//
// The runner clones submodules with the job's credentials: relative URLs
// resolve against the superproject's clone URL, which carries the token,
// and absolute https URLs on this GitLab get it through an insteadOf rule
// the runner passes to git; git@/ssh URLs get it only with
// GIT_SUBMODULE_FORCE_HTTPS (runner 15.11+). Sources: https://gitlab.com/gitlab-org/gitlab-runner/-/issues/35990 (the
// runner's insteadOf rewrite in a job log); https://docs.gitlab.com/ci/runners/git_submodules/ ("Using absolute
// URLs": no extra variables are needed for same-host https URLs);
// https://docs.gitlab.com/ci/jobs/ci_job_token/ (the submodule project must allowlist the
// superproject).
//
// In scripts the fetch happens at "git submodule update" (and at "git
// clone --recurse-submodules", which the git detector reports); "git
// submodule sync" only rewrites configuration and reaches nothing.
type submoduleDetector struct{}

// Name implements Detector.
func (submoduleDetector) Name() string { return "submodule" }

// maxSubmoduleDepth bounds recursive submodules (and cycles between
// projects that include each other).
const maxSubmoduleDepth = 6

// Detect implements Detector.
func (d submoduleDetector) Detect(in *Input, out *Output) { replay{d}.Detect(in, out) }

func (submoduleDetector) stateNotes() string { return "" }

func (submoduleDetector) start(in *Input, out *Output) func(*shell.Command, *jobState) {
	runnerSubmodules(in, out)
	if len(in.Commands) == 0 {
		return nil
	}
	return func(c *shell.Command, st *jobState) { st.submoduleUpdateUses(out, c) }
}

// gitmodule is one [submodule] section of .gitmodules.
type gitmodule struct {
	name, path, url string
	line            int // the url line
}

// parseGitmodules reads .gitmodules (git config syntax).
func parseGitmodules(b []byte) []gitmodule {
	var out []gitmodule
	var cur *gitmodule
	flush := func() {
		if cur != nil && cur.url != "" {
			out = append(out, *cur)
		}
	}
	for i, line := range strings.Split(string(b), "\n") {
		if i >= 20000 {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			flush()
			cur = nil
			head := strings.Trim(line, "[]")
			sec, name, _ := strings.Cut(head, " ")
			if strings.EqualFold(sec, "submodule") {
				cur = &gitmodule{name: strings.Trim(strings.TrimSpace(name), `"`)}
			}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "path":
			cur.path = v
		case "url":
			cur.url, cur.line = v, i+1
		}
	}
	flush()
	return out
}

// pathFilter implements GIT_SUBMODULE_PATHS: space-separated pathspecs,
// ":(exclude)p" and ":!p" excluding.
func pathFilter(spec string) func(string) bool {
	var inc, exc []string
	for _, f := range strings.Fields(spec) {
		switch {
		case strings.HasPrefix(f, ":(exclude)"):
			exc = append(exc, strings.TrimPrefix(f, ":(exclude)"))
		case strings.HasPrefix(f, ":!"):
			exc = append(exc, strings.TrimPrefix(f, ":!"))
		default:
			inc = append(inc, f)
		}
	}
	match := func(pats []string, p string) bool {
		for _, pat := range pats {
			pat = strings.TrimSuffix(pat, "/")
			if ok, _ := path.Match(pat, p); ok || p == pat || strings.HasPrefix(p, pat+"/") {
				return true
			}
		}
		return false
	}
	return func(p string) bool {
		if len(inc) > 0 && !match(inc, p) {
			return false
		}
		return !match(exc, p)
	}
}

// noCheckout reports a GIT_STRATEGY that leaves no repository: none, and
// empty (runner 17.3+, gitlab-runner MR !4889: an empty build directory;
// job logs say "Skipping Git submodules setup").
func (in *Input) noCheckout() bool {
	switch strings.ToLower(strings.TrimSpace(in.envValue(nil, "GIT_STRATEGY"))) {
	case "none", "empty":
		return true
	}
	return false
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// runnerSubmodules reports the submodules the runner fetches before the
// job's scripts run.
func runnerSubmodules(in *Input, out *Output) {
	strategy := strings.ToLower(strings.TrimSpace(in.envValue(nil, "GIT_SUBMODULE_STRATEGY")))
	if strategy != "normal" && strategy != "recursive" || in.noCheckout() {
		return
	}
	base := in.envValue(nil, "CI_REPOSITORY_URL")
	if base == "" {
		return
	}
	forceHTTPS := isTrue(in.envValue(nil, "GIT_SUBMODULE_FORCE_HTTPS"))
	filter := pathFilter(in.envValue(nil, "GIT_SUBMODULE_PATHS"))
	why := "GIT_SUBMODULE_STRATEGY=" + strategy
	seen := map[string]bool{strings.ToLower(in.Caller.Path): true}
	var walk func(project, base string, depth int)
	walk = func(project, base string, depth int) {
		b, err := in.readFile(project, ".gitmodules")
		if err != nil {
			return
		}
		for _, m := range parseGitmodules(b) {
			if depth == 0 && !filter(m.path) {
				continue
			}
			s := site{file: ".gitmodules", line: m.line}
			if project != in.Caller.Path {
				s.project = project
			}
			detail := "submodule " + m.name + ": url = " + m.url + " (fetched by the runner, " + why + ")"
			t, next, ok := runnerSubmoduleTarget(in, out, s, m.url, base, forceHTTPS, detail)
			if !ok {
				continue
			}
			out.Uses = append(out.Uses, in.useAtSite(s, access.RepositoryRead, t, detail))
			if strategy == "recursive" && t.Reason == "" && depth+1 < maxSubmoduleDepth && !seen[strings.ToLower(t.Value)] {
				seen[strings.ToLower(t.Value)] = true
				walk(t.Value, next, depth+1)
			}
		}
	}
	walk(in.Caller.Path, base, 0)
}

// runnerSubmoduleTarget decides what the runner does with one submodule
// URL; it appends a note and returns ok false when the fetch does not
// carry the job token to a project of this GitLab.
func runnerSubmoduleTarget(in *Input, out *Output, s site, url, base string, forceHTTPS bool, detail string) (use.Target, string, bool) {
	srv := in.Server
	resolved := url
	if isRelativeURL(url) {
		r, ok := resolveRelativeURL(base, url)
		if !ok {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.ConfigWarning, "the relative submodule URL climbs above the server root: "+detail))
			return use.Target{}, "", false
		}
		resolved = r
	}
	u, ok := ParseURL(resolved)
	if !ok {
		return use.Target{}, "", false // a local path: nothing is fetched over the network
	}
	if UnknownReason(rawHost(resolved)) != "" || !OnServer(srv, u.Host) {
		if UnknownReason(rawHost(resolved)) == "" {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.OtherHost, "the submodule is on "+strings.ToLower(hostname(u.Host))+", not this GitLab; the runner fetches it without the job token: "+detail))
		}
		return use.Target{}, "", false
	}
	switch {
	case isRelativeURL(url):
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Scheme != srv.Protocol {
			return use.Target{}, "", false // the runner's insteadOf rule covers the server's own scheme only
		}
	case forceHTTPS:
	default:
		out.Notes = append(out.Notes, in.noteAtSite(s, use.NotJobToken, "the submodule URL uses SSH: the runner fetches it with SSH keys, not the job token (GIT_SUBMODULE_FORCE_HTTPS: \"true\" would use the job token): "+detail))
		return use.Target{}, "", false
	}
	t := GitTarget(srv, u)
	if !repoPath(t) {
		return use.Target{}, "", false
	}
	next := srv.Protocol + "://" + inventory.JobTokenUser + ":" + inventory.JobToken + "@" + srv.FQDN + "/" + t.Value + ".git"
	return t, next, true
}

var submoduleUpdateSpec = optSpec{value: opts("j", "reference", "depth", "jobs", "filter")}

// submoduleUpdateUses reports "git submodule update" in a script: the
// submodules of the repository it runs in, fetched with the credentials in
// place (relative URLs inherit the origin URL, which for the project's own
// checkout carries the job token).
func (st *jobState) submoduleUpdateUses(out *Output, c *shell.Command) {
	if cmdName(c) != "git" {
		return
	}
	call, ok := st.parseGitCall(c)
	if !ok || call.sub != "submodule" {
		return
	}
	args := call.args
	for len(args) > 0 && strings.HasPrefix(args[0].Value, "-") {
		args = args[1:] // git submodule --quiet update
	}
	if len(args) == 0 || args[0].Value != "update" {
		return
	}
	p := submoduleUpdateSpec.parse(args[1:])
	key, ok := st.repoDir(call.dir)
	if !ok {
		return
	}
	project := st.in.Caller.Path
	if key == "" && st.in.noCheckout() {
		return // no checkout
	}
	base, ok := st.originURL(call.dir)
	if !ok {
		return
	}
	cfg := st.cfgFor(call, c.Pos)
	if key != "" {
		v := st.judgeGit(cfg, base, false)
		if v.target.Reason != "" || v.target.Value == "" {
			u, ok := ParseURL(base)
			if !ok || !OnServer(st.in.Server, u.Host) {
				return
			}
			v.target = GitTarget(st.in.Server, u)
		}
		project = v.target.Value
	}
	var filter func(string) bool
	if len(p.pos) > 0 {
		var specs []string
		for _, w := range p.pos {
			specs = append(specs, w.Value)
		}
		filter = pathFilter(strings.Join(specs, " "))
	}
	st.submoduleFetches(out, c, cfg, project, base, p.has("--recursive"), filter)
}

// cloneSubmoduleUses reports the submodules "git clone --recurse-submodules"
// fetches, when the cloned project's files are in the snapshot.
func (st *jobState) cloneSubmoduleUses(out *Output, c *shell.Command, cfg gitCfg, project, url string) {
	st.submoduleFetches(out, c, cfg, project, url, true, nil)
}

// submoduleFetches judges each submodule of project (recursively when
// deep) with the job's credentials, reporting at command c.
func (st *jobState) submoduleFetches(out *Output, c *shell.Command, cfg gitCfg, project, base string, deep bool, filter func(string) bool) {
	seen := map[string]bool{strings.ToLower(project): true}
	text := CommandText(c)
	var walk func(project, base string, depth int)
	walk = func(project, base string, depth int) {
		b, err := st.in.readFile(project, ".gitmodules")
		if err != nil {
			return
		}
		for _, m := range parseGitmodules(b) {
			if depth == 0 && filter != nil && !filter(m.path) {
				continue
			}
			url := m.url
			if isRelativeURL(url) {
				r, ok := resolveRelativeURL(base, url)
				if !ok {
					continue
				}
				url = r
			}
			where := project + "/.gitmodules:" + itoa(m.line)
			if project == st.in.Caller.Path {
				where = ".gitmodules:" + itoa(m.line)
			}
			detail := text + ": submodule " + m.name + " (" + where + ", url = " + m.url + ")"
			v := st.judgeGit(cfg, url, false)
			st.reportGit(out, cmdSite(c), v, access.RepositoryRead, detail)
			if deep && v.use && v.target.Reason == "" && depth+1 < maxSubmoduleDepth && !seen[strings.ToLower(v.target.Value)] {
				seen[strings.ToLower(v.target.Value)] = true
				walk(v.target.Value, url, depth+1)
			}
		}
	}
	walk(project, base, 0)
}
