package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// tokensDetector notes GitLab API and package access that looks
// cross-project but is not authenticated with the job token
// (docs/patterns.md §3.2): PRIVATE-TOKEN and Deploy-Token headers, bearer
// tokens, "__token__:${PAT}@" and other user info on /api/v4/ URLs, trigger
// tokens ("-F token=$TRIGGER_TOKEN", glptt-…) and private_token
// parameters. These are never edges: the callee's job token allowlist does
// not govern them. One note per command; the job's own project is skipped.
// Credentials in repository URLs ("oauth2:${PAT}@host/group/p.git") are the
// git detector's, so each command gets one note.
type tokensDetector struct{}

func (tokensDetector) Name() string { return "tokens" }

func (tokensDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	for _, c := range in.Commands {
		if why, ok := in.otherToken(c); ok {
			out.Notes = append(out.Notes, in.NoteAt(c, use.NotJobToken, why+"; the job token allowlist does not govern it: "+CommandText(c)))
		}
	}
}

// otherToken explains the first non-job-token credential a command sends
// to this GitLab server, if any.
func (in *Input) otherToken(c *shell.Command) (string, bool) {
	ws := argv(c)
	if nameOf(c, ws) == "git" {
		// Git transport, including its credentials, is the git detector's.
		return "", false
	}
	for _, w := range ws {
		if HasJobToken(w.Value) {
			// The job token is in play; the api/git detectors judge it.
			return "", false
		}
	}
	var r request
	isHTTP := true
	switch nameOf(c, ws) {
	case "curl":
		r = parseCurl(ws[1:])
	case "wget":
		r = parseWget(ws[1:])
	case "http", "https", "xh", "xhs":
		r = parseHTTPie(nameOf(c, ws), ws[1:])
	default:
		isHTTP = false
	}
	if !isHTTP {
		r.urls = embeddedURLs(ws[1:])
	}
	trigger, ok := in.gitlabTarget(r.urls)
	if !ok {
		return "", false
	}
	if isHTTP {
		if why := headerToken(r.headers); why != "" {
			return why, true
		}
		for _, f := range r.fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok || v == "" {
				continue
			}
			switch strings.TrimSpace(k) {
			case "token":
				if trigger {
					return "a pipeline trigger token (" + secretName(v) + ") is sent to the trigger API", true
				}
			case "private_token":
				return "a personal/project access token (" + secretName(v) + ") is sent as private_token", true
			}
		}
		if r.user != nil && r.user.Secret != "" {
			return "basic auth as " + r.user.User + " with " + secretName(r.user.Secret) + " (not the job token)", true
		}
	}
	for _, w := range r.urls {
		u, ok := ParseURL(w.Value)
		// Repository URLs (git+https://…, …/group/project.git) belong to
		// the git detector; API and package endpoints are judged here.
		if !ok || !in.onGitLab(u) || !strings.Contains(u.Path, "/api/v4/") || strings.HasPrefix(u.Scheme, "git+") {
			continue
		}
		if u.Password != "" || (u.HasUser && u.User != "" && u.User != "git" && strings.HasPrefix(u.Scheme, "http")) {
			if u.Password == "" {
				return "the URL carries credentials for user " + u.User + " (not the job token)", true
			}
			kind := "a personal, project or deploy token"
			if u.User == "oauth2" {
				kind = "an OAuth or personal access token"
			}
			return "the URL authenticates as " + u.User + " with " + secretName(u.Password) + ", " + kind + ", not the job token", true
		}
		for _, p := range []string{"private_token", "access_token"} {
			if v := u.QueryValue(p); v != "" {
				return "a personal/project access token (" + secretName(v) + ") is passed as " + p, true
			}
		}
		if v := u.QueryValue("token"); v != "" && trigger {
			return "a pipeline trigger token (" + secretName(v) + ") is sent to the trigger API", true
		}
	}
	return "", false
}

// headerToken explains a token header that is not the job token.
func headerToken(headers []string) string {
	for _, h := range headers {
		name, val, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "private-token", "private_token":
			return "PRIVATE-TOKEN header (" + secretName(val) + "): a personal, project or group access token"
		case "deploy-token":
			return "Deploy-Token header (" + secretName(val) + "): a deploy token"
		case "authorization":
			f := strings.Fields(val)
			if len(f) == 2 && strings.EqualFold(f[0], "bearer") {
				return "Authorization: Bearer (" + secretName(f[1]) + "): an OAuth or access token"
			}
		}
	}
	return ""
}

// secretName shows which variable held a secret, never its value.
func secretName(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "${") || strings.HasPrefix(v, "$") {
		return v
	}
	// Name the token type by its prefix without echoing any of it.
	for prefix, kind := range map[string]string{"glptt-": "a literal trigger token", "glpat-": "a literal personal access token", "gldt-": "a literal deploy token"} {
		if strings.HasPrefix(v, prefix) {
			return kind
		}
	}
	return "a literal value"
}

// gitlabTarget reports whether any URL goes to another project on this
// GitLab server (or to its API through an unexpanded host), and whether
// one is the pipeline trigger API.
func (in *Input) gitlabTarget(urls []shell.Word) (trigger, ok bool) {
	for _, w := range urls {
		u, parsed := ParseURL(w.Value)
		if !parsed && strings.HasPrefix(w.Value, "$") && strings.Contains(w.Value, "/api/v4/") {
			// "${GITLAB_URL}/api/v4/projects/…": GitLab's API on a host the
			// YAML does not name.
			trigger = trigger || strings.Contains(w.Value, "/trigger/pipeline")
			ok = true
			continue
		}
		if !parsed || !in.onGitLab(u) {
			continue
		}
		if strings.Contains(u.Path, "/trigger/pipeline") {
			trigger = true
		}
		var t use.Target
		if ep, isAPI := ClassifyAPI(in.Server, u, "GET"); isAPI {
			t = ep.Target
		} else {
			t = GitTarget(in.Server, u)
		}
		if in.isOwn(t) {
			continue
		}
		ok = true
	}
	return trigger, ok
}

// embeddedURLs returns the URLs inside words ("--index-url=https://…",
// "url=https://…"): from the scheme on.
func embeddedURLs(ws []shell.Word) []shell.Word {
	var out []shell.Word
	for _, w := range ws {
		v := w.Value
		i := strings.Index(v, "://")
		if i <= 0 {
			continue
		}
		j := i
		for j > 0 && isSchemeChar(v[j-1]) {
			j--
		}
		if j == i {
			continue
		}
		out = append(out, shell.Word{Raw: w.Raw, Value: v[j:], Unknown: w.Unknown})
	}
	return out
}

func isSchemeChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '.' || b == '-'
}

// onGitLab reports whether u goes to this server, or to a GitLab API path
// on a host that is not known statically.
func (in *Input) onGitLab(u URL) bool {
	if OnServer(in.Server, u.Host) {
		return true
	}
	return UnknownReason(u.Host) != "" && strings.Contains(u.Path, "/api/v4/")
}
