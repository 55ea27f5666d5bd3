package detect

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// URL is a leniently parsed URL: unlike net/url it accepts unexpanded
// "${VAR}" parts anywhere, because a reference to an undefined variable
// must still yield a readable target ("variable X not defined") rather
// than a parse error.
type URL struct {
	Scheme   string // lower case; "" for scheme-less forms ("//host/path", "host/path")
	User     string
	Password string
	HasUser  bool   // userinfo present
	Host     string // host[:port], lower case
	Path     string // starts with "/" or is empty; not unescaped
	Query    string // raw query without "?"
}

// ParseURL splits s. It accepts scheme://, scheme-less //host/path, and
// SCP-like git@host:path (Scheme "ssh"). ok is false when s does not look
// like a URL with a host.
func ParseURL(s string) (u URL, ok bool) {
	s = strings.TrimSpace(s)
	rest := s
	switch {
	case strings.Contains(s, "://"):
		i := strings.Index(s, "://")
		u.Scheme = strings.ToLower(s[:i])
		if u.Scheme == "" || strings.ContainsAny(u.Scheme, " /\"'") {
			return URL{}, false
		}
		rest = s[i+3:]
	case strings.HasPrefix(s, "//"):
		rest = s[2:]
	case scpRE.MatchString(s):
		m := scpRE.FindStringSubmatch(s)
		return URL{Scheme: "ssh", User: m[1], HasUser: m[1] != "", Host: strings.ToLower(m[2]), Path: "/" + m[3]}, true
	default:
		return URL{}, false
	}
	if i := strings.IndexAny(rest, "#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Query = rest[i+1:]
		rest = rest[:i]
	}
	hostEnd := strings.IndexByte(rest, '/')
	authority := rest
	if hostEnd >= 0 {
		authority, u.Path = rest[:hostEnd], rest[hostEnd:]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		u.HasUser = true
		info := authority[:at]
		authority = authority[at+1:]
		if c := strings.IndexByte(info, ':'); c >= 0 {
			u.User, u.Password = info[:c], info[c+1:]
		} else {
			u.User = info
		}
	}
	u.Host = strings.ToLower(authority)
	if u.Host == "" {
		return URL{}, false
	}
	return u, true
}

var scpRE = regexp.MustCompile(`^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+):([^/][^\s]*)$`)

// QueryValue returns the first value of key in the raw query.
func (u URL) QueryValue(key string) string {
	for _, kv := range strings.Split(u.Query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			if d, err := url.QueryUnescape(v); err == nil {
				return d
			}
			return v
		}
	}
	return ""
}

// HasJobToken reports whether s carries the job token (after expansion).
func HasJobToken(s string) bool { return strings.Contains(s, inventory.JobToken) }

// hostname strips the port.
func hostname(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		return hostport[:i]
	}
	return hostport
}

// OnServer reports whether host (host[:port]) is the GitLab server.
func OnServer(srv inventory.Server, host string) bool {
	h := strings.ToLower(host)
	if h == strings.ToLower(srv.FQDN) {
		return true
	}
	// An explicit default port names the same server.
	if hostname(h) == strings.ToLower(srv.Host) && (h == hostname(h) || strings.HasSuffix(h, ":"+srv.Port)) {
		return true
	}
	return false
}

// OnRegistry reports whether host is the GitLab container registry. With
// no registry configured, the server host itself is assumed (GitLab's
// registry can share the host on another port).
func OnRegistry(srv inventory.Server, host string) bool {
	h := strings.ToLower(host)
	if srv.Registry != "" {
		r := strings.ToLower(srv.Registry)
		return h == r || hostname(h) == hostname(r) && (h == hostname(h) || hostname(r) == r)
	}
	return hostname(h) == strings.ToLower(srv.Host)
}

