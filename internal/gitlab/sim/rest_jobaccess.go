package sim

import (
	"net/http"
	"strconv"
)

// REST endpoints that accept a CI_JOB_TOKEN
// (https://docs.gitlab.com/ci/jobs/ci_job_token/#job-token-access). The
// simulator stores no packages, artifacts or pipelines: what the snapshot
// lacks is served as existing placeholder content, so that the answer
// shows only the authorization decision (docs/design.md §8).

// onJobTarget resolves :id and authorizes the request, under the state's
// write lock (the authentication log may change), then runs h.
//
// For a job token the order is lib/api/helpers.rb's find_project!: an
// unknown project is 404 "Project Not Found"; when read_project fails
// (the scope refuses, or the user cannot see the project)
// handle_job_token_failure! answers 403 with the allowlist message (from
// 17.4; before, the same 404); then authorize_job_token_policies! (403
// with the policy message); then the endpoint's own ability (403).
//
// Without a job token the route is an ordinary authenticated one.
func onJobTarget(n need, h func(*rctx, *project)) func(*rctx) {
	return func(c *rctx) {
		st := c.s.st
		st.mu.Lock()
		defer st.mu.Unlock()
		if c.job == nil {
			if !c.authenticated() {
				return
			}
			p := c.findProject()
			if p == nil {
				return
			}
			min := RoleGuest
			if p.visibility == "private" {
				min = RoleReporter
			}
			if n.write {
				min = RoleDeveloper
			}
			if c.u.roleOn(p.path) < min {
				c.forbidden()
				return
			}
			h(c, p)
			return
		}
		p := c.lookupProject()
		if p == nil {
			writeMessage(c.w, http.StatusNotFound, "404 Project Not Found")
			return
		}
		v := c.s.authorizeJob(c.job, p, n)
		switch v.denial {
		case allowed:
			h(c, p)
		case denyHidden, denyScope:
			// handle_job_token_failure! answers every read_project
			// failure of a job token with the allowlist message, the
			// user's own lack of access included.
			if c.s.beh.jobTokenForbidden {
				writeMessage(c.w, http.StatusForbidden, "403 Forbidden - "+v.scopeMessage())
			} else {
				writeMessage(c.w, http.StatusNotFound, "404 Project Not Found")
			}
		case denyPolicy:
			writeMessage(c.w, http.StatusForbidden, "403 Forbidden - "+v.policyMessage())
		default:
			c.forbidden()
		}
	}
}

// lookupProject resolves :id (numeric ID or full path) without any
// visibility check.
func (c *rctx) lookupProject() *project {
	key := c.params["id"]
	if id, err := strconv.Atoi(key); err == nil {
		return c.s.st.projByID[id]
	}
	return c.s.st.project(key)
}

// getGenericPackage is GET /projects/:id/packages/generic/:package_name/
// :package_version/:file_name (lib/api/generic_packages.rb): the file,
// here a placeholder.
func getGenericPackage(c *rctx, p *project) {
	c.w.Header().Set("Content-Type", "application/octet-stream")
	c.w.Header().Set("Content-Disposition", `attachment; filename="`+c.params["file"]+`"`)
	c.w.WriteHeader(http.StatusOK)
	c.w.Write([]byte("gitlab-sim placeholder: " + p.path + " " + c.params["name"] + "/" + c.params["version"] + "/" + c.params["file"] + "\n"))
}

// putGenericPackage is the upload: 201 {"message":"201 Created"}
// (https://docs.gitlab.com/user/packages/generic_packages/#publish-a-package).
// The body is not stored.
func putGenericPackage(c *rctx, _ *project) {
	writeMessage(c.w, http.StatusCreated, "201 Created")
}

// emptyZip is a zip archive with no entries (the end of central directory
// record alone).
var emptyZip = append([]byte("PK\x05\x06"), make([]byte, 18)...)

// getArtifacts is GET /projects/:id/jobs/artifacts/:ref_name/download?job=
// (lib/api/ci/job_artifacts.rb): the archive of the latest successful job,
// here an empty zip.
func getArtifacts(c *rctx, _ *project) {
	c.w.Header().Set("Content-Type", "application/zip")
	c.w.Header().Set("Content-Disposition", `attachment; filename="artifacts.zip"`)
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(emptyZip)
}

// triggerPipeline is POST /projects/:id/trigger/pipeline
// (lib/api/ci/triggers.rb) with token= a CI_JOB_TOKEN. The token is not
// an API credential: Ci::PipelineTriggerService looks it up as a trigger
// token, then as the token of a running job (Ci::AuthJobFinder), and
// creates the pipeline only if `can?(job.user, :read_project, project)`,
// which applies the job token scope; every failure to find or read ends
// in not_found! (404 "404 Not Found",
// https://docs.gitlab.com/ci/jobs/ci_job_token/#troubleshooting). The
// pipeline is created as the job's user, which needs Developer
// (Ci::CreatePipelineService: "Insufficient permissions to create a new
// pipeline"). Pipeline trigger tokens are not simulated.
func triggerPipeline(c *rctx) {
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	j := st.jobFor(c.str("token", ""))
	p := c.lookupProject()
	if j == nil || j.finished || p == nil {
		writeMessage(c.w, http.StatusNotFound, "404 Not Found")
		return
	}
	switch v := c.s.authorizeJob(j, p, need{write: true}); v.denial {
	case allowed:
	case denyRole:
		writeJSON(c.w, http.StatusBadRequest, map[string]any{"message": map[string]any{"base": []string{"Insufficient permissions to create a new pipeline"}}})
		return
	default:
		writeMessage(c.w, http.StatusNotFound, "404 Not Found")
		return
	}
	st.pipelines++
	writeJSON(c.w, http.StatusCreated, map[string]any{
		"id": st.pipelines, "iid": st.pipelines, "project_id": p.id, "ref": c.str("ref", ""),
		"status": "created", "source": "pipeline", "web_url": c.s.baseURL(c.r) + "/" + p.path + "/-/pipelines/" + strconv.Itoa(st.pipelines),
	})
}
