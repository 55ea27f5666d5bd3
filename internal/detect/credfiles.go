package detect

// Credential files the job state follows: ~/.netrc, ~/.git-credentials
// and registry auth files, written and removed by the job's commands.

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// netrcNotes explains ~/.netrc entries changed by c that cannot work or
// send the token elsewhere.
func (st *jobState) netrcNotes(c *shell.Command, old map[string]cred) []stateNote {
	var notes []stateNote
	for _, h := range sortedKeys(st.netrc) {
		cr := st.netrc[h]
		if o, ok := old[h]; ok && o.kind == cr.kind && o.user == cr.user {
			continue
		}
		host, what := h, "~/.netrc (machine "+h+")"
		if h == "*" {
			// The default entry serves every host without its own entry,
			// this GitLab included.
			host, what = st.in.Server.FQDN, "~/.netrc (default entry)"
		}
		if kind, detail := setupNote(st.in.Server, "https://"+host, cr, what); kind != "" {
			notes = append(notes, stateNote{family: "git", note: st.in.NoteAt(c, kind, detail+": "+cmdLine(c))})
		}
	}
	return notes
}

// parseGitCredentials reads ~/.git-credentials (one URL per line).
func parseGitCredentials(s string, pos loc.Pos) map[string]cred {
	out := map[string]cred{}
	for _, line := range strings.Split(strings.ReplaceAll(s, `\n`, "\n"), "\n") {
		u, ok := ParseURL(strings.TrimSpace(line))
		if !ok || !u.HasUser {
			continue
		}
		cr := classifyUserPass(u.User, u.Password)
		if cr.kind == credNone {
			continue
		}
		cr.pos, cr.via = pos, "credentials from ~/.git-credentials written at "+at(pos)
		out[hostname(u.Host)] = cr
	}
	return out
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
