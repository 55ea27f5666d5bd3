package detect

import (
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// Python projects declare git dependencies in their manifests as well as
// on the command line and in requirements files (git.go): PEP 508 direct
// references in pyproject.toml ("parser @ git+https://…"), Poetry's and
// uv's tables (parser = { git = "https://…", tag = "v1" };
// https://python-poetry.org/docs/dependency-specification/#git-dependencies,
// https://docs.astral.sh/uv/concepts/projects/dependencies/#git) and
// Pipfile ({git = "https://…"};
// https://pipenv.pypa.io/en/latest/specifiers.html#vcs-dependencies).
// The tool clones them with git, so the job's git configuration applies:
// an insteadOf rule or ~/.netrc that carries the job token turns a plain
// https URL into a job-token clone, as for requirements files.

// pyManifests are the manifests each tool's install reads, by tool.
var pyManifests = map[string][]string{
	"pip":    {"pyproject.toml"},
	"uv":     {"pyproject.toml"},
	"poetry": {"pyproject.toml"},
	"pdm":    {"pyproject.toml"},
	"pipenv": {"Pipfile"},
}

// pyInstalls are the subcommands that install a project's dependencies.
var pyInstalls = map[string]map[string]bool{
	"poetry": setOf("install", "update"),
	"uv":     setOf("sync"),
	"pdm":    setOf("install", "sync", "update"),
	"pipenv": setOf("install", "sync", "update"),
}

// tomlGitRE matches a git key in a TOML inline table or Pipfile entry.
var tomlGitRE = regexp.MustCompile(`(?:^|[{,\s])git\s*=\s*["']([^"']+)["']`)

// pyManifestVCSUses reports git dependencies of the Python manifest an
// install command reads: "pip install ." (or -e ., or a folder), poetry
// install, uv sync, pdm install, pipenv install.
func (st *jobState) pyManifestVCSUses(out *Output, c *shell.Command) {
	ws := argv(c)
	tool := nameOf(c, ws)
	args := ws[1:]
	if m, rest, ok := pythonModule(ws); ok {
		tool, args = m, rest
	}
	var dirs []string
	switch {
	case tool == "pip" || tool == "pip3" || tool == "uv" && len(args) > 0 && args[0].Value == "pip":
		if tool == "uv" {
			args = args[1:]
		}
		tool = "pip"
		if len(args) == 0 || args[0].Value != "install" {
			return
		}
		for _, a := range args[1:] {
			v := a.Value
			if v == "." || strings.HasPrefix(v, "./") || strings.HasPrefix(v, ".[") {
				v, _, _ = strings.Cut(v, "[") // ".[dev]" extras
				dirs = append(dirs, v)
			}
		}
	case pyInstalls[tool] != nil:
		if len(args) == 0 && tool == "pipenv" || len(args) > 0 && pyInstalls[tool][args[0].Value] {
			dirs = []string{"."}
		}
	}
	for _, d := range dirs {
		dir, ok := st.repoDirOf(c, d)
		if !ok {
			continue
		}
		for _, m := range pyManifests[tool] {
			st.pyManifestFile(out, c, path.Join(dir, m))
		}
	}
}

func (st *jobState) pyManifestFile(out *Output, c *shell.Command, file string) {
	b, fsite, err := st.readTree(file)
	if err != nil {
		return
	}
	for i, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			continue
		}
		var urls []string
		for _, m := range gitPlusRE.FindAllStringSubmatch(t, -1) {
			urls = append(urls, vcsURL(m[1]))
		}
		for _, m := range tomlGitRE.FindAllStringSubmatch(t, -1) {
			urls = append(urls, m[1])
		}
		for _, u := range urls {
			s := fsite
			s.line = i + 1
			detail := t + " (installed by " + CommandText(c) + " at " + at(c.Pos) + ")"
			st.reportGit(out, s, st.judgeGit(st.git, u, false), access.RepositoryRead, detail)
		}
	}
}
