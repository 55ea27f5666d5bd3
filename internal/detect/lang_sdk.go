package detect

import (
	"strings"
	"unicode"
)

// The GitLab SDKs the script scanner follows. Each client turns into the
// REST requests it sends, with the header its token goes in:
//   - python-gitlab: gitlab.Gitlab(url, private_token=|oauth_token=|job_token=)
//     sends PRIVATE-TOKEN, "Authorization: Bearer" or JOB-TOKEN, to
//     url + "/api/v4" (url defaults to https://gitlab.com)
//     (https://python-gitlab.readthedocs.io/en/stable/api-usage.html,
//     "Getting started with the API"). gl.projects.get(x) reads
//     GET /projects/:x unless lazy=True
//     (https://python-gitlab.readthedocs.io/en/stable/api-usage.html#lazy-objects).
//   - the gitlab gem (NARKOZ/gitlab): Gitlab.client(endpoint:, private_token:)
//     or Gitlab.configure; the endpoint defaults to GITLAB_API_ENDPOINT
//     then CI_API_V4_URL, the token to GITLAB_API_PRIVATE_TOKEN (README,
//     "Configuration example"); a token of 21 characters or more, as job
//     tokens are, goes as "Authorization: Bearer", a shorter one as
//     PRIVATE-TOKEN (lib/gitlab/request.rb, authorization_header).
//   - gitbeaker: new Gitlab({host, token|oauthToken|jobToken}) sends
//     PRIVATE-TOKEN, "Authorization: Bearer" or JOB-TOKEN to
//     host + "/api/v4" (host defaults to https://gitlab.com)
//     (https://github.com/jdalrymple/gitbeaker, "Usage").
// Only the project-scoped calls a job token could reach are mapped; the
// endpoint rules (endpoint.go) then say which a job token really can use.

// pythonGitlab is gitlab.Gitlab(url, ...).
func (e *evaluator) pythonGitlab(a args) sval {
	o := &sobj{kind: objGitlab, lib: "python-gitlab", hasBase: true}
	u, ok := a.arg(0, "url")
	if !ok || !u.set {
		u = strVal("https://gitlab.com")
	}
	u.s = strings.TrimSuffix(u.s, "/")
	o.base = u.concat(strVal("/api/v4"))
	for _, p := range []struct{ kw, header, prefix string }{
		{"private_token", "PRIVATE-TOKEN", ""}, {"oauth_token", "Authorization", "Bearer "}, {"job_token", "JOB-TOKEN", ""},
	} {
		if t, ok := a.arg(-1, p.kw); ok {
			o.headers = append(o.headers, kv{k: p.header, v: strVal(p.prefix).concat(t)})
		}
	}
	return objVal(o)
}

// gemTokenHeader is the header the gitlab gem sends a token in.
func gemTokenHeader(t sval) kv {
	// A job token is longer than 20 characters (the marker standing for
	// it in analysis is not, so its length cannot decide).
	if HasJobToken(t.s) || len(t.s) >= 21 || !t.set {
		return kv{k: "Authorization", v: strVal("Bearer ").concat(t)}
	}
	return kv{k: "PRIVATE-TOKEN", v: t}
}

// rubyGitlabModule is the Gitlab module: its settings come from the
// environment until the script sets them.
func (e *evaluator) rubyGitlabModule() sval {
	if v, ok := e.vars["Gitlab"]; ok && v.obj != nil {
		return v
	}
	o := &sobj{kind: objGitlab, lib: "gitlab gem", hasBase: true}
	o.base = e.envVal("GITLAB_API_ENDPOINT")
	if !o.base.set {
		o.base = unsetAsRef(e.envVal("CI_API_V4_URL"), "CI_API_V4_URL")
	}
	if t := e.envVal("GITLAB_API_PRIVATE_TOKEN"); t.set {
		o.headers = []kv{gemTokenHeader(t)}
	}
	v := objVal(o)
	e.vars["Gitlab"] = v
	return v
}

