package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// jobMeta is what the simulator knows of a job besides its log: from
// _jobs/<project>/<id>.json in the snapshot (docs/design.md §4), or from a
// job it ran itself (POST /-/sim/jobs, then .../finish). A job known only
// by its log is a successful job on the default branch.
type jobMeta struct {
	Name          string    `json:"name"`
	Stage         string    `json:"stage"`
	Status        string    `json:"status"`
	Ref           string    `json:"ref"`
	FailureReason string    `json:"failure_reason"`
	User          string    `json:"user"`
	CreatedAt     time.Time `json:"created_at"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
}

// jobStatuses are the scopes GET /projects/:id/jobs accepts (lib/api/ci/
// jobs.rb, `values: ::CommitStatus::AVAILABLE_STATUSES`, documented at
// https://docs.gitlab.com/api/jobs/#list-project-jobs), and so the statuses
// a job file may give.
var jobStatuses = []string{"created", "waiting_for_resource", "preparing", "pending", "running", "success", "failed", "canceled", "skipped", "manual", "scheduled"}

// loadJobMeta reads dir/<project path>/<job id>.json files, with the same
// care as loadJobLogs: regular files only, bounded, strict fields.
func loadJobMeta(dir string) (map[string]map[int]*jobMeta, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job files %s: %w", dir, err)
	}
	defer root.Close()
	out := map[string]map[int]*jobMeta{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") || !d.Type().IsRegular() {
			return nil
		}
		name := filepath.Join(dir, p)
		id, err := strconv.Atoi(strings.TrimSuffix(path.Base(p), ".json"))
		if err != nil || id <= 0 || path.Dir(p) == "." {
			return fmt.Errorf("%s: want _jobs/<project path>/<job id>.json with a numeric job id", name)
		}
		data, err := inventory.ReadRegular(root, p)
		if errors.Is(err, inventory.ErrNotRegular) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var m jobMeta
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if m.Status == "" {
			m.Status = "failed"
		}
		if !slices.Contains(jobStatuses, m.Status) {
			return fmt.Errorf("%s: status %q: want one of %s", name, m.Status, strings.Join(jobStatuses, ", "))
		}
		proj := path.Dir(p)
		if out[proj] == nil {
			out[proj] = map[int]*jobMeta{}
		}
		out[proj][id] = &m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read job files: %w", err)
	}
	return out, nil
}

// addJobMeta attaches job files to their projects; a job with a file
// but no log has an empty log.
func (st *state) addJobMeta(meta map[string]map[int]*jobMeta) error {
	for pp, jobs := range meta {
		p := st.project(pp)
		if p == nil {
			return fmt.Errorf("job files for %s: no such project in the inventory", pp)
		}
		if p.jobMeta == nil {
			p.jobMeta = map[int]*jobMeta{}
		}
		if p.jobs == nil {
			p.jobs = map[int][]byte{}
		}
		for id, m := range jobs {
			p.jobMeta[id] = m
			if _, ok := p.jobs[id]; !ok {
				p.jobs[id] = nil
			}
		}
	}
	return nil
}

// snapshotJobIDs are the job ids of the snapshot's job files, which the
// jobs the simulator runs skip: GitLab's job ids are unique across the
// instance, and the jobs API lists both.
func (st *state) snapshotJobIDs() map[int]bool {
	ids := map[int]bool{}
	for _, p := range st.projByPath {
		for id := range p.jobs {
			ids[id] = true
		}
	}
	return ids
}

// nextJobID is the id of the next simulated job: 1, 2, ... (as
// docs/design.md §8 promises) without the snapshot's. The caller holds the
// state's write lock.
func (st *state) nextJobID() int {
	id := 1
	if n := len(st.jobs); n > 0 {
		id = st.jobs[n-1].id + 1
	}
	for st.jobIDs[id] {
		id++
	}
	return id
}

// simJob is the simulated job of id, nil for none.
func (st *state) simJob(id int) *job {
	for _, j := range st.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

// meta is the job's metadata, the defaults of a job known by its log only.
func (p *project) meta(id int, loaded time.Time) jobMeta {
	m := jobMeta{Status: "success"}
	if x := p.jobMeta[id]; x != nil {
		m = *x
	}
	m.Name = cmpOr(m.Name, "job-"+strconv.Itoa(id))
	m.Stage = cmpOr(m.Stage, "test")
	m.Ref = cmpOr(m.Ref, cmpOr(p.defaultBranch, "main"))
	if m.CreatedAt.IsZero() {
		m.CreatedAt = loaded
	}
	if m.StartedAt.IsZero() {
		m.StartedAt = m.CreatedAt
	}
	if m.FinishedAt.IsZero() && m.Status != "running" && m.Status != "pending" && m.Status != "created" {
		m.FinishedAt = m.StartedAt
	}
	return m
}

// jobUserJSON is the user block of Entities::Ci::Job (Entities::User).
type jobUserJSON struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
}

// jobListJSON is a job of the list: jobJSON and its user.
type jobListJSON struct {
	jobJSON
	User *jobUserJSON `json:"user"`
}

// jobEntity renders job id of p as Entities::Ci::Job
// (lib/api/entities/ci/job.rb).
func (c *rctx) jobEntity(p *project, id int) jobListJSON {
	m := p.meta(id, c.s.st.loadedAt)
	j := jobJSON{
		ID: id, Status: m.Status, Stage: m.Stage, Name: m.Name, Ref: m.Ref,
		CreatedAt: gitlabTime(m.CreatedAt), StartedAt: gitlabTime(m.StartedAt), TagList: []string{},
		WebURL:   c.s.baseURL(c.r) + "/" + p.path + "/-/jobs/" + strconv.Itoa(id),
		Pipeline: jobPipelineJSON{ID: id, ProjectID: p.id, Ref: m.Ref, SHA: p.commitID(), Status: m.Status},
	}
	if !m.FinishedAt.IsZero() {
		j.FinishedAt = gitlabTime(m.FinishedAt)
	}
	if m.Status == "failed" {
		j.FailureReason = &m.FailureReason
		if m.FailureReason == "" {
			r := "script_failure"
			j.FailureReason = &r
		}
	}
	out := jobListJSON{jobJSON: j}
	if m.User != "" {
		out.User = &jobUserJSON{ID: 0, Username: m.User}
	}
	return out
}

// GET /projects/:id/jobs (lib/api/ci/jobs.rb; https://docs.gitlab.com/api/jobs/#list-project-jobs):
// authorize_read_builds! (403), the project's builds `order(id: :desc)`
// ("Jobs are sorted in descending order of their IDs"), filtered by
// scope (one status or an array, scope[]=failed; an unknown one is
// Grape's 400 "scope does not have a valid value"), offset-paginated.
func listJobs(c *rctx, p *project) {
	if !canReadJobs(c.u, p) {
		c.forbidden()
		return
	}
	q := c.r.URL.Query()
	scopes := append(q["scope[]"], q["scope"]...)
	for _, sc := range scopes {
		if !slices.Contains(jobStatuses, sc) {
			writeError(c.w, http.StatusBadRequest, "scope does not have a valid value")
			return
		}
	}
	c.s.st.mu.RLock()
	ids := make([]int, 0, len(p.jobs))
	for id := range p.jobs {
		if len(scopes) == 0 || slices.Contains(scopes, p.meta(id, c.s.st.loadedAt).Status) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	c.s.st.mu.RUnlock()
	writePage(c, ids, func(id int) jobListJSON {
		c.s.st.mu.RLock()
		defer c.s.st.mu.RUnlock()
		return c.jobEntity(p, id)
	})
}

// deniedRequest is a job-token request of a simulated job that was
// refused: what the caller would see, kept so that a test can tell which
// requests a job made failed (and make its log from them).
type deniedRequest struct {
	Target  string `json:"target"`
	Reason  string `json:"reason"`
	Policy  string `json:"policy,omitempty"`
	Message string `json:"message"`
}

// recordDenial keeps a refused request of j. The caller holds the state's
// write lock (authorizeJob's).
func (j *job) recordDenial(v verdict) {
	const maxDenials = 1000
	if len(j.denied) >= maxDenials {
		return
	}
	d := deniedRequest{Target: v.target.path, Policy: v.policy}
	switch v.denial {
	case denyScope:
		d.Reason, d.Message = "not-allowlisted", v.scopeMessage()
	case denyPolicy:
		d.Reason, d.Message = "policy-missing", v.policyMessage()
	case denyHidden:
		d.Reason, d.Message = "hidden", "404 Project Not Found"
	case denyRole:
		d.Reason, d.Message = "role-missing", "403 Forbidden"
	case denyOwn:
		d.Reason, d.Message = "own-project-only", "denied: requested access to the resource is denied"
	}
	j.denied = append(j.denied, d)
}

// finishInput is the optional body of POST /-/sim/jobs/:id/finish.
type finishInput struct {
	// Status is the job's end: success (the default) or failed, canceled.
	Status string `json:"status"`
	// Log is the job's log, served by the trace API. Without one, a
	// failed job's log lists its denied requests, one line each, with
	// GitLab's message.
	Log           *string `json:"log"`
	Name          string  `json:"name"`
	FailureReason string  `json:"failure_reason"`
}

// keepJob stores a finished simulated job so that the jobs API lists it
// and serves its log, as GitLab keeps every job of a project. The caller
// holds the state's write lock.
func (s *Server) keepJob(j *job, in finishInput) {
	p := j.project
	log := ""
	if in.Log != nil {
		log = *in.Log
	} else if in.Status == "failed" {
		var b strings.Builder
		for _, d := range j.denied {
			fmt.Fprintf(&b, "%s\n", d.Message)
		}
		b.WriteString("ERROR: Job failed: exit code 1\n")
		log = b.String()
	}
	if p.jobs == nil {
		p.jobs = map[int][]byte{}
	}
	if p.jobMeta == nil {
		p.jobMeta = map[int]*jobMeta{}
	}
	p.jobs[j.id] = []byte(log)
	now := s.now()
	p.jobMeta[j.id] = &jobMeta{
		Name: cmpOr(in.Name, "sim-job-"+strconv.Itoa(j.id)), Status: in.Status, FailureReason: in.FailureReason,
		User: j.user.username, CreatedAt: j.started, StartedAt: j.started, FinishedAt: now,
	}
}
