package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ciJobUser is the username a job token is sent with over basic auth
// (Gitlab::Auth::CI_JOB_USER, lib/gitlab/auth.rb).
const ciJobUser = "gitlab-ci-token"

// basicJob returns the job of a request's basic auth gitlab-ci-token:TOKEN
// and whether basic auth was sent at all. A token of no job, or of a
// finished job, gives a nil job (Gitlab::Auth#build_access_token_check
// accepts only running builds). The caller holds the state lock.
func (s *Server) basicJob(r *http.Request) (j *job, sent bool) {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return nil, false
	}
	if name != ciJobUser {
		return nil, true
	}
	j = s.st.jobFor(pass)
	if j == nil || j.finished {
		return nil, true
	}
	return j, true
}

// Git over HTTP: GET /<full path>.git/info/refs?service=git-upload-pack
// (app/controllers/repositories/git_http_controller.rb#info_refs), the
// first request of every clone and fetch. Access is
// Gitlab::GitAccess#check (lib/gitlab/git_access.rb):
// check_project_accessibility! then download access.
const (
	gitNotFound     = "The project you were looking for could not be found or you don't have permission to view it."
	gitAccessDenied = "HTTP Basic: Access denied"
)

func (s *Server) serveGitInfoRefs(w http.ResponseWriter, r *http.Request) {
	plain := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		plain(http.StatusNotFound, gitNotFound)
		return
	}
	path := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(r.URL.Path, "/info/refs"), "/"), ".git")
	service := r.URL.Query().Get("service")
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	j, _ := s.basicJob(r)
	if j == nil {
		// Repositories::GitHttpClientController#authenticate_user asks
		// for credentials (401 with a Basic challenge) when none, or bad
		// ones, were sent; anonymous clones of public projects are not
		// simulated.
		w.Header().Set("WWW-Authenticate", `Basic realm="GitLab"`)
		plain(http.StatusUnauthorized, gitAccessDenied)
		return
	}
	p := s.st.project(path)
	if p == nil {
		plain(http.StatusNotFound, gitNotFound)
		return
	}
	if service == "git-receive-pack" {
		// Job token pushes (ci_push_repository_for_job_token_allowed) are
		// not simulated: :upload is refused.
		plain(http.StatusForbidden, "You are not allowed to upload code.")
		return
	}
	if service != "git-upload-pack" {
		plain(http.StatusForbidden, "You are not allowed to download code.")
		return
	}
	switch v := s.authorizeJob(j, p, need{}); v.denial {
	case allowed:
	case denyScope:
		// :auth_by_job_token_project_not_in_allowlist, a ForbiddenError
		// (403) from 17.4; before, the project was not found.
		if s.beh.jobTokenForbidden {
			plain(http.StatusForbidden, v.scopeMessage())
		} else {
			plain(http.StatusNotFound, gitNotFound)
		}
		return
	case denyHidden:
		// check_project_accessibility!: the scope passed but the user
		// cannot read the project, :auth_by_job_token_forbidden from 17.4.
		if s.beh.jobTokenForbidden {
			plain(http.StatusForbidden, "Insufficient permissions to pull from the repository of project "+p.name()+".")
		} else {
			plain(http.StatusNotFound, gitNotFound)
		}
		return
	case denyRole:
		// check_download_access!: read_project but not download_code.
		plain(http.StatusForbidden, "You are not allowed to download code from this project.")
		return
	default:
		plain(http.StatusNotFound, gitNotFound)
		return
	}
	// The ref advertisement of the smart protocol
	// (https://git-scm.com/docs/http-protocol#_smart_clients), with a
	// placeholder commit ID for the default branch.
	branch := p.defaultBranch
	if branch == "" {
		branch = "main"
	}
	sum := sha1.Sum([]byte(p.path))
	oid := hex.EncodeToString(sum[:])
	w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(pktLine("# service=git-upload-pack\n") + "0000" +
		pktLine(oid+" HEAD\x00multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/"+branch+" agent=gitlab-sim\n") +
		pktLine(oid+" refs/heads/"+branch+"\n") + "0000"))
}

