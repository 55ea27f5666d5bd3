package detect

// Shared helpers of the git, submodule, registry and dockerfile detectors:
// command-line parsing, what a command writes to a file, how a credential
// is classified, and the job state (credentials, clones, working
// directory) that earlier commands leave for later ones.

import (
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// cmdLine is the command as written with its redirections ("cat >
// ~/.netrc <<'EOF'"), for notes about what a command writes.
func cmdLine(c *shell.Command) string {
	parts := []string{CommandText(c)}
	for _, r := range c.Redirects {
		parts = append(parts, r.Op+" "+r.Target.Raw)
	}
	return strings.Join(parts, " ")
}

// ---- evidence --------------------------------------------------------------

// detailVia is the evidence detail for a command with a note on where its
// credential comes from; the command text is shortened first so that the
// note survives Detail's bound.
func detailVia(text, via string) string {
	if via == "" {
		return text
	}
	text = strings.Join(strings.Fields(text), " ")
	room := maxDetail - len(via) - 3
	if room < 40 {
		room = 40
	}
	if len(text) > room {
		text = text[:room-3] + "..."
	}
	return text + " (" + via + ")"
}

// at renders a position for evidence details.
func at(p shell.Pos) string {
	if p.File == "" {
		return ""
	}
	if p.Line > 0 {
		return p.File + ":" + itoa(p.Line)
	}
	return p.File
}

func itoa(n int) string { return strconv.Itoa(n) }

// noteInFile builds a note about a line of a repository file of the caller.
func (in *Input) noteInFile(file string, line int, k use.NoteKind, detail string) use.Note {
	return use.Note{Project: in.Caller.Path, File: file, Line: line, Job: in.jobName(), Kind: k, Detail: Detail(detail)}
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

// readFile reads a file of the job's working tree (see owner) and returns
// the site of its evidence.
func (st *jobState) readFile(p string) ([]byte, site, bool) {
	project, rel := st.owner(p)
	if st.in.Files == nil || rel == "" {
		return nil, site{}, false
	}
	b, err := st.in.Files.ReadFile(project, rel)
	if err != nil {
		return nil, site{}, false
	}
	s := site{file: rel}
	if project != st.in.Caller.Path {
		s.project = project
	}
	return b, s, true
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

// ---- where evidence goes ---------------------------------------------------

// site is where a use or note is reported: a command, or a line of a
// repository file (a .gitmodules entry, a Dockerfile FROM, a go.mod
// require). project is the file's project ("" = the caller).
type site struct {
	c       *shell.Command
	file    string
	line    int
	project string
}

func cmdSite(c *shell.Command) site { return site{c: c} }

func (in *Input) useAtSite(s site, k access.Kind, t use.Target, detail string) use.Use {
	if s.file == "" && s.c != nil {
		return in.UseAt(s.c, k, t, detail)
	}
	u := in.UseInFile(s.file, s.line, k, t, detail)
	if s.project != "" {
		u.Evidence.Project = s.project
	}
	return u
}

func (in *Input) noteAtSite(s site, kind use.NoteKind, detail string) use.Note {
	if s.file == "" && s.c != nil {
		return in.NoteAt(s.c, kind, detail)
	}
	n := in.noteInFile(s.file, s.line, kind, detail)
	if s.project != "" && s.project != in.Caller.Path {
		n.Detail = Detail(s.project + "/" + s.file + ": " + detail)
	}
	return n
}

// ---- job state -------------------------------------------------------------

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