// rubyGitlab is Gitlab.client(endpoint:, private_token:).
func (e *evaluator) rubyGitlab(a args) sval {
	mod := e.rubyGitlabModule().obj
	o := &sobj{kind: objGitlab, lib: "gitlab gem", hasBase: true, base: mod.base, headers: append([]kv(nil), mod.headers...)}
	if u, ok := a.arg(-1, "endpoint"); ok {
		o.base = u
	}
	if t, ok := a.arg(-1, "private_token"); ok {
		o.headers = []kv{gemTokenHeader(t)}
	}
	return objVal(o)
}

// setClient is client.endpoint = v, config.private_token = v.
func (e *evaluator) setClient(o *sobj, attr string, v sval) {
	switch attr {
	case "endpoint":
		o.base, o.hasBase = v, true
	case "private_token":
		o.headers = []kv{gemTokenHeader(v)}
	}
}

// gitbeaker is new Gitlab({host, token, oauthToken, jobToken}).
func (e *evaluator) gitbeaker(a args) sval {
	cfg, _ := a.arg(0)
	o := &sobj{kind: objGitlab, lib: "gitbeaker", hasBase: true}
	h, ok := cfg.get("host")
	if !ok || !h.set {
		h = strVal("https://gitlab.com")
	}
	o.base = sval{s: strings.TrimSuffix(h.s, "/"), unk: h.unk, set: true}.concat(strVal("/api/v4"))
	for _, p := range []struct{ key, header, prefix string }{
		{"token", "PRIVATE-TOKEN", ""}, {"oauthToken", "Authorization", "Bearer "}, {"jobToken", "JOB-TOKEN", ""},
	} {
		if t, ok := cfg.get(p.key); ok {
			o.headers = append(o.headers, kv{k: p.header, v: strVal(p.prefix).concat(t)})
		}
	}
	return objVal(o)
}

// root is the SDK client an object comes from.
func (o *sobj) root() *sobj {
	for n := 0; o != nil && o.kind != objGitlab && n < 16; n++ {
		o = o.owner
	}
	return o
}

// sdkAttr is client.projects, project.releases, api.Releases.
func (e *evaluator) sdkAttr(o *sobj, a string) sval {
	switch o.kind {
	case objGitlab:
		if o.lib == "gitbeaker" && a != "" && unicode.IsUpper(rune(a[0])) || o.lib == "python-gitlab" && a == "projects" {
			return objVal(&sobj{kind: objManager, owner: o, name: a})
		}
	case objProject:
		return objVal(&sobj{kind: objManager, owner: o, name: a})
	}
	return sval{}
}

// projectURL is the client's API URL for /projects/:ref/sub.
func projectURL(base, ref sval, sub sval) sval {
	u := base.concat(strVal("/projects/")).concat(urlEncode(ref))
	if sub.set && sub.s != "" {
		u = u.concat(strVal("/")).concat(sub)
	}
	return u
}

func subPath(parts ...sval) sval {
	v := strVal("")
	for i, p := range parts {
		if i > 0 {
			v = v.concat(strVal("/"))
		}
		v = v.concat(p)
	}
	return v
}

// sdkReq reports a request of an SDK client to /projects/:ref/sub.
func (e *evaluator) sdkReq(o *sobj, method string, ref, sub sval, fields []kv) {
	c := o.root()
	if c == nil {
		return
	}
	e.emit(scriptReq{method: method, url: projectURL(c.base, ref, sub), headers: c.headers, fields: fields, how: c.lib})
}

// crudMethod is the HTTP method of an SDK verb.
func crudMethod(m string) (string, bool) {
	switch m {
	case "get", "list", "all", "show", "download", "raw", "showRaw", "iter", "head":
		return "GET", true
	case "create", "upload", "post", "trigger":
		return "POST", true
	case "update", "save", "edit", "set":
		return "PUT", true
	case "delete", "remove":
		return "DELETE", true
	}
	return "", false
}

