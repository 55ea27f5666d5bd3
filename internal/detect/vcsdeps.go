package detect

// Git dependencies of package managers (P10), part of the git family:
// git+https URLs of pip, npm, uv, bun, nix, cargo and Ansible Galaxy, and
// repo/west manifests, fetched with the credentials the job set up.

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
)

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
	name := nameOf(c, ws)
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
	if nameOf(c, ws) == "west" {
		names = []string{"-m", "--manifest-url"}
	}
	if w, ok := p.last(names...); ok {
		st.reportGit(out, cmdSite(c), st.judgeGit(st.git, w.Value, false), access.RepositoryRead, CommandText(c))
	}
}
