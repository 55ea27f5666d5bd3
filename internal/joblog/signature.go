package joblog

import (
	"regexp"

	"github.com/tokenscope/tokenscope/internal/access"
)

// Kind classifies a failure.
type Kind string

// Failure kinds. The job-token ones are fixed on the callee's allowlist;
// the others are fixed elsewhere, and saying so stops people from widening
// an allowlist to silence an error it does not cause.
const (
	// NotAllowlisted: the caller is not on the callee's inbound allowlist.
	NotAllowlisted Kind = "not-allowlisted"
	// PolicyMissing: the caller's entry has fine-grained permissions that
	// lack the policy the endpoint requires.
	PolicyMissing Kind = "policy-missing"
	// EndpointNotAllowed: the endpoint does not accept job tokens at all.
	EndpointNotAllowed Kind = "endpoint-not-allowed"
	// RoleMissing: the allowlist let the token in, but the user who
	// triggered the job lacks the role on the callee.
	RoleMissing Kind = "role-missing"
	// NeverAllowed: GitLab never allows this with a job token across
	// projects (registry API, registry push, git push).
	NeverAllowed Kind = "never-allowed"
	// LikelyNotAllowlisted: a generic 403/404 from an access the job token
	// makes; most often the allowlist, but the message does not say.
	LikelyNotAllowlisted Kind = "likely-not-allowlisted"
	// NotJobToken: a failure people confuse with the allowlist (expired
	// token, trigger: permissions, include:project access).
	NotJobToken Kind = "not-a-job-token-problem"
)

// signature is one recognisable failure message. Its regular expression
// has named groups: caller, callee (short or full path as the message
// names it), url (a URL whose path names the callee), image, policy.
type signature struct {
	id     string
	kind   Kind
	access access.Kind // "" when the message does not tell
	re     *regexp.Regexp
	// lits are literals of re, one of which every match holds: a line
	// holding none is skipped without running re, which keeps a read of a
	// long log fast (most lines match nothing). TestSignatureLiterals
	// checks them against re.
	lits []string
	// explain says what the message means, for the report.
	explain string
	// do says what to do, for the failures the allowlist does not cause
	// (NotJobToken): the verdict of the others depends on the org.
	do     string
	source string // where the message comes from (for maintainers)
}

