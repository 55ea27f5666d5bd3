package detect

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Endpoint is a GitLab REST API URL classified for job-token analysis.
type Endpoint struct {
	Target use.Target
	// Access is the access kind a job token exercises here; "" when the
	// job token cannot use the endpoint (WontWork says why).
	Access access.Kind
	// Family names the endpoint family for evidence ("packages/npm",
	// "jobs/artifacts", "trigger/pipeline", "releases", ...).
	Family   string
	WontWork string
}

// IsWrite reports whether an HTTP method changes state.
func IsWrite(method string) bool {
	switch strings.ToUpper(method) {
	case "", "GET", "HEAD", "OPTIONS":
		return false
	}
	return true
}

// ClassifyAPI classifies a URL under the server's /api/v4. method is the
// HTTP method ("" means GET). ok is false when u is not a GitLab API URL on
// this server.
func ClassifyAPI(srv inventory.Server, u URL, method string) (ep Endpoint, ok bool) {
	if !OnServer(srv, u.Host) {
		return Endpoint{}, false
	}
	p := u.Path
	if prefix := serverPathPrefix(srv); prefix != "" {
		p = strings.TrimPrefix(p, "/"+prefix)
	}
	rest, found := strings.CutPrefix(p, "/api/v4/")
	if !found {
		return Endpoint{}, false
	}
	write := IsWrite(method)
	// The target's Reference is the endpoint path as written, so that an
	// unresolved group or instance endpoint reads "/api/v4/groups/20/...".
	defer func() { ep.Target.Reference = "/api/v4/" + rest }()
	switch {
	case strings.HasPrefix(rest, "projects/"):
		ref, sub, _ := strings.Cut(strings.TrimPrefix(rest, "projects/"), "/")
		ep = classifyProjectEndpoint(sub, write)
		ep.Target = projectRef(ref)
		return ep, true
	case strings.HasPrefix(rest, "groups/"), strings.HasPrefix(rest, "group/"):
		// group/<id>/-/packages/composer is Composer's singular spelling.
		after := rest[strings.IndexByte(rest, '/')+1:]
		ref, sub, _ := strings.Cut(after, "/")
		ep := Endpoint{Target: use.Target{Kind: use.Group, Value: decodePath(ref)}, Family: "group"}
		if strings.HasPrefix(sub, "-/packages/") {
			ep.Family = "packages/" + firstSegment(strings.TrimPrefix(sub, "-/packages/"))
			ep.Access = access.PackagesRead
			if write {
				ep.Access = access.PackagesWrite
			}
		} else {
			ep.Access = access.APIRead
			if write {
				ep.Access = access.APIWrite
			}
		}
		if r := UnknownReason(ref); r != "" {
			ep.Target.Reason = r
		}
		return ep, true
	case strings.HasPrefix(rest, "packages/"):
		format := firstSegment(strings.TrimPrefix(rest, "packages/"))
		ep := Endpoint{Target: use.Target{Kind: use.Instance, Value: format + " packages by name"}, Family: "packages/" + format, Access: access.PackagesRead}
		if write {
			ep.Access = access.PackagesWrite
		}
		return ep, true
	case rest == "job" || strings.HasPrefix(rest, "job/"):
		// GET /job is the token's own job.
		return Endpoint{Target: use.Target{Kind: use.ID, Value: inventory.SelfID}, Family: "job", Access: access.APIRead}, true
	default:
		return Endpoint{Target: use.Target{Kind: use.Unknown, Value: "/api/v4/" + rest, Reason: "not a project endpoint"},
			Family: firstSegment(rest), WontWork: "job tokens can only use project-scoped endpoints (and GET /job) of the API"}, true
	}
}

func firstSegment(s string) string {
	seg, _, _ := strings.Cut(s, "/")
	return seg
}

