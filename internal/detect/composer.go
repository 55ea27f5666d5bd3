package detect

import (
	"encoding/json"
	"path"
	"sort"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// composerDetector finds Composer repositories on GitLab's package
// registry read with the job token (docs/patterns.md P24). The target is
// a composer.json repository of type composer — mostly the group
// endpoint in Composer's singular spelling
// …/api/v4/group/<id>/-/packages/composer/packages.json
// (https://docs.gitlab.com/user/packages/composer_repository/) — or one
// added by "composer config repositories.<name> composer <url>". The
// credential is keyed by host, as Composer keys it
// (https://getcomposer.org/doc/articles/authentication-for-private-packages.md):
// auth.json (committed or written by the job), the COMPOSER_AUTH variable,
// or "composer config [--global] [--auth] gitlab-token.<host> [user]
// token" (also http-basic.<host>, gitlab-oauth.<host>). Composer sends it
// to every URL on that host. A job that runs composer install, update,
// require or create-project reads each such repository.
//
// Composer turns gitlab-token without a user into a PRIVATE-TOKEN header
// and gitlab-oauth into a bearer token (Composer's
// src/Composer/Util/AuthHelper.php); GitLab's own Composer CI template
// configures the job token as gitlab-oauth, so all three forms are
// reported as uses: tokenscope leans toward the allowlist entry a job may
// need. Only a user name other than gitlab-ci-token, which GitLab rejects
// over basic auth, is a will-not-work note.
type composerDetector struct{}

func (composerDetector) Name() string { return "composer" }

// composerRepo is one composer repository.
type composerRepo struct {
	name, url string // url expanded
	raw       string
	at        site
}

// composerAuth is the credential for one host.
type composerAuth struct {
	form       string // "gitlab-token", "http-basic", "gitlab-oauth"
	user, pass string
	from       string // auth.json, COMPOSER_AUTH, the command
}

// composerRunners are the subcommands that download packages.
var composerRunners = setOf("install", "i", "update", "u", "upgrade", "require", "r", "create-project", "reinstall")

var composerSpec = optSpec{value: opts("d", "working-dir", "repository", "repository-url", "file")}

func (composerDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	var repos []composerRepo
	var requires string // the packages composer.json requires
	auth := map[string]composerAuth{}
	committed, localWritten := false, false
	var prev []fileWrite
	seen := map[string]bool{}
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		args := ws[1:]
		if tool == "php" && len(ws) > 1 && strings.HasPrefix(cmdBase(ws[1].Value), "composer") {
			tool, args = "composer", ws[2:]
		}
		if tool != "composer" && tool != "composer.phar" {
			for _, w := range in.commandWrites(c, func(d string) bool { return path.Base(d) == "auth.json" }, prev) {
				prev = append(prev, w)
				if rel, ok := in.repoPath(w.path); ok && rel == "auth.json" {
					localWritten = true // the committed file is replaced
				}
				if w.known {
					composerAuthJSON(w.out.value, "auth.json written by "+CommandText(c), auth)
				}
			}
			continue
		}
		p := composerSpec.parse(args)
		dir := "."
		if d, ok := p.last("-d", "--working-dir"); ok {
			dir = d.Value
		}
		if !committed {
			committed = true
			rel, ok := in.repoPath(dir)
			if !ok {
				rel = "."
			}
			if text, ok := in.readRepo(path.Join(rel, "composer.json")); ok {
				repos = append(composerJSONRepos(path.Join(rel, "composer.json"), text), repos...)
				requires = strings.Join(requiredPackages("composer", text), " ")
			}
			// The project's auth.json overrides the global one
			// (COMPOSER_HOME/auth.json) unless the job wrote its own.
			if text, ok := in.readRepo(path.Join(rel, "auth.json")); ok && !localWritten {
				// Composer reads auth.json as written: no variables.
				composerAuthJSON(text, path.Join(rel, "auth.json"), auth)
			}
		}
		if len(p.pos) == 0 {
			continue
		}
		switch sub := p.pos[0].Value; {
		case sub == "config" || sub == "c":
			in.composerConfig(c, p.pos[1:], &repos, auth)
		case composerRunners[sub]:
			env := auth
			if v, ok := in.getenv(c, "COMPOSER_AUTH"); ok && v != "" {
				// COMPOSER_AUTH is merged over auth.json
				// (https://getcomposer.org/doc/03-cli.md#composer-auth).
				env = map[string]composerAuth{}
				for k, a := range auth {
					env[k] = a
				}
				composerAuthJSON(v, "COMPOSER_AUTH", env)
			}
			for _, r := range repos {
				in.composerRead(c, r, env, requires, seen, out)
			}
		}
	}
}

