package detect

// Git configuration of the git family: insteadOf rules and credential
// helpers a job sets up, and how they rewrite and authenticate URLs.

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

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
