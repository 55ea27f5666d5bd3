package detect

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Helpers shared by the API and package-manager detectors: option parsing,
// launcher unwrapping, files written by a job, variable origins.

// useFor builds a use at the place a setting was made.
func (in *Input) useFor(s setting, k access.Kind, t use.Target, detail string) use.Use {
	if s.Cmd != nil {
		return in.UseAt(s.Cmd, k, t, detail)
	}
	return in.UseAtPos(s.Var.Pos, k, t, detail)
}

// noteFor builds a note at the place a setting was made.
func (in *Input) noteFor(s setting, k use.NoteKind, detail string) use.Note {
	if s.Cmd != nil {
		return in.NoteAt(s.Cmd, k, detail)
	}
	return in.NoteAtPos(s.Var.Pos, k, detail)
}

// isJobTokenRef reports whether text references one of the predefined
// job-token variables directly ($CI_JOB_TOKEN, ${CI_REGISTRY_PASSWORD}).
func isJobTokenRef(s string) bool {
	for _, v := range inventory.JobTokenVariables {
		if strings.Contains(s, "$"+v) || strings.Contains(s, "${"+v+"}") || strings.Contains(s, "%"+v+"%") {
			return true
		}
	}
	return false
}

// netrcEntry is one "machine" entry of a .netrc the job writes.
type netrcEntry struct {
	Login, Password string
	Write           fileWrite
}

// netrc returns the .netrc entries the job writes before command c (all
// when c is nil), by host.
func (in *Input) netrc(c *shell.Command) map[string]netrcEntry {
	out := map[string]netrcEntry{}
	before := map[*shell.Command]bool{}
	for _, x := range in.Commands {
		if x == c {
			break
		}
		before[x] = true
	}
	for _, w := range in.writes(func(d string) bool { b := path.Base(d); return b == ".netrc" || b == "_netrc" }) {
		if c != nil && !before[w.cmd] {
			break
		}
		if !w.append {
			// ">" replaces the file.
			out = map[string]netrcEntry{}
		}
		f := strings.Fields(w.out.value)
		var host string
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "machine":
				host = strings.ToLower(f[i+1])
				out[host] = netrcEntry{Write: w}
			case "login", "password":
				if host == "" {
					continue
				}
				e := out[host]
				if f[i] == "login" {
					e.Login = f[i+1]
				} else {
					e.Password = f[i+1]
				}
				out[host] = e
			}
		}
	}
	return out
}

// credential is how a request authenticates.
type credential struct {
	User, Secret string
	Where        string // "URL user info", ".netrc", "UV_INDEX_X_PASSWORD", ...
}

// jobToken reports whether the credential is the job token with the user
// name GitLab requires (gitlab-ci-token) for basic auth.
func (cr credential) jobToken() bool { return HasJobToken(cr.Secret) }

// basicAuthVerdict classifies a basic-auth credential sent to GitLab:
// the job token with user gitlab-ci-token is a use; the job token with any
// other user is rejected, because GitLab looks a job token up only when the
// login is gitlab-ci-token and otherwise treats the password as a personal
// access token (lib/gitlab/auth/auth_finders.rb,
// find_user_from_job_token_basic_auth).
func basicAuthVerdict(cr credential) (isUse bool, wontWork string) {
	if !cr.jobToken() {
		return false, ""
	}
	if cr.User != inventory.JobTokenUser && !HasJobToken(cr.User) {
		u := cr.User
		if u == "" {
			u = "(none)"
		}
		return false, "the job token is sent with user name " + u + "; GitLab accepts it over basic auth only with user gitlab-ci-token"
	}
	return true, ""
}
