package access

import (
	"fmt"
	"slices"
)

// Kind is one way a caller's job token reaches a callee project. The
// string form is part of every machine-readable output and of trust.yaml.
type Kind string

// The access kinds. Keep this list, Table and docs/design.md §3 in step.
const (
	RepositoryRead      Kind = "repository-read"
	RepositoryWrite     Kind = "repository-write"
	ContainerRead       Kind = "container-read"
	ContainerWrite      Kind = "container-write"
	PackagesRead        Kind = "packages-read"
	PackagesWrite       Kind = "packages-write"
	ArtifactsRead       Kind = "artifacts-read"
	PipelineTrigger     Kind = "pipeline-trigger"
	ReleasesRead        Kind = "releases-read"
	ReleasesWrite       Kind = "releases-write"
	DeploymentsRead     Kind = "deployments-read"
	DeploymentsWrite    Kind = "deployments-write"
	EnvironmentsRead    Kind = "environments-read"
	EnvironmentsWrite   Kind = "environments-write"
	SecureFilesRead     Kind = "secure-files-read"
	SecureFilesWrite    Kind = "secure-files-write"
	TerraformStateRead  Kind = "terraform-state-read"
	TerraformStateWrite Kind = "terraform-state-write"
	APIRead             Kind = "api-read"
	APIWrite            Kind = "api-write"
)

// Role is the minimum role the triggering user needs on the callee: a job
// token carries that user's role, never more.
type Role string

// Roles in increasing order of privilege.
const (
	Guest      Role = "Guest"
	Reporter   Role = "Reporter"
	Developer  Role = "Developer"
	Maintainer Role = "Maintainer"
)

// Info is what tokenscope knows about one access kind.
type Info struct {
	Kind Kind
	// Policy is the fine-grained job token policy that covers the access
	// (lower case, as in lib/ci/job_token/policies.rb), or "" when no policy
	// does and an allowlist entry needs default permissions.
	Policy string
	// PolicySince is the first GitLab version whose policy list has Policy.
	PolicySince string
	// AlsoPolicies are further policies the access needs in practice.
	// GitLab checks every policy an endpoint declares against the entry's
	// list, with no implication between admin_x and read_x
	// (Ci::JobToken::Scope#policies_allowed_for_accessed_project?:
	// (policies - allowed_policies).empty?), and the write workflows read
	// too: terraform reads the state before it locks and writes it, Maven
	// and Gradle read maven-metadata.xml before deploying, release tools
	// look the release up first; POST /projects/:id/deployments declares
	// ADMIN_DEPLOYMENTS and ADMIN_ENVIRONMENTS (fine-grained permissions
	// docs table).
	AlsoPolicies []string
	// Role is the minimum role of the triggering user on the callee.
	Role Role
	// Write reports whether the access changes the callee.
	Write bool
	// Never reports that GitLab never lets a job token do this across
	// projects; the plan recommends another credential instead.
	Never bool
	// Examples says what the kind covers, for humans.
	Examples string
	// NoPolicyReason explains a missing Policy.
	NoPolicyReason string
}