// pyManagerPaths maps python-gitlab project managers to their REST paths
// (https://python-gitlab.readthedocs.io/en/stable/api-objects.html).
var pyManagerPaths = map[string]string{
	"generic_packages": "packages/generic", "files": "repository/files", "mergerequests": "merge_requests",
	"tags": "repository/tags", "branches": "repository/branches", "commits": "repository/commits",
	"secure_files": "secure_files", "releases": "releases", "packages": "packages", "deployments": "deployments",
	"environments": "environments", "issues": "issues", "pipelines": "pipelines", "variables": "variables",
	"jobs": "jobs", "artifacts": "jobs/artifacts", "registry_repositories": "registry/repositories",
	"pipelineschedules": "pipeline_schedules", "triggers": "triggers", "hooks": "hooks", "members": "members",
}

// gitbeakerPaths maps gitbeaker resources to project REST paths
// (https://github.com/jdalrymple/gitbeaker/blob/main/packages/core/README.md).
var gitbeakerPaths = map[string]string{
	"Releases": "releases", "Packages": "packages", "JobArtifacts": "jobs/artifacts", "RepositoryFiles": "repository/files",
	"SecureFiles": "secure_files", "Deployments": "deployments", "Environments": "environments", "Issues": "issues",
	"Pipelines": "pipeline", "Tags": "repository/tags", "Branches": "repository/branches", "Commits": "repository/commits",
	"MergeRequests": "merge_requests", "MergeRequestNotes": "merge_requests", "ProjectVariables": "variables",
	"Jobs": "jobs", "PipelineTriggerTokens": "trigger/pipeline", "ReleaseLinks": "releases", "GenericPackages": "packages/generic",
}

// sdkMethod evaluates a call on an SDK object.
func (e *evaluator) sdkMethod(o *sobj, m string, a args) sval {
	switch {
	case o.kind == objGitlab && o.lib == "gitlab gem":
		return e.gemMethod(o, m, a)
	case o.kind == objGitlab && o.lib == "python-gitlab" && m == "auth":
		// gl.auth() reads GET /user
		// (https://python-gitlab.readthedocs.io/en/stable/api/gitlab.html#gitlab.Gitlab.auth).
		e.emit(scriptReq{method: "GET", url: o.base.concat(strVal("/user")), headers: o.headers, how: o.lib})
		return objVal(o)
	case o.kind == objManager && o.owner.kind == objGitlab && o.owner.lib == "python-gitlab":
		// gl.projects.get(ref, lazy=True)
		if m != "get" {
			return unknownVal(m)
		}
		ref, _ := a.arg(0, "id")
		p := &sobj{kind: objProject, owner: o.owner, ref: ref}
		if lazy, ok := a.arg(-1, "lazy"); !ok || lazy.s != "true" {
			e.sdkReq(o.owner, "GET", ref, sval{}, nil)
		}
		return objVal(p)
	case o.kind == objManager && o.owner.kind == objGitlab && o.owner.lib == "gitbeaker":
		e.gitbeakerCall(o, m, a)
		return unknownVal(m)
	case o.kind == objManager && o.owner.kind == objProject:
		return e.pyManagerCall(o, m, a)
	case o.kind == objProject:
		p := o
		switch m {
		case "artifacts":
			// The older project.artifacts(ref_name=, job=).
			e.pyArtifacts(p, "download", a)
		case "trigger_pipeline":
			ref, _ := a.arg(0, "ref")
			stok, _ := a.arg(1, "token")
			e.sdkReq(p, "POST", p.ref, strVal("trigger/pipeline"), []kv{{k: "token", v: stok}, {k: "ref", v: ref}})
		case "repository_archive":
			e.sdkReq(p, "GET", p.ref, strVal("repository/archive"), nil)
		}
		return unknownVal(m)
	case o.kind == objJob:
		switch m {
		case "artifacts":
			e.sdkReq(o, "GET", o.owner.ref, subPath(strVal("jobs"), o.ref, strVal("artifacts")), nil)
		case "artifact":
			p, _ := a.arg(0, "path")
			e.sdkReq(o, "GET", o.owner.ref, subPath(strVal("jobs"), o.ref, strVal("artifacts"), p), nil)
		}
		return unknownVal(m)
	}
	return unknownVal(m)
}

