package sim

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// user is an authenticated caller. A nil *user is an anonymous request.
type user struct {
	id       int
	username string
	admin    bool
	role     Role
	roles    map[string]Role // lower-case path -> role
}

// authenticator maps token values to users without ever exposing them.
type authenticator struct {
	open   bool
	tokens []tokenUser
}

type tokenUser struct {
	secret []byte
	user   *user
}

var rootUser = &user{id: 1, username: "root", admin: true}

func newAuthenticator(tokens []Token) (*authenticator, error) {
	a := &authenticator{open: len(tokens) == 0}
	for i, t := range tokens {
		if t.Value == "" {
			return nil, fmt.Errorf("token %d: empty value", i+1)
		}
		u := &user{id: i + 2, username: t.Username, admin: t.Admin, role: t.Role, roles: map[string]Role{}}
		if u.username == "" {
			u.username = fmt.Sprintf("user%d", i+1)
		}
		for p, r := range t.Roles {
			u.roles[strings.ToLower(strings.Trim(p, "/"))] = r
		}
		a.tokens = append(a.tokens, tokenUser{secret: []byte(t.Value), user: u})
	}
	return a, nil
}

// tokenFrom returns the token of a request: PRIVATE-TOKEN, then
// Authorization: Bearer, then the private_token query parameter (GitLab's
// order in Gitlab::Auth::AuthFinders).
func tokenFrom(r *http.Request) string {
	if t := r.Header.Get("PRIVATE-TOKEN"); t != "" {
		return t
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return r.URL.Query().Get("private_token")
}

// authenticate returns the user of the request, nil for an anonymous one,
// and ok false when a token was sent but is not valid.
func (a *authenticator) authenticate(r *http.Request) (u *user, ok bool) {
	t := tokenFrom(r)
	if t == "" {
		return nil, true
	}
	if a.open {
		return rootUser, true
	}
	for _, tu := range a.tokens {
		if subtle.ConstantTimeCompare(tu.secret, []byte(t)) == 1 {
			return tu.user, true
		}
	}
	return nil, false
}

// roleOn is the user's access level on the project or group at path: the
// nearest configured path wins, as inherited membership does.
func (u *user) roleOn(path string) Role {
	if u == nil {
		return RoleNone
	}
	if u.admin {
		return RoleOwner
	}
	p := strings.ToLower(path)
	for {
		if r, ok := u.roles[p]; ok {
			return r
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return u.role
		}
		p = p[:i]
	}
}

// hasRoleUnder reports whether the user has at least Guest somewhere under
// (or on) path, which makes the group visible to them.
func (u *user) hasRoleUnder(path string) bool {
	if u == nil {
		return false
	}
	if u.admin || u.role >= RoleGuest {
		return true
	}
	lp := strings.ToLower(path)
	for p, r := range u.roles {
		if r >= RoleGuest && (p == lp || strings.HasPrefix(p, lp+"/")) {
			return true
		}
	}
	return false
}

// canRead is GitLab's read_project: public to all, internal to any
// signed-in user, private to members.
func canRead(u *user, p *project) bool {
	switch {
	case u != nil && u.admin, p.visibility == "public":
		return true
	case p.visibility == "internal":
		return u != nil
	}
	return u.roleOn(p.path) >= RoleGuest
}

// canReadCode is read_code: guests of a private project cannot see its
// repository.
func canReadCode(u *user, p *project) bool {
	if !canRead(u, p) {
		return false
	}
	return p.visibility != "private" || u.roleOn(p.path) >= RoleReporter
}

// canAdmin is admin_project (Maintainer+), which every job token setting
// needs.
func canAdmin(u *user, p *project) bool { return u.roleOn(p.path) >= RoleMaintainer }

// canReadJobs is read_build (Reporter+ on private projects; GitLab's
// public pipelines setting is assumed on for public and internal ones).
func canReadJobs(u *user, p *project) bool {
	return canRead(u, p) && (p.visibility != "private" || u.roleOn(p.path) >= RoleReporter)
}

func canReadGroup(u *user, g *group) bool {
	switch {
	case u != nil && u.admin, g.visibility == "public":
		return true
	case g.visibility == "internal" && u != nil:
		return true
	}
	return u.hasRoleUnder(g.path)
}