// projectRef turns the :id segment of /projects/:id into a target: a
// numeric ID, or a URL-encoded full path.
func projectRef(ref string) use.Target {
	if r := UnknownReason(ref); r != "" {
		return use.Target{Kind: use.Unknown, Value: ref, Reason: r}
	}
	if ref == inventory.SelfID || isDigits(ref) {
		return use.Target{Kind: use.ID, Value: ref}
	}
	return use.Target{Kind: use.Path, Value: decodePath(strings.ReplaceAll(ref, "%2f", "%2F"))}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// projectEndpoints maps the path after /projects/:id/ to what a job token
// does there. Sources: "Job token access" in https://docs.gitlab.com/ci/jobs/ci_job_token/ (what the token can reach)
// and https://docs.gitlab.com/ci/jobs/fine_grained_permissions/ (policy coverage); writes are decided by the HTTP method.
var projectEndpoints = []struct {
	re          *regexp.Regexp
	family      string
	read, write access.Kind
	wontWork    string
}{
	{re: regexp.MustCompile(`^packages/([a-z_]+)`), family: "packages", read: access.PackagesRead, write: access.PackagesWrite},
	{re: regexp.MustCompile(`^packages(/|$)`), family: "packages", read: access.PackagesRead, write: access.PackagesWrite},
	{re: regexp.MustCompile(`^jobs/artifacts/`), family: "jobs/artifacts", read: access.ArtifactsRead, write: access.APIWrite},
	{re: regexp.MustCompile(`^jobs/\d+/artifacts`), family: "jobs/artifacts", read: access.ArtifactsRead, write: access.APIWrite},
	{re: regexp.MustCompile(`^jobs/[^/]+/artifacts`), family: "jobs/artifacts", read: access.ArtifactsRead, write: access.APIWrite},
	{re: regexp.MustCompile(`^trigger/pipeline`), family: "trigger/pipeline", read: access.PipelineTrigger, write: access.PipelineTrigger},
	{re: regexp.MustCompile(`^releases`), family: "releases", read: access.ReleasesRead, write: access.ReleasesWrite},
	{re: regexp.MustCompile(`^repository/changelog`), family: "releases", read: access.ReleasesRead, write: access.APIWrite},
	{re: regexp.MustCompile(`^deployments`), family: "deployments", read: access.DeploymentsRead, write: access.DeploymentsWrite},
	{re: regexp.MustCompile(`^environments`), family: "environments", read: access.EnvironmentsRead, write: access.EnvironmentsWrite},
	{re: regexp.MustCompile(`^secure_files`), family: "secure_files", read: access.SecureFilesRead, write: access.SecureFilesWrite},
	{re: regexp.MustCompile(`^terraform/state`), family: "terraform/state", read: access.TerraformStateRead, write: access.TerraformStateWrite},
	{re: regexp.MustCompile(`^repository/files/.+/raw`), family: "repository/files", read: access.RepositoryRead,
		wontWork: "job tokens cannot write repository files"},
	{re: regexp.MustCompile(`^repository/(branches|tags|commits)`), family: "repository", read: access.RepositoryRead,
		wontWork: "job tokens can only read branches, tags and commits"},
	{re: regexp.MustCompile(`^merge_requests`), family: "merge_requests", read: access.APIRead,
		wontWork: "job tokens can only read merge requests"},
	{re: regexp.MustCompile(`^pipelines/\d+/metadata`), family: "pipelines", read: access.APIRead, write: access.APIWrite},
	{re: regexp.MustCompile(`^repository/files`), family: "repository/files",
		wontWork: "job tokens can read repository files only through .../repository/files/:path/raw"},
	{re: regexp.MustCompile(`^registry/`), family: "registry",
		wontWork: "the container registry API accepts a job token only for the job's own project (403 from any other)"},
	{re: regexp.MustCompile(`^(issues|pipelines|jobs|variables|members|hooks|merge_requests)`), family: "api",
		wontWork: "this endpoint does not accept job tokens"},
	{re: regexp.MustCompile(`^$`), family: "project",
		wontWork: "GET /projects/:id does not accept job tokens"},
}

func classifyProjectEndpoint(sub string, write bool) Endpoint {
	sub = strings.TrimSuffix(sub, "/")
	for _, e := range projectEndpoints {
		m := e.re.FindStringSubmatch(sub)
		if m == nil {
			continue
		}
		fam := e.family
		if e.family == "packages" && len(m) > 1 && m[1] != "" {
			fam = "packages/" + m[1]
		}
		k := e.read
		if write {
			k = e.write
		}
		if k == "" {
			return Endpoint{Family: fam, WontWork: e.wontWork}
		}
		return Endpoint{Family: fam, Access: k}
	}
	return Endpoint{Family: firstSegment(sub), WontWork: "this endpoint does not accept job tokens"}
}