// pyArtifacts is project.artifacts.download(ref_name=, job=) and
// .raw(ref_name=, artifact_path=, job=).
func (e *evaluator) pyArtifacts(p *sobj, m string, a args) {
	ref, _ := a.arg(0, "ref_name")
	if m == "raw" {
		path, _ := a.arg(1, "artifact_path")
		job, _ := a.arg(2, "job")
		e.sdkReq(p, "GET", p.ref, subPath(strVal("jobs/artifacts"), ref, strVal("raw"), path).concat(strVal("?job=")).concat(job), nil)
		return
	}
	job, _ := a.arg(1, "job")
	e.sdkReq(p, "GET", p.ref, subPath(strVal("jobs/artifacts"), ref, strVal("download")).concat(strVal("?job=")).concat(job), nil)
}

// pyManagerCall is project.<manager>.<verb>(...).
func (e *evaluator) pyManagerCall(o *sobj, m string, a args) sval {
	p := o.owner
	switch o.name {
	case "artifacts":
		if m == "download" || m == "raw" {
			e.pyArtifacts(p, m, a)
		}
		return unknownVal(m)
	case "generic_packages":
		name, _ := a.arg(0, "package_name")
		ver, _ := a.arg(1, "package_version")
		file, _ := a.arg(2, "file_name")
		meth := "GET"
		if m == "upload" {
			meth = "PUT"
		}
		e.sdkReq(p, meth, p.ref, subPath(strVal("packages/generic"), name, ver, file), nil)
		return unknownVal(m)
	case "files":
		fp, _ := a.arg(0, "file_path")
		sub := subPath(strVal("repository/files"), urlEncode(fp))
		meth, ok := crudMethod(m)
		if !ok {
			return unknownVal(m)
		}
		if m == "raw" {
			sub = sub.concat(strVal("/raw"))
		}
		e.sdkReq(p, meth, p.ref, sub, nil)
		return unknownVal(m)
	case "jobs":
		if m == "get" {
			id, _ := a.arg(0, "id")
			j := &sobj{kind: objJob, owner: p, ref: id}
			if lazy, ok := a.arg(-1, "lazy"); !ok || lazy.s != "true" {
				e.sdkReq(p, "GET", p.ref, subPath(strVal("jobs"), id), nil)
			}
			return objVal(j)
		}
	}
	path, known := pyManagerPaths[o.name]
	meth, ok := crudMethod(m)
	if !known || !ok {
		return unknownVal(m)
	}
	sub := strVal(path)
	if id, ok := a.arg(0, "id"); ok && m == "get" && !id.isMap {
		sub = subPath(sub, id)
	}
	e.sdkReq(p, meth, p.ref, sub, nil)
	return unknownVal(m)
}

// gitbeakerCall is api.<Resource>.<method>(projectId, ...).
func (e *evaluator) gitbeakerCall(o *sobj, m string, a args) {
	ref, _ := a.arg(0)
	if ref.isMap {
		ref, _ = ref.get("projectId")
	}
	if o.name == "Projects" {
		if m == "show" {
			e.sdkReq(o.owner, "GET", ref, sval{}, nil)
		}
		return
	}
	path, ok := gitbeakerPaths[o.name]
	if !ok {
		return
	}
	meth, ok := crudMethod(m)
	switch {
	case o.name == "JobArtifacts":
		opts, _ := a.arg(1)
		if id, ok := opts.get("jobId"); ok {
			e.sdkReq(o.owner, "GET", ref, subPath(strVal("jobs"), id, strVal("artifacts")), nil)
			return
		}
		r, _ := opts.get("ref")
		job, _ := opts.get("job")
		e.sdkReq(o.owner, "GET", ref, subPath(strVal("jobs/artifacts"), r, strVal("download")).concat(strVal("?job=")).concat(job), nil)
		return
	case o.name == "RepositoryFiles":
		fp, _ := a.arg(1)
		sub := subPath(strVal(path), urlEncode(fp))
		if m == "showRaw" {
			sub = sub.concat(strVal("/raw"))
		}
		if ok {
			e.sdkReq(o.owner, meth, ref, sub, nil)
		}
		return
	case o.name == "PipelineTriggerTokens" && m == "trigger":
		stok, _ := a.arg(2)
		e.sdkReq(o.owner, "POST", ref, strVal(path), []kv{{k: "token", v: stok}})
		return
	case o.name == "ReleaseLinks":
		tag, _ := a.arg(1)
		if ok {
			e.sdkReq(o.owner, meth, ref, subPath(strVal("releases"), tag, strVal("assets/links")), nil)
		}
		return
	}
	if ok {
		e.sdkReq(o.owner, meth, ref, strVal(path), nil)
	}
}

