package sim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A simulated CI job: a project, the user who triggered it and its
// CI_JOB_TOKEN, valid while the job runs ("The token is valid only while
// the job is running. After the job finishes, the token access is
// revoked", https://docs.gitlab.com/ci/jobs/ci_job_token/). Jobs are made
// with POST /-/sim/jobs (docs/design.md §8, "Simulator job tokens"); they
// are not GitLab API.
type job struct {
	id       int
	token    []byte
	project  *project
	user     *user
	finished bool
	started  time.Time
	denied   []deniedRequest // job-token requests refused, in order (joblist.go)
}

// jobUser is the triggering user of a job made without "user": Maintainer
// on every project, so that only the allowlist decides.
var jobUser = &user{id: -1, username: "sim-ci", role: RoleMaintainer, roles: map[string]Role{}}

// jobFor returns the running or finished job of a token, nil for none.
// The caller holds the state lock.
func (s *state) jobFor(token string) *job {
	if token == "" {
		return nil
	}
	for _, j := range s.jobs {
		if subtle.ConstantTimeCompare(j.token, []byte(token)) == 1 {
			return j
		}
	}
	return nil
}

// userNamed finds a configured user by username; "" is jobUser.
func (s *Server) userNamed(name string) *user {
	if name == "" {
		return jobUser
	}
	if strings.EqualFold(name, rootUser.username) && s.auth.open {
		return rootUser
	}
	for _, tu := range s.auth.tokens {
		if strings.EqualFold(tu.user.username, name) {
			return tu.user
		}
	}
	return nil
}

// serveSimJobs is POST /-/sim/jobs and POST /-/sim/jobs/:id/finish. Both
// need an administrator's PRIVATE-TOKEN.
func (s *Server) serveSimJobs(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/-/sim/jobs")
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "405 Not Allowed")
		return
	}
	u, ok := s.auth.authenticate(r)
	switch {
	case !ok || u == nil:
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	case !u.admin:
		writeMessage(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	switch {
	case rest == "" || rest == "/":
		s.createJob(w, r)
	case strings.HasSuffix(rest, "/finish"):
		id, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/finish"))
		if err != nil {
			writeError(w, http.StatusNotFound, "404 Not Found")
			return
		}
		s.finishJob(w, r, id)
	default:
		writeError(w, http.StatusNotFound, "404 Not Found")
	}
}

func simJobJSON(j *job) map[string]any {
	status := "running"
	if j.finished {
		status = "success"
	}
	return map[string]any{"id": j.id, "project": j.project.path, "user": j.user.username, "status": status}
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Project string `json:"project"`
		User    string `json:"user"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "The request body contains invalid JSON")
		return
	}
	if in.Project == "" {
		writeError(w, http.StatusBadRequest, "project is missing")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p := s.st.project(in.Project)
	if p == nil {
		writeMessage(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	u := s.userNamed(in.User)
	if u == nil {
		writeMessage(w, http.StatusNotFound, "404 User Not Found")
		return
	}
	// GitLab's job tokens carry the glcbt- prefix
	// (https://docs.gitlab.com/security/tokens/#token-prefixes).
	buf := make([]byte, 20)
	rand.Read(buf)
	tok := "glcbt-" + hex.EncodeToString(buf)
	j := &job{id: s.st.nextJobID(), token: []byte(tok), project: p, user: u, started: s.now()}
	s.st.jobs = append(s.st.jobs, j)
	out := simJobJSON(j)
	out["token"] = tok
	writeJSON(w, http.StatusCreated, out)
}

// finishJob ends a job. The body (optional, docs/design.md §8) gives its
// status and log, which the jobs API then serves (joblist.go); the answer
// lists the job-token requests of the job that were refused.
func (s *Server) finishJob(w http.ResponseWriter, r *http.Request, id int) {
	in := finishInput{Status: "success"}
	if r.Body != nil {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			writeError(w, http.StatusBadRequest, "The request body is too large")
			return
		}
		if len(strings.TrimSpace(string(data))) > 0 {
			if err := json.Unmarshal(data, &in); err != nil {
				writeError(w, http.StatusBadRequest, "The request body contains invalid JSON")
				return
			}
		}
	}
	switch in.Status {
	case "":
		in.Status = "success"
	case "success", "failed", "canceled":
	default:
		writeError(w, http.StatusBadRequest, "status does not have a valid value")
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	j := s.st.simJob(id)
	if j == nil {
		writeMessage(w, http.StatusNotFound, "404 Job Not Found")
		return
	}
	if !j.finished {
		j.finished = true
		s.keepJob(j, in)
	}
	out := simJobJSON(j)
	out["status"] = j.project.meta(j.id, s.st.loadedAt).Status
	out["denied"] = append([]deniedRequest{}, j.denied...)
	writeJSON(w, http.StatusOK, out)
}