func pktLine(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// Container registry token: GET /jwt/auth?service=container_registry&
// scope=repository:<path>:<actions> (app/controllers/jwt_controller.rb,
// app/services/auth/container_registry_authentication_service.rb). The
// answer is {"token": JWT} whose access claim lists, per requested
// repository, the actions granted; a denied action is left out and a
// repository with none is dropped (process_repository_access returns
// nil). The registry then refuses the pull or push itself ("denied:
// requested access to the resource is denied"); it is not simulated.
//
// GitLab signs with the registry's RSA key (RS256, with a kid); the
// simulator signs HS256 with a key of its own, made at start and never
// published, so clients must not verify the signature.
func (s *Server) serveRegistryAuth(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("service") != "container_registry" {
		w.WriteHeader(http.StatusNotFound) // head :not_found for an unknown service
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	j, sent := s.basicJob(r)
	if sent && j == nil {
		// JwtController#render_access_denied.
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]string{{
			"code": "UNAUTHORIZED", "message": gitAccessDenied,
		}}})
		return
	}
	access := []map[string]any{}
	for _, sc := range r.URL.Query()["scope"] {
		if a := s.registryAccess(j, sc); a != nil {
			access = append(access, a)
		}
	}
	sub := ""
	if j != nil {
		sub = j.user.username
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": s.registryJWT(sub, access)})
}

// registryAccess is process_repository_access for one scope
// "repository:<path>[/<image>...]:<action>[,<action>]".
func (s *Server) registryAccess(j *job, scope string) map[string]any {
	parts := strings.Split(scope, ":")
	if len(parts) != 3 || parts[0] != "repository" {
		return nil
	}
	name := parts[1]
	// ContainerRegistry::Path#repository_project: the longest prefix of
	// the repository path that is a project.
	var p *project
	for cand := name; cand != ""; {
		if p = s.st.project(cand); p != nil {
			break
		}
		i := strings.LastIndexByte(cand, '/')
		if i < 0 {
			break
		}
		cand = cand[:i]
	}
	if p == nil {
		return nil
	}
	var granted []string
	for _, act := range strings.Split(parts[2], ",") {
		var ok bool
		switch {
		case j == nil:
			// Anonymous: public projects may be pulled.
			ok = act == "pull" && p.visibility == "public"
		case act == "pull":
			// build_can_pull?: the job's own project, or
			// build_read_container_image on the requested one, which
			// takes the job token scope.
			ok = p == j.project || s.authorizeJob(j, p, need{}).ok()
		case act == "push", act == "delete":
			// build_can_push?, build_can_delete?: only the project the
			// job runs in; a job token has no user_can_push? ability.
			ok = s.authorizeJob(j, p, need{ownOnly: true}).ok()
		}
		if ok {
			granted = append(granted, act)
		}
	}
	if len(granted) == 0 {
		return nil
	}
	meta := map[string]any{"project_path": strings.ToLower(p.path), "project_id": p.id}
	if root := p.ns; root != nil {
		for root.parent != nil {
			root = root.parent
		}
		meta["root_namespace_id"] = root.id
	}
	return map[string]any{"type": "repository", "name": name, "actions": granted, "meta": meta}
}

// registryJWT is authorized_token's claims (iss gitlab-issuer, aud the
// service, sub the username, auth_type build for a job token, the
// container_registry_token_expire_delay default of 5 minutes; the nested
// user claim is left out) signed HS256 with the simulator's key.
func (s *Server) registryJWT(sub string, access []map[string]any) string {
	now := s.now()
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := map[string]any{
		"iss": "gitlab-issuer", "aud": "container_registry", "sub": sub, "auth_type": "build",
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": hex.EncodeToString(jti), "access": access,
	}
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	body, _ := json.Marshal(claims)
	msg := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}