// table is the one mapping from access kinds to fine-grained policies and
// roles.
//
// Sources (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/, https://docs.gitlab.com/ci/jobs/ci_job_token/), checked against
// GitLab's docs and issues:
//   - policies: lib/ci/job_token/policies.rb; the fine-grained permissions
//     docs table (doc/ci/jobs/fine_grained_permissions.md, 17.10 and 18.0
//     versions) for which endpoints each policy covers. Fine-grained
//     permissions are an experiment in 17.10, beta in 18.0 and GA in 18.3.
//     The docs scope them to "a limited set of API endpoints": they gate the
//     REST API (lib/api/helpers.rb), not Git over HTTP or the registry.
//   - repository-read → read_repositories. The policy covers the REST
//     repository reads (Files raw, Branches, Tags, Commits:
//     https://gitlab.com/gitlab-org/gitlab/-/issues/555868, "Add endpoints
//     for Repository resource for job tokens"); it is in the policy list of
//     18.4+ (policies.rb commit 017a6c12) but not in the 18.0 docs table.
//     Git clone/fetch over HTTP goes through lib/gitlab/git_access.rb, which
//     checks the allowlist (Scope#accessible?) and the user's download_code,
//     not job token policies (inference from the source; the docs list no
//     Git operation in the policy table). An entry holding read_repositories
//     therefore lets both git clone and the REST reads through, so the
//     mapping is safe whichever way a repository-read use reads.
//   - container-read has no policy: read_containers/admin_containers are
//     DEPRECATED_POLICIES, the docs list every container registry endpoint
//     as "None" (not controllable), and registry pulls are authorised by
//     ContainerRegistryAuthenticationService (build_read_container_image),
//     which consults no policy. Whether a fine-grained entry still lets a
//     pull through is not documented, so the entry keeps default
//     permissions: the one setting known to keep pulls working.
//   - container-write and repository-write are never allowed across projects
//     (build_can_push? requires the job's own project; git push with a job
//     token reaches only its own repository, GA 18.4). Cross-project push
//     to allowlisted projects exists only behind the feature flag
//     allow_push_to_allowlisted_projects with an admin_repositories entry
//     (https://gitlab.com/gitlab-org/gitlab/-/merge_requests/229671), so the
//     plan recommends another credential.
//   - pipeline trigger (POST /projects/:id/trigger/pipeline) has no policy.
//   - roles: Reporter+ reads packages, artifacts and the registry of a
//     private project; writes need Developer+ (GitLab permissions docs).
var table = []Info{
	{Kind: RepositoryRead, Policy: "read_repositories", PolicySince: "18.4", Role: Reporter,
		Examples: "git clone/fetch/ls-remote with gitlab-ci-token, submodules, Files/Branches/Tags/Commits read API"},
	{Kind: RepositoryWrite, Role: Developer, Write: true, Never: true,
		Examples:       "git push to another project",
		NoPolicyReason: "job tokens push only to their own project (cross-project push is behind a feature flag and needs admin_repositories)"},
	{Kind: ContainerRead, Role: Reporter,
		Examples:       "image:/services:, docker pull, Dockerfile FROM of another project's registry image",
		NoPolicyReason: "container registry pulls are not controlled by fine-grained policies (read_containers is deprecated); default permissions keep them working"},
	{Kind: ContainerWrite, Role: Developer, Write: true, Never: true,
		Examples:       "docker push to another project's registry",
		NoPolicyReason: "a job token can never push to another project's registry"},
	{Kind: PackagesRead, Policy: "read_packages", PolicySince: "17.10", Role: Reporter,
		Examples: "npm, Maven, Gradle, PyPI, NuGet, Composer, Conan, Go, Helm, generic, Terraform module pulls"},
	{Kind: PackagesWrite, Policy: "admin_packages", AlsoPolicies: []string{"read_packages"}, PolicySince: "17.10", Role: Developer, Write: true,
		Examples: "publishing to another project's package registry"},
	{Kind: ArtifactsRead, Policy: "read_jobs", PolicySince: "17.10", Role: Reporter,
		Examples: "needs:project, jobs/artifacts API"},
	{Kind: PipelineTrigger, Role: Developer, Write: true,
		Examples:       "POST /projects/:id/trigger/pipeline with token=$CI_JOB_TOKEN",
		NoPolicyReason: "the pipeline trigger API has no fine-grained policy"},
	{Kind: ReleasesRead, Policy: "read_releases", PolicySince: "17.10", Role: Reporter,
		Examples: "Releases API, release links (read)"},
	{Kind: ReleasesWrite, Policy: "admin_releases", AlsoPolicies: []string{"read_releases"}, PolicySince: "17.10", Role: Developer, Write: true,
		Examples: "Releases API, release links (create, update, delete)"},
	{Kind: DeploymentsRead, Policy: "read_deployments", PolicySince: "17.10", Role: Reporter,
		Examples: "Deployments API (read)"},
	{Kind: DeploymentsWrite, Policy: "admin_deployments", AlsoPolicies: []string{"admin_environments", "read_deployments"}, PolicySince: "17.10", Role: Developer, Write: true,
		Examples: "Deployments API (create, update, approve)"},
	{Kind: EnvironmentsRead, Policy: "read_environments", PolicySince: "17.10", Role: Reporter,
		Examples: "Environments API (read)"},
	{Kind: EnvironmentsWrite, Policy: "admin_environments", AlsoPolicies: []string{"read_environments"}, PolicySince: "17.10", Role: Developer, Write: true,
		Examples: "Environments API (create, update, stop, delete)"},
	{Kind: SecureFilesRead, Policy: "read_secure_files", PolicySince: "17.10", Role: Developer,
		Examples: "Secure Files API (download)"},
	{Kind: SecureFilesWrite, Policy: "admin_secure_files", AlsoPolicies: []string{"read_secure_files"}, PolicySince: "17.10", Role: Maintainer, Write: true,
		Examples: "Secure Files API (upload, delete)"},
	{Kind: TerraformStateRead, Policy: "read_terraform_state", PolicySince: "17.10", Role: Developer,
		Examples: "Terraform HTTP backend, read only (init, output)"},
	{Kind: TerraformStateWrite, Policy: "admin_terraform_state", AlsoPolicies: []string{"read_terraform_state"}, PolicySince: "17.10", Role: Maintainer, Write: true,
		Examples: "Terraform HTTP backend that locks or writes state (plan, apply)"},
	{Kind: APIRead, Role: Reporter,
		Examples:       "other endpoints the token can read (merge requests, pipelines, jobs)",
		NoPolicyReason: "the endpoint family has no single fine-grained policy"},
	{Kind: APIWrite, Role: Developer, Write: true,
		Examples:       "other endpoints the token can write",
		NoPolicyReason: "the endpoint family has no single fine-grained policy"},
}

var byKind = func() map[Kind]Info {
	m := make(map[Kind]Info, len(table))
	for _, i := range table {
		m[i.Kind] = i
	}
	return m
}()

// Policies returns every policy the access needs: Policy and
// AlsoPolicies, sorted; nil when no policy covers it.
func (i Info) Policies() []string {
	if i.Policy == "" {
		return nil
	}
	out := append([]string{i.Policy}, i.AlsoPolicies...)
	slices.Sort(out)
	return out
}

// All returns every access kind, in the order of the table.
func All() []Kind {
	out := make([]Kind, len(table))
	for i, in := range table {
		out[i] = in.Kind
	}
	return out
}

// Lookup returns what is known about k.
func Lookup(k Kind) (Info, bool) {
	i, ok := byKind[k]
	return i, ok
}

// Parse turns s into a Kind, or an error that lists the valid kinds.
func Parse(s string) (Kind, error) {
	k := Kind(s)
	if _, ok := byKind[k]; ok {
		return k, nil
	}
	return "", fmt.Errorf("unknown access kind %q (valid: %v)", s, All())
}

// Sort sorts kinds and drops duplicates, for stable output.
func Sort(ks []Kind) []Kind {
	slices.Sort(ks)
	return slices.Compact(ks)
}
