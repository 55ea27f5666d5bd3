package detect

import (
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// Credentials: how a user name and password sent to GitLab are judged,
// and the ~/.netrc a job writes.

// credKind classifies a credential found in text.
type credKind int

const (
	credNone      credKind = iota // no credential
	credJobToken                  // gitlab-ci-token and the job token: works
	credWrongUser                 // the job token with another user name: rejected
	credLiteral                   // a job-token variable written literally (quoting): the text is sent
	credOther                     // another credential (PAT, deploy token, literal password)
)

// cred is a classified credential and where it was set up.
type cred struct {
	kind credKind
	user string
	// via says where a credential set up earlier in the job comes from
	// ("~/.netrc written at .gitlab-ci.yml:12"); "" when it is in the text.
	via string
	pos loc.Pos
}

// credential is a user name and password as a tool is given them.
type credential struct {
	User, Secret string
	Where        string // "URL user info", ".netrc", "UV_INDEX_X_PASSWORD", ...
}

// jobToken reports whether the credential sends the job token.
func (cr credential) jobToken() bool { return HasJobToken(cr.Secret) }

// tokenRefRE matches a reference to a job-token variable ($CI_JOB_TOKEN,
// ${CI_REGISTRY_PASSWORD}, %CI_JOB_TOKEN% in cmd), but not to a longer
// name ($CI_JOB_TOKEN_FILE).
var tokenRefRE = func() *regexp.Regexp {
	names := strings.Join(inventory.JobTokenVariables, "|")
	return regexp.MustCompile(`\$\{?(?:` + names + `)\b|%(?:` + names + `)%`)
}()

// isJobTokenRef reports whether text references one of the predefined
// job-token variables directly.
func isJobTokenRef(s string) bool { return tokenRefRE.MatchString(s) }

// literalTokenRef reports whether s names a job-token variable without
// holding its value: single-quoted or in a quoted here-document, the text
// is sent as is. CI_JOB_TOKEN is always defined during analysis, so an
// unexpanded reference means the shell did not expand it.
func literalTokenRef(s string) bool { return isJobTokenRef(s) && !HasJobToken(s) }

// classifyUserPass classifies basic-auth credentials. GitLab looks a job
// token up only when the login is gitlab-ci-token, and otherwise treats
// the password as a personal access token
// (lib/gitlab/auth/auth_finders.rb, find_user_from_job_token_basic_auth):
// the job token with another user name, or as the user name, is rejected.
func classifyUserPass(user, pass string) cred {
	switch {
	case HasJobToken(pass) && user == inventory.JobTokenUser:
		return cred{kind: credJobToken, user: user}
	case HasJobToken(pass):
		return cred{kind: credWrongUser, user: user}
	case HasJobToken(user):
		return cred{kind: credWrongUser, user: "(the job token itself)"}
	case literalTokenRef(pass) || literalTokenRef(user):
		return cred{kind: credLiteral, user: user}
	case user == "" && pass == "":
		return cred{}
	}
	return cred{kind: credOther, user: user}
}

// basicAuthVerdict judges a credential sent to GitLab: the job token with
// user gitlab-ci-token is a use; the job token with another user name
// will not work (wontWork says why). Anything else is neither.
func basicAuthVerdict(cr credential) (isUse bool, wontWork string) {
	switch v := classifyUserPass(cr.User, cr.Secret); v.kind {
	case credJobToken:
		return true, ""
	case credWrongUser:
		return false, wrongUserText(v.user)
	}
	return false, ""
}

// wrongUserText explains a credWrongUser.
func wrongUserText(user string) string {
	return "the job token is sent with user name " + redactUser(user) + "; GitLab accepts it over basic auth only as " + inventory.JobTokenUser
}

// redactUser keeps a user name readable unless it looks like a secret.
func redactUser(u string) string {
	if u == "" {
		return "(none)"
	}
	if d := Detail(u); d != u || len(u) > 40 {
		return "(a credential)"
	}
	return u
}

const literalText = "the job-token variable is written literally (single quotes or a quoted here-document), so the text itself is sent and authentication fails"

// ---- ~/.netrc ----------------------------------------------------------------

// netrcEntry is the login and password of one .netrc entry.
type netrcEntry struct{ login, password string }

// isNetrc reports whether p is a .netrc file (_netrc on Windows).
func isNetrc(p string) bool {
	b := path.Base(strings.ReplaceAll(p, `\`, "/"))
	return b == ".netrc" || b == "_netrc"
}

// parseNetrc reads machine/login/password entries by host name (lower
// case, without port; "*" for the default entry). The first entry for a
// host wins, as in curl. Literal "\n" counts as a line break: echo without
// -e interprets it in dash and busybox sh.
func parseNetrc(s string) map[string]netrcEntry {
	f := strings.Fields(netrcEscapes.Replace(s))
	if len(f) == 0 {
		return nil
	}
	entries := map[string]*netrcEntry{}
	var cur *netrcEntry
	for i := 0; i < len(f); i++ {
		next := func() string {
			if i+1 < len(f) {
				i++
				return strings.Trim(f[i], `"`)
			}
			return ""
		}
		switch f[i] {
		case "machine", "default":
			h := "*"
			if f[i] == "machine" {
				h = hostname(strings.ToLower(next()))
			}
			cur = &netrcEntry{}
			if _, dup := entries[h]; !dup {
				entries[h] = cur
			}
		case "login":
			if v := next(); cur != nil {
				cur.login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.password = v
			}
		case "account":
			next()
		case "macdef":
			i = len(f) // a macro runs to the end of its paragraph; nothing after it matters here
		}
	}
	out := make(map[string]netrcEntry, len(entries))
	for h, e := range entries {
		out[h] = *e
	}
	return out
}

var netrcEscapes = strings.NewReplacer(`\n`, "\n", `\t`, " ")

// netrcCreds classifies the entries of a .netrc written at pos; entries
// without credentials are left out.
func netrcCreds(s string, pos loc.Pos) map[string]cred {
	entries := parseNetrc(s)
	out := make(map[string]cred, len(entries))
	for h, e := range entries {
		cr := classifyUserPass(e.login, e.password)
		if cr.kind == credNone {
			continue
		}
		cr.pos, cr.via = pos, "credentials from ~/.netrc written at "+at(pos)
		out[h] = cr
	}
	return out
}

// netrcFor returns the entry used for host: its machine entry, else the
// default entry.
func netrcFor[V any](entries map[string]V, host string) (V, bool) {
	if e, ok := entries[hostname(strings.ToLower(host))]; ok {
		return e, true
	}
	e, ok := entries["*"]
	return e, ok
}

// netrc returns the ~/.netrc entries the job has written before command
// c (c nil: by the end of the job), replayed as the job state replays
// them: ">" replaces the file, ">>" appends, a write of unknown content
// empties it, rm deletes it.
func (in *Input) netrc(c *shell.Command) map[string]netrcEntry {
	content := ""
	var prev []fileWrite
	for _, x := range in.Commands {
		if x == c {
			break
		}
		ws := in.commandWrites(x, isNetrc, prev)
		for _, w := range ws {
			content = applyWrite(content, w)
		}
		prev = append(prev, ws...)
		for _, f := range removedFiles(x) {
			if isNetrc(f) {
				content = ""
			}
		}
	}
	return parseNetrc(content)
}
