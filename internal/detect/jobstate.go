package detect

// The job state, replayed command by command for the git, submodule,
// registry and dockerfile detectors, and the credential files it follows.

import (
	"io/fs"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// jobState is what the commands run so far in a job leave behind for later
// commands: the working directory and credential files, with the git
// state (git.go) and the registry state (registry.go) each family keeps
// up to date. Files written by one command are seen by every later
// command of the job (after_script runs in a new shell but on the same
// files).
type jobState struct {
	in      *Input
	cwd     string // relative to the project directory; absolute or "~/..." outside it
	section string
	files   map[string]string // credential files by canonical path -> content

	gitState
	registryState

	gitFiles *gitFiles // git configuration files the job writes (gitconfig.go)
}

// stateNote is a note raised while updating the state, for one detector
// family ("git" or "registry") to emit.
type stateNote struct {
	family string
	note   use.Note
}

func newJobState(in *Input) *jobState {
	return &jobState{
		in:            in,
		files:         map[string]string{},
		gitState:      newGitState(),
		registryState: registryState{reg: map[string]map[string]cred{}},
	}
}

// walkJob replays the job's commands: visit sees each command with the
// state before it runs; then the command's effects are applied. It
// returns the notes raised by state changes.
func walkJob(in *Input, visit func(c *shell.Command, st *jobState)) []stateNote {
	st := newJobState(in)
	var notes []stateNote
	for _, c := range in.Commands {
		if c == nil || len(c.Args) == 0 {
			continue
		}
		st.enter(c)
		if visit != nil {
			visit(c, st)
		}
		notes = append(notes, st.apply(c)...)
	}
	return notes
}

// keepNotes appends the state notes of one detector family ("" for all).
func keepNotes(out *Output, notes []stateNote, family string) {
	for _, n := range notes {
		if family == "" || n.family == family {
			out.Notes = append(out.Notes, n.note)
		}
	}
}

// enter resets the working directory when a new shell starts.
func (st *jobState) enter(c *shell.Command) {
	if c.Section != st.section {
		switch c.Section {
		case "after_script", "pre_get_sources_script", "before_script":
			st.cwd = ""
		}
		st.section = c.Section
	}
}

// apply records what c changes for later commands.
func (st *jobState) apply(c *shell.Command) []stateNote {
	var notes []stateNote
	ws := argv(c)
	switch nameOf(c, ws) {
	case "cd", "pushd":
		if len(ws) > 1 {
			st.cwd = st.resolve(c, ws[len(ws)-1].Value)
		} else {
			st.cwd = "~"
		}
	case "popd":
		st.cwd = ""
	case "git":
		notes = append(notes, st.applyGit(c)...)
	case "go":
		st.applyGoEnv(c)
	}
	notes = append(notes, st.applyRegistry(c)...)
	notes = append(notes, st.applyGitConfigFiles(c)...)
	if len(c.Redirects) > 0 || writesFiles(c) {
		for _, w := range st.in.commandWrites(c, func(p string) bool { return st.isStateFile(c, p) }, nil) {
			notes = append(notes, st.applyFileWrite(c, w)...)
		}
	}
	for _, f := range removedFiles(c) {
		st.removeFile(c, f)
	}
	return notes
}

// resolve turns a path operand of c into the job's path form (see
// resolvePath), relative to the working directory.
func (st *jobState) resolve(c *shell.Command, p string) string {
	return st.in.resolvePath(c, st.cwd, p)
}

// repoFile turns a path operand of c into a path in the caller's
// repository.
func (st *jobState) repoFile(c *shell.Command, p string) (string, bool) {
	r := st.resolve(c, p)
	if r == "" || r == "." || outsideRepo(r) {
		return "", false
	}
	return r, true
}

// repoDirOf resolves a directory operand to a repository directory ("" =
// the root).
func (st *jobState) repoDirOf(c *shell.Command, p string) (string, bool) {
	r := st.resolve(c, p)
	if r == "" || r == "." {
		return "", true
	}
	if outsideRepo(r) {
		return "", false
	}
	return r, true
}

// repoDir returns the repository that directory dir belongs to: a clone
// made earlier in the job, or "" for the project's own checkout; ok is
// false for directories outside both.
func (st *jobState) repoDir(dir string) (string, bool) {
	best, found := "", false
	for k := range st.clones {
		if (dir == k || strings.HasPrefix(dir, k+"/")) && len(k) >= len(best) {
			best, found = k, true
		}
	}
	if found {
		return best, true
	}
	if strings.HasPrefix(dir, "/") || strings.HasPrefix(dir, "~") || strings.HasPrefix(dir, "..") {
		if _, ok := st.remotes[dir]; ok {
			return dir, true
		}
		return dir, false
	}
	return "", true
}

// owner maps a path of the job's working tree to the project whose file
// it is: a file under a directory the job cloned another project into
// belongs to that project (when its files are in the snapshot).
func (st *jobState) owner(p string) (project, rel string) {
	best := ""
	for k := range st.clones {
		if k != "" && strings.HasPrefix(p, k+"/") && len(k) > len(best) {
			best = k
		}
	}
	if best == "" || st.clones[best] == "" {
		return st.in.Caller.Path, p
	}
	url, _ := st.git.rewrite(st.clones[best], false)
	u, ok := ParseURL(url)
	if !ok || !OnServer(st.in.Server, u.Host) {
		return st.in.Caller.Path, p
	}
	t := GitTarget(st.in.Server, u)
	if t.Reason != "" || !repoPath(t) {
		return st.in.Caller.Path, p
	}
	return t.Value, strings.TrimPrefix(p, best+"/")
}

// readTree reads a file of the job's working tree (see owner) and returns
// the site of its evidence.
func (st *jobState) readTree(p string) ([]byte, site, error) {
	project, rel := st.owner(p)
	if rel == "" {
		return nil, site{}, fs.ErrNotExist
	}
	b, err := st.in.readFile(project, rel)
	if err != nil {
		return nil, site{}, err
	}
	s := site{file: rel}
	if project != st.in.Caller.Path {
		s.project = project
	}
	return b, s, nil
}