// gemMethods maps gitlab gem methods (first argument: the project) to
// the HTTP method and project path they call
// (https://www.rubydoc.info/gems/gitlab/Gitlab/Client).
var gemMethods = map[string]struct{ method, path string }{
	"create_release": {"POST", "releases"}, "releases": {"GET", "releases"}, "release": {"GET", "releases"},
	"update_release": {"PUT", "releases"}, "delete_release": {"DELETE", "releases"},
	"deployments": {"GET", "deployments"}, "deployment": {"GET", "deployments"}, "environments": {"GET", "environments"},
	"create_issue": {"POST", "issues"}, "issues": {"GET", "issues"}, "create_pipeline": {"POST", "pipeline"},
	"pipelines": {"GET", "pipelines"}, "create_merge_request_note": {"POST", "merge_requests"},
	"create_merge_request_comment": {"POST", "merge_requests"}, "merge_requests": {"GET", "merge_requests"},
	"create_variable": {"POST", "variables"}, "variables": {"GET", "variables"}, "tags": {"GET", "repository/tags"},
	"branches": {"GET", "repository/branches"}, "commits": {"GET", "repository/commits"},
	"project": {"GET", ""}, "create_tag": {"POST", "repository/tags"}, "create_branch": {"POST", "repository/branches"},
}

// gemMethod is a gitlab gem client call.
func (e *evaluator) gemMethod(o *sobj, m string, a args) sval {
	switch m {
	case "client", "new":
		return e.rubyGitlab(a)
	case "configure":
		return objVal(o)
	}
	ref, _ := a.arg(0)
	switch m {
	case "job_artifacts_download", "download_job_artifacts":
		r, _ := a.arg(1)
		job, _ := a.arg(2)
		e.sdkReq(o, "GET", ref, subPath(strVal("jobs/artifacts"), r, strVal("download")).concat(strVal("?job=")).concat(job), nil)
	case "download_branch_artifact_file":
		r, _ := a.arg(1)
		p, _ := a.arg(2)
		job, _ := a.arg(3)
		e.sdkReq(o, "GET", ref, subPath(strVal("jobs/artifacts"), r, strVal("raw"), p).concat(strVal("?job=")).concat(job), nil)
	case "job_artifacts", "download_job_artifact_file":
		id, _ := a.arg(1)
		e.sdkReq(o, "GET", ref, subPath(strVal("jobs"), id, strVal("artifacts")), nil)
	case "file_contents":
		p, _ := a.arg(1)
		e.sdkReq(o, "GET", ref, subPath(strVal("repository/files"), urlEncode(p), strVal("raw")), nil)
	case "get_file":
		p, _ := a.arg(1)
		e.sdkReq(o, "GET", ref, subPath(strVal("repository/files"), urlEncode(p)), nil)
	case "run_trigger":
		stok, _ := a.arg(1)
		e.sdkReq(o, "POST", ref, strVal("trigger/pipeline"), []kv{{k: "token", v: stok}})
	default:
		g, ok := gemMethods[m]
		if !ok {
			return unknownVal(m)
		}
		e.sdkReq(o, g.method, ref, strVal(g.path), nil)
	}
	return unknownVal(m)
}