// unknownRE finds "${NAME}" and "$(...)" left by shell expansion.
var unknownRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\([^)]*\)|\$([A-Za-z_][A-Za-z0-9_]*)`)

// UnknownReason explains why s cannot be resolved, or "" when it holds no
// unexpanded part.
func UnknownReason(s string) string {
	m := unknownRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	name := m[1] + m[2]
	switch {
	case name != "" && inventory.IsPredefined(name):
		// Every job has it; only its value is unknown before the run.
		return "predefined variable " + name + " has a value only known when the job runs"
	case name != "":
		return "variable " + name + " is not defined in the CI config (it may be a project, group or instance variable)"
	default:
		return "the value comes from a command substitution (" + m[0] + ") and is not known statically"
	}
}

// GitTarget returns the project a git remote URL path names: the path
// without leading "/", trailing "/" and ".git". For URLs under a relative
// URL root (https://host/gitlab/group/p.git) the server URL's path prefix
// is removed.
func GitTarget(srv inventory.Server, u URL) use.Target {
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	p = strings.TrimSuffix(p, "/")
	if prefix := serverPathPrefix(srv); prefix != "" {
		p = strings.TrimPrefix(p, prefix+"/")
	}
	p = decodePath(p)
	t := use.Target{Kind: use.Path, Value: p}
	if r := UnknownReason(p); r != "" {
		t.Reason = r
	}
	return t
}

func serverPathPrefix(srv inventory.Server) string {
	if i := strings.Index(srv.URL, "://"); i >= 0 {
		if j := strings.IndexByte(srv.URL[i+3:], '/'); j >= 0 {
			return strings.Trim(srv.URL[i+3+j:], "/")
		}
	}
	return ""
}

func decodePath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}

// ImageRef splits a container image reference "host[:port]/path[:tag][@digest]".
// ok is false for references without a registry host (Docker Hub).
func ImageRef(ref string) (host, path string, ok bool) {
	ref = strings.TrimSpace(ref)
	ref = strings.TrimPrefix(ref, "docker://")
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.IndexByte(ref, '/')
	if slash < 0 {
		return "", "", false
	}
	host = ref[:slash]
	// Docker's rule: the first segment is a registry host when it has a
	// dot or a port, or is localhost.
	if !strings.ContainsAny(host, ".:") && host != "localhost" && !strings.HasPrefix(host, "${") {
		return "", "", false
	}
	path = ref[slash+1:]
	if i := strings.LastIndexByte(path, ':'); i >= 0 && !strings.Contains(path[i:], "/") {
		path = path[:i]
	}
	return strings.ToLower(host), strings.ToLower(path), path != ""
}

// stripUserinfo removes "user:password@" from a URL for display.
func stripUserinfo(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		return s[:i+3] + rest[at+1:]
	}
	return s
}

// rawHost returns the host part of a URL as written (case kept), for
// explaining unknown parts.
func rawHost(s string) string {
	s = stripUserinfo(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// isOwnPath reports whether p (a project or registry path) is the
// caller's own project or below it.
func isOwnPath(caller, p string) bool {
	c, p := strings.ToLower(caller), strings.ToLower(strings.Trim(p, "/"))
	return p == c || strings.HasPrefix(p, c+"/")
}

// looksLikeURLRef reports whether an unexpanded word is probably a URL
// ("$URL", "${PACKAGE_REGISTRY_URL}/tool/1.0/x.tgz", "$API/projects/..."),
// not an output file name.
func looksLikeURLRef(v string) bool {
	return strings.HasPrefix(v, "$") || strings.Contains(v, "://")
}

// isRelativeURL reports whether a submodule URL is relative to the
// superproject's remote.
func isRelativeURL(u string) bool { return strings.HasPrefix(u, "./") || strings.HasPrefix(u, "../") }

// resolveRelativeURL resolves a relative submodule URL as git does: each
// "../" removes one path component of the superproject's remote URL,
// "./" removes none. ok is false when the URL climbs above the host.
func resolveRelativeURL(base, rel string) (string, bool) {
	b := strings.TrimSuffix(base, "/")
	floor := 0
	if i := strings.Index(b, "://"); i >= 0 {
		floor = i + 3
		if j := strings.IndexByte(b[floor:], '/'); j >= 0 {
			floor += j
		} else {
			floor = len(b)
		}
	} else if i := strings.IndexByte(b, ':'); i >= 0 {
		floor = i // scp-like host:path
	}
	for {
		switch {
		case strings.HasPrefix(rel, "../"):
			i := strings.LastIndexAny(b, "/:")
			if i < floor || i <= 0 {
				return "", false
			}
			b, rel = b[:i], rel[3:]
		case strings.HasPrefix(rel, "./"):
			rel = rel[2:]
		case rel == "..":
			return "", false
		default:
			sep := "/"
			if strings.HasSuffix(b, ":") {
				sep = ""
			}
			return b + sep + rel, true
		}
	}
}