// signatures are the failure messages tokenscope recognises, most specific
// first. Sources (https://docs.gitlab.com/ci/jobs/ci_job_token/#troubleshooting; GitLab's
// lib/gitlab/git_access.rb, lib/api/helpers.rb, the job token docs'
// troubleshooting section, runner and client output quoted in GitLab
// issues).
var signatures = []signature{
	{id: "allowlist-denied", lits: []string{"Authentication by CI/CD job token not allowed from "},
		kind:    NotAllowlisted,
		re:      regexp.MustCompile(`Authentication by CI/CD job token not allowed from (?P<caller>[^\s]+?) to (?P<callee>[^\s"]+?)\.?(?:"|\s|$)`),
		explain: "the caller project is not on the callee's job token allowlist",
		source:  "lib/gitlab/git_access.rb (MR 161795), lib/api/helpers.rb handle_job_token_failure! (MR 163211)"},
	{id: "policy-missing", lits: []string{"Insufficient permissions to access this resource in project "},
		kind:    PolicyMissing,
		re:      regexp.MustCompile(`Insufficient permissions to access this resource in project (?P<callee>[^\s.]+(?:\.[^\s.]+)*)\. The following token permissions? (?:is|are) required: (?P<policy>[a-z_, and]+)`),
		explain: "the caller's allowlist entry has fine-grained permissions without the policy this endpoint requires",
		source:  "lib/api/helpers.rb job_token_policies_unauthorized_message"},
	{id: "endpoint-not-allowed", lits: []string{"This action is unauthorized for CI/CD job tokens"},
		kind:    EndpointNotAllowed,
		re:      regexp.MustCompile(`This action is unauthorized for CI/CD job tokens`),
		explain: "the endpoint does not accept job tokens under fine-grained permissions (or at all)",
		source:  "lib/api/helpers.rb"},
	{id: "registry-api-cross-project", lits: []string{"cannot be used to authenticate with the container registry"},
		kind: NeverAllowed, access: access.ContainerRead,
		re:      regexp.MustCompile(`This project's CI/CD job token cannot be used to authenticate with the container registry of a different project`),
		explain: "the container registry API accepts a job token only for the job's own project; no allowlist entry changes that",
		source:  "lib/api/helpers.rb find_project!"},
	{id: "git-role", lits: []string{"Insufficient permissions to pull from the repository"},
		kind: RoleMissing, access: access.RepositoryRead,
		re:      regexp.MustCompile(`Insufficient permissions to pull from the repository of project (?P<callee>[^\s]+?)\.?(?:\s|$)`),
		explain: "the allowlist admits the caller, but the user who triggered the job cannot read the callee's repository",
		source:  "lib/gitlab/git_access.rb :auth_by_job_token_forbidden"},
	{id: "git-push-denied", lits: []string{"You are not allowed to "},
		kind: NeverAllowed, access: access.RepositoryWrite,
		re:      regexp.MustCompile(`You are not allowed to (?:push code to this project|upload code)`),
		explain: "a job token cannot push to another project (and to its own only when the project allows job-token pushes)",
		source:  "lib/gitlab/git_access.rb"},
	{id: "git-not-found-legacy", lits: []string{"fatal: repository '"},
		kind: LikelyNotAllowlisted, access: access.RepositoryRead,
		re:      regexp.MustCompile(`fatal: repository '(?P<url>[^']+)' not found`),
		explain: "GitLab before 17.4 answered a job token outside the allowlist with \"project not found\"",
		source:  "job token docs, troubleshooting"},
	{id: "git-403", lits: []string{"fatal: unable to access '"},
		kind: LikelyNotAllowlisted, access: access.RepositoryRead,
		re:      regexp.MustCompile(`fatal: unable to access '(?P<url>[^']+)': The requested URL returned error: 403`),
		explain: "git over HTTPS was refused",
		source:  "git client"},
	{id: "registry-pull-denied", lits: []string{"pull access denied for "},
		kind: LikelyNotAllowlisted, access: access.ContainerRead,
		re:      regexp.MustCompile(`pull access denied for (?P<image>[^\s,]+)`),
		explain: "the registry refused to pull another project's image with the job's credentials",
		source:  "runner / Docker output quoted in gitlab-org/gitlab#411406"},
	{id: "image-pull-failed", lits: []string{"failed to pull image \""},
		kind: LikelyNotAllowlisted, access: access.ContainerRead,
		re:      regexp.MustCompile(`failed to pull image "(?P<image>[^"]+)".*(?:denied|unauthorized|403)`),
		explain: "the runner could not pull the job's image or a service image",
		source:  "runner output"},
	{id: "artifacts-forbidden", lits: []string{"Downloading artifacts from coordinator... forbidden"},
		kind: LikelyNotAllowlisted, access: access.ArtifactsRead,
		re:      regexp.MustCompile(`Downloading artifacts from coordinator\.\.\. forbidden`),
		explain: "the runner could not download needs:project artifacts with the job token",
		source:  "runner output quoted in gitlab-org/gitlab#507234"},
	{id: "npm-denied", lits: []string{"npm "},
		kind: LikelyNotAllowlisted, access: access.PackagesRead,
		re:      regexp.MustCompile(`npm (?:ERR!|error) (?:40[34]|code E40[34]).*?(?:GET|PUT) (?P<url>https?://\S+)`),
		explain: "the npm registry answered 403/404 (GitLab hides projects the token may not reach)",
		source:  "npm client output quoted in gitlab-org/gitlab#352962"},
	{id: "pip-denied", lits: []string{"HTTP error 40", " Client Error: "},
		kind: LikelyNotAllowlisted, access: access.PackagesRead,
		re:      regexp.MustCompile(`(?:HTTP error 40[134] while getting|40[134] Client Error: [A-Za-z ]+ for url:) (?P<url>https?://\S+)`),
		explain: "the PyPI endpoint answered 401/403/404",
		source:  "pip client output"},
	{id: "maven-denied", lits: []string{"/packages/maven"},
		kind: LikelyNotAllowlisted, access: access.PackagesRead,
		re:      regexp.MustCompile(`(?:status code: 40[34]|authorization failed for|status: 40[34]).*?(?P<url>https?://[^\s,)]+/packages/maven[^\s,)]*)`),
		explain: "the Maven repository answered 403/404",
		source:  "Maven resolver output"},
	{id: "helm-denied", lits: []string{"/packages/helm/"},
		kind: LikelyNotAllowlisted, access: access.PackagesRead,
		re:      regexp.MustCompile(`failed to fetch (?P<url>https?://\S+/packages/helm/\S+?)\s*:\s*40[34]`),
		explain: "the Helm chart repository answered 403/404",
		source:  "helm client output"},
	{id: "http-error", lits: []string{"40"},
		kind:    LikelyNotAllowlisted,
		re:      regexp.MustCompile(`(?:(?:ERROR|error) 40[34]|returned error: 40[34]|HTTP/[0-9.]+ 40[34]|"message":"40[34] [^"]*")`),
		explain: "an API call answered 403 or 404 (the job token docs: failures usually look like 404 Not Found)",
		source:  "job token docs, troubleshooting; curl/wget output"},
	{id: "basic-auth-denied", lits: []string{"HTTP Basic: Access denied"},
		kind:    NotJobToken,
		re:      regexp.MustCompile(`HTTP Basic: Access denied`),
		explain: "bad credentials: an expired token (the job ended or was retried) or a wrong user name; not the allowlist",
		do:      "It is not the allowlist, so do not widen it: use the job's own $CI_JOB_TOKEN while the job runs (a retried job gets a new one) with the user name gitlab-ci-token.",
		source:  "GitLab HTTP authentication"},
	{id: "bridge-permissions", lits: []string{"permissions to create a downstream pipeline", "insufficient_bridge_permissions", "no permissions to trigger downstream pipeline"},
		kind:    NotJobToken,
		re:      regexp.MustCompile(`insufficient permissions to create a downstream pipeline|insufficient_bridge_permissions|no permissions to trigger downstream pipeline`),
		explain: "trigger: creates the downstream pipeline as the pipeline user, who needs the Developer role there; not the job token allowlist",
		do:      "It is not the job token allowlist, so do not widen it: give the user who runs the pipeline the Developer role on the downstream project (or run the pipeline as a user who has it).",
		source:  "app/presenters/commit_status_presenter.rb"},
	{id: "include-not-found", lits: []string{"not found or access denied!"},
		kind:    NotJobToken,
		re:      regexp.MustCompile("Project `(?P<callee>[^`]+)` not found or access denied!"),
		explain: "include:project is read with the pipeline user's permissions; not the job token allowlist",
		do:      "It is not the job token allowlist, so do not widen it: give the user who runs the pipeline read access to the included project, or check its path and ref.",
		source:  "lib/gitlab/ci/config/external/file/project.rb"},
}
