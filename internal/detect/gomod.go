package detect

// Go modules (P28) of the git family: modules go fetches directly with
// the git credentials the job set up.

import (
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
)

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

// goRequires reads the require directives of a go.mod file.
// goRequires reads the require directives of a go.mod file (gomod_modfile.go).
func goRequires(s string) []goRequire { return goModRequires("go.mod", []byte(s)) }
