package sim

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
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
			if n.role != 0 {
				min = n.role
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
// token, then as the token of a job (Ci::AuthJobFinder#execute!, which
// refuses a finished job with 401 "Job is not running"), and creates the
// pipeline only if `can?(job.user, :read_project, project)`, which applies
// the job token scope; an unknown token or project and a refused read end
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
	switch {
	case j == nil || p == nil:
		writeMessage(c.w, http.StatusNotFound, "404 Not Found")
		return
	case j.finished:
		// Ci::AuthJobFinder#execute! raises NotRunningJobError; the
		// service answers error(e.message, 401), rendered by
		// render_api_error!.
		writeMessage(c.w, http.StatusUnauthorized, "Job is not running")
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

// getPlaceholderFile serves a file the simulator does not store (a Maven
// artifact, a secure file).
func getPlaceholderFile(c *rctx, p *project) {
	c.w.Header().Set("Content-Type", "application/octet-stream")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write([]byte("gitlab-sim placeholder: " + p.path + " " + c.r.URL.Path + "\n"))
}

// getNpmMetadata is the package metadata of GET
// /projects/:id/packages/npm/*package_name (lib/api/npm_project_packages.rb):
// one placeholder version.
func getNpmMetadata(c *rctx, p *project) {
	name := c.params["package_name"]
	tarball := c.s.baseURL(c.r) + "/api/v4/projects/" + strconv.Itoa(p.id) + "/packages/npm/" + name + "/-/" + inventoryName(name) + "-1.0.0.tgz"
	writeJSON(c.w, http.StatusOK, map[string]any{
		"name":      name,
		"versions":  map[string]any{"1.0.0": map[string]any{"name": name, "version": "1.0.0", "dist": map[string]string{"tarball": tarball, "shasum": "0000000000000000000000000000000000000000"}}},
		"dist-tags": map[string]string{"latest": "1.0.0"},
	})
}

func inventoryName(npmName string) string {
	if i := strings.LastIndexByte(npmName, '/'); i >= 0 {
		return npmName[i+1:]
	}
	return npmName
}

// getPypiSimple is the PEP 503 page of GET
// /projects/:id/packages/pypi/simple/:package_name
// (lib/api/pypi_packages.rb): one placeholder file.
func getPypiSimple(c *rctx, p *project) {
	name := html.EscapeString(c.params["package_name"])
	c.w.Header().Set("Content-Type", "text/html")
	c.w.WriteHeader(http.StatusOK)
	fmt.Fprintf(c.w, "<!DOCTYPE html>\n<html><head><title>Links for %s</title></head><body><h1>Links for %s</h1>"+
		"<a href=\"%s/api/v4/projects/%d/packages/pypi/files/0/%s-1.0.0.tar.gz\">%s-1.0.0.tar.gz</a><br></body></html>\n",
		name, name, c.s.baseURL(c.r), p.id, name, name)
}

// listReleases is GET /projects/:id/releases (lib/api/releases.rb): one
// placeholder release on the default branch.
func listReleases(c *rctx, p *project) {
	writeJSON(c.w, http.StatusOK, []map[string]any{{"tag_name": "v1.0.0", "name": "v1.0.0", "description": "gitlab-sim placeholder", "upcoming_release": false}})
}

// createRelease is POST /projects/:id/releases: 201 with the release.
func createRelease(c *rctx, p *project) {
	tag := c.str("tag_name", "")
	if tag == "" {
		writeError(c.w, http.StatusBadRequest, "tag_name is missing")
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]any{"tag_name": tag, "name": c.str("name", tag), "description": c.str("description", ""), "upcoming_release": false})
}

// listDeployments is GET /projects/:id/deployments (lib/api/deployments.rb).
func listDeployments(c *rctx, p *project) {
	writeJSON(c.w, http.StatusOK, []map[string]any{{"id": 1, "iid": 1, "ref": p.defaultBranch, "status": "success", "environment": map[string]any{"id": 1, "name": "production"}}})
}

// listEnvironments is GET /projects/:id/environments (lib/api/environments.rb).
func listEnvironments(c *rctx, p *project) {
	writeJSON(c.w, http.StatusOK, []map[string]any{{"id": 1, "name": "production", "slug": "production", "state": "available"}})
}

// listSecureFiles is GET /projects/:id/secure_files (lib/api/ci/secure_files.rb).
func listSecureFiles(c *rctx, p *project) {
	writeJSON(c.w, http.StatusOK, []map[string]any{{"id": 1, "name": "placeholder.keystore", "checksum_algorithm": "sha256"}})
}

// getTerraformState is GET /projects/:id/terraform/state/:name
// (lib/api/terraform/state.rb): an empty state.
func getTerraformState(c *rctx, p *project) {
	writeJSON(c.w, http.StatusOK, map[string]any{"version": 4, "serial": 1, "lineage": "gitlab-sim", "outputs": map[string]any{}, "resources": []any{}})
}

// emptyOK is the 200 without a body of the Terraform state writes and
// locks (lib/api/terraform/state.rb: `body false`).
func emptyOK(c *rctx, _ *project) { c.w.WriteHeader(http.StatusOK) }