// composerConfig applies "composer config KEY VALUE...".
func (in *Input) composerConfig(c *shell.Command, args []shell.Word, repos *[]composerRepo, auth map[string]composerAuth) {
	if len(args) < 2 {
		return
	}
	key, vals := args[0].Value, args[1:]
	if k, ok := strings.CutPrefix(key, "repositories."); ok || strings.HasPrefix(key, "repo.") {
		if !ok {
			k = strings.TrimPrefix(key, "repo.")
		}
		r := composerRepo{name: k, at: cmdSite(c)}
		switch {
		case len(vals) >= 2 && vals[0].Value == "composer":
			r.url, r.raw = vals[1].Value, vals[1].Raw
		case strings.HasPrefix(strings.TrimSpace(vals[0].Value), "{"):
			var o struct{ Type, URL string }
			if json.Unmarshal([]byte(vals[0].Value), &o) != nil || o.Type != "composer" {
				return
			}
			r.url, r.raw = o.URL, o.URL
		default:
			return
		}
		*repos = append(*repos, r)
		return
	}
	form, host, ok := strings.Cut(key, ".")
	if !ok {
		return
	}
	a := composerAuth{form: form, from: CommandText(c)}
	switch form {
	case "gitlab-token", "gitlab-oauth":
		a.pass = vals[len(vals)-1].Value
		if len(vals) >= 2 {
			a.user = vals[0].Value
		}
	case "http-basic":
		if len(vals) < 2 {
			return
		}
		a.user, a.pass = vals[0].Value, vals[1].Value
	default:
		return
	}
	auth[strings.ToLower(host)] = a
}

// composerJSONRepos reads the composer-type repositories of a
// composer.json: a list, or an object keyed by name. Composer does not
// expand variables there.
func composerJSONRepos(file, text string) []composerRepo {
	var doc struct {
		Repositories json.RawMessage `json:"repositories"`
	}
	if json.Unmarshal([]byte(text), &doc) != nil || len(doc.Repositories) == 0 {
		return nil
	}
	type repo struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	var list []repo
	var names []string
	if json.Unmarshal(doc.Repositories, &list) != nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(doc.Repositories, &m) != nil {
			return nil
		}
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			var r repo
			_ = json.Unmarshal(m[k], &r) // a "packagist.org": false entry is no repository
			list = append(list, r)
		}
	}
	var out []composerRepo
	for i, r := range list {
		if r.Type != "composer" || r.URL == "" {
			continue
		}
		name := r.URL
		if i < len(names) {
			name = names[i]
		}
		line := 0
		if j := strings.Index(text, r.URL); j >= 0 {
			line = lineAt(text, j)
		}
		out = append(out, composerRepo{name: name, url: r.URL, raw: r.URL, at: fileSite(file, line)})
	}
	return out
}

// composerAuthJSON merges an auth.json document into auth by host.
func composerAuthJSON(text, from string, auth map[string]composerAuth) {
	var doc map[string]map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &doc) != nil {
		return
	}
	for _, form := range []string{"gitlab-token", "gitlab-oauth", "http-basic"} {
		for host, raw := range doc[form] {
			a := composerAuth{form: form, from: from}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				a.pass = s
			} else {
				var o struct{ Username, Password, Token string }
				if json.Unmarshal(raw, &o) != nil {
					continue
				}
				a.user, a.pass = o.Username, o.Password+o.Token
			}
			auth[strings.ToLower(host)] = a
		}
	}
}

// composerRead reports a composer repository read with the job token.
func (in *Input) composerRead(c *shell.Command, r composerRepo, auth map[string]composerAuth, requires string, seen map[string]bool, out *Output) {
	u, ok := ParseURL(r.url)
	if !ok {
		return
	}
	a, ok := auth[strings.ToLower(u.Host)]
	if !ok || !HasJobToken(a.pass) {
		return
	}
	key := r.name + "\x00" + r.url
	if seen[key] {
		return
	}
	seen[key] = true
	at := r.at
	if at.file == "" && at.c == nil {
		at = cmdSite(c)
	}
	user := a.user
	if a.form != "http-basic" && user == "" {
		// A bare token: see the type comment.
		user = inventory.JobTokenUser
	}
	what := "Composer repository " + r.raw + " (" + a.form + " for " + u.Host + " from " + Detail(a.from) + ")"
	in.feedUse(at, c, r.url, r.raw, credential{User: user, Secret: a.pass}, false, "packages/composer", what, requires, out)
}
