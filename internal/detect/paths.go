package detect

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// Paths a job names, and the repository files behind them.

// resolvePath turns a path operand of command c, relative to directory
// dir ("" is the project directory), into the job's path form: a cleaned
// path inside the project directory ("" or "." for the directory itself),
// "~/..." under the home directory, or a cleaned absolute path outside
// both. Paths under $CI_PROJECT_DIR are inside the project directory even
// when it lies under the home directory.
func (in *Input) resolvePath(c *shell.Command, dir, p string) string {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "/") {
		proj := strings.TrimSuffix(in.envValue(c, "CI_PROJECT_DIR"), "/")
		if proj != "" && (p == proj || strings.HasPrefix(p, proj+"/")) {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, proj), "/")
			return path.Clean("./" + rel)
		}
	}
	if p == "~" {
		return "~"
	}
	if h := homePath(p, in.envValue(c, "HOME")); h != "" {
		return path.Clean(h)
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	j := path.Clean(p) // no copy when p is clean
	if dir != "" {
		j = path.Join(dir, p)
	}
	if j == "." {
		return ""
	}
	return j
}

// homePath canonicalises a path under the home directory ("~/.netrc",
// "$HOME/.netrc", "/root/.netrc"), or returns "" for other paths.
func homePath(p, home string) string {
	p = strings.TrimSpace(p)
	for _, prefix := range []string{"~/", "${HOME}/", "$HOME/", "/root/"} {
		if strings.HasPrefix(p, prefix) {
			return "~/" + strings.TrimPrefix(p, prefix)
		}
	}
	if home != "" && strings.HasPrefix(p, strings.TrimSuffix(home, "/")+"/") {
		return "~/" + strings.TrimPrefix(p, strings.TrimSuffix(home, "/")+"/")
	}
	if strings.HasPrefix(p, "/home/") {
		if i := strings.IndexByte(p[len("/home/"):], '/'); i >= 0 {
			return "~/" + p[len("/home/")+i+1:]
		}
	}
	return ""
}

// outsideRepo reports whether a resolved path (see resolvePath) lies
// outside the caller's repository.
func outsideRepo(r string) bool {
	return strings.HasPrefix(r, "/") || strings.HasPrefix(r, "~") || r == ".." || strings.HasPrefix(r, "../")
}

// repoPath turns a path as a job names it, at the job's start, into a
// path inside the caller's repository: relative paths and paths under
// $CI_PROJECT_DIR. ok is false for the repository itself, other absolute
// paths, home paths and unexpanded references.
func (in *Input) repoPath(p string) (string, bool) {
	if strings.Contains(p, "$") {
		return "", false
	}
	r := in.resolvePath(nil, "", p)
	if r == "" || r == "." || outsideRepo(r) {
		return "", false
	}
	return r, true
}

// readFile reads a repository file of a project in the snapshot.
func (in *Input) readFile(project, name string) ([]byte, error) {
	if in.Files == nil {
		return nil, errNoFiles
	}
	return in.Files.ReadFile(project, name)
}

// readRepo reads a repository file of the caller; ok is false when it is
// missing.
func (in *Input) readRepo(name string) (string, bool) {
	if in.Caller == nil {
		return "", false
	}
	b, err := in.readFile(in.Caller.Path, name)
	if err != nil {
		return "", false
	}
	return string(b), true
}

type noFilesError struct{}

func (noFilesError) Error() string { return "no repository files" }

var errNoFiles error = noFilesError{}

// samePath reports whether two relative paths name the same file.
func samePath(a, b string) bool {
	return path.Clean(strings.TrimPrefix(a, "./")) == path.Clean(strings.TrimPrefix(b, "./"))
}
