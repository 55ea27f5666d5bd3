package detect

// The job state, replayed command by command for the git, submodule,
// registry and dockerfile detectors, and the credential files it follows.

import (
	"io/fs"
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// jobState is what the commands run so far in a job leave behind for later
// commands: the working directory, git credentials (insteadOf rules,
// ~/.netrc, credential helpers), clones and remotes, registry logins and Go
// settings. Files written by one command are seen by every later command
// of the job (after_script runs in a new shell but on the same files).
type jobState struct {
	in      *Input
	cwd     string // relative to the project directory; absolute or "~/..." outside it
	section string

	git     gitCfg
	netrc   map[string]cred   // host name -> credential, from ~/.netrc
	stored  map[string]cred   // host name -> credential, from ~/.git-credentials
	files   map[string]string // credential files by canonical path -> content
	clones  map[string]string // directory -> origin URL as written
	remotes map[string]map[string]string
	// remoteAt says where a remote was defined, by repository and name.
	remoteAt map[string]string
	goEnv    map[string]string

	// reg holds registry credentials: store (a config file or "login")
	// -> registry host -> credential. Any registry tool of the job is
	// assumed to see every store (documented over-approximation: jobs
	// rarely write a config for one tool and pull with another).
	reg map[string]map[string]cred

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
		in:       in,
		git:      gitCfg{helpers: map[string]cred{}},
		netrc:    map[string]cred{},
		stored:   map[string]cred{},
		files:    map[string]string{},
		clones:   map[string]string{},
		remotes:  map[string]map[string]string{},
		remoteAt: map[string]string{},
		goEnv:    map[string]string{},
		reg:      map[string]map[string]cred{},
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
	switch cmdBase(ws[0].Value) {
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

// ---- credential files ------------------------------------------------------

// isStateFile reports whether a file c writes is one the job state
// follows: ~/.netrc, ~/.git-credentials and registry auth files.
func (st *jobState) isStateFile(c *shell.Command, p string) bool {
	switch path.Base(strings.ReplaceAll(p, `\`, "/")) {
	case ".netrc", "_netrc", ".git-credentials":
		return true
	}
	return st.in.isRegistryAuthFile(c, p)
}

// applyFileWrite records a write to a credential file: ~/.netrc and
// ~/.git-credentials for git, Docker/Podman auth files for registries.
func (st *jobState) applyFileWrite(c *shell.Command, w fileWrite) []stateNote {
	base := path.Base(strings.ReplaceAll(w.path, `\`, "/"))
	switch {
	case base == ".netrc" || base == "_netrc":
		old := st.netrc
		content, changed := st.writeFile("~/.netrc", w)
		if !changed {
			return nil
		}
		st.netrc = netrcCreds(content, c.Pos)
		return st.netrcNotes(c, old)
	case base == ".git-credentials":
		if content, changed := st.writeFile("~/.git-credentials", w); changed {
			st.stored = parseGitCredentials(content, c.Pos)
		}
	case st.in.isRegistryAuthFile(c, w.path):
		return st.applyRegistryFile(c, w)
	}
	return nil
}

// writeFile updates a credential file's content and returns it, and
// whether it changed (a job appending in a loop past the size bound does
// not make every later write re-read the file). An unknown overwrite
// empties it: what it holds cannot be known.
func (st *jobState) writeFile(key string, w fileWrite) (string, bool) {
	old, existed := st.files[key]
	content := applyWrite(old, w)
	st.files[key] = content
	return content, !existed || content != old
}

func (st *jobState) removeFile(c *shell.Command, f string) {
	switch path.Base(f) {
	case ".netrc", "_netrc":
		delete(st.files, "~/.netrc")
		st.netrc = map[string]cred{}
	case ".git-credentials":
		delete(st.files, "~/.git-credentials")
		st.stored = map[string]cred{}
	default:
		if st.in.isRegistryAuthFile(c, f) {
			delete(st.reg, registryStore(f))
		}
	}
}
