package capability

// Stage is where a feature stands in one GitLab version.
type Stage string

// Stages, in the order a feature usually passes through them.
const (
	Absent     Stage = "absent"
	Flag       Stage = "behind a feature flag"
	Experiment Stage = "experiment"
	Beta       Stage = "beta"
	Available  Stage = "available"
	Default    Stage = "on by default"
	Deprecated Stage = "deprecated"
	Removed    Stage = "removed"
)

// Has reports whether a user can rely on the feature at this stage
// (experiments and flags count: they work once enabled).
func (s Stage) Has() bool {
	switch s {
	case Flag, Experiment, Beta, Available, Default, Deprecated:
		return true
	}
	return false
}

// Step is a change of a feature's stage in a release.
type Step struct {
	Since  Version
	Stage  Stage
	Note   string
	Source string // issue, MR or docs page
}

// Feature is one part of the job token model that changed over releases.
type Feature struct {
	Key   string
	Name  string
	Why   string // what it means for locking down the job token
	Steps []Step // ascending by Since
}

// At returns the feature's stage in v: the last step at or before v, or
// Absent before the first.
func (f Feature) At(v Version) Step {
	st := Step{Stage: Absent}
	for _, s := range f.Steps {
		if v.AtLeast(s.Since) {
			st = s
		}
	}
	return st
}

// Feature keys.
const (
	KeyAllowlist      = "inbound-allowlist"
	KeyMembersOnly    = "members-only-features"
	KeyGroupEntries   = "group-entries"
	KeyPushOwnRepo    = "push-own-repository"
	KeyAuthLog        = "authentication-log"
	KeyInstance       = "instance-enforcement"
	KeyAutopopulate   = "autopopulate"
	KeyPolicies       = "fine-grained-policies"
	KeyReadRepoPolicy = "read-repositories-policy"
	KeyOutbound       = "outbound-scope"
	KeyJWT            = "jwt-tokens"
	KeyRESTAllowlist  = "rest-allowlist-api"
	KeyAddByPath      = "graphql-add-by-path"
)

// Features is the versioned table (the history notes of
// https://docs.gitlab.com/ci/jobs/ci_job_token/; each step names its public source). Keep steps ascending.
var Features = []Feature{
	{Key: KeyAllowlist, Name: "Inbound job token allowlist",
		Why: "the callee lists which projects' job tokens may come in; everything else is refused",
		Steps: []Step{
			{Since: MustVersion("15.9"), Stage: Available, Note: "on by default for new projects", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/346298"},
		}},
	{Key: KeyRESTAllowlist, Name: "REST API for the inbound allowlist (/projects/:id/job_token_scope)",
		Why: "scripts and tokenscope apply read and write the allowlist and its setting over REST; before it, only the UI can",
		Steps: []Step{
			// The endpoints of issue 351740 shipped in 16.1: the security
			// report https://gitlab.com/gitlab-org/gitlab/-/issues/419625 opens
			// "with the release of GitLab 16.1, it is now possible to manage
			// the CI-CD job token scope using the REST API".
			{Since: MustVersion("16.1"), Stage: Available, Note: "GET and PATCH job_token_scope, GET/POST/DELETE job_token_scope/allowlist", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/351740"},
		}},
	{Key: KeyAddByPath, Name: "GraphQL ciJobTokenScopeAddGroupOrProject (add an entry by path)",
		Why: "adds a project or group the inventory has no ID for; REST needs numeric IDs",
		Steps: []Step{
			// Introduced with group entries (behind group_scope_link_allowlist
			// until they shipped in 17.0).
			{Since: MustVersion("17.0"), Stage: Available, Source: "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/143132"},
		}},
	{Key: KeyMembersOnly, Name: "Allowlist gates public/internal features set to \"Only project members\"",
		Why: "on public and internal projects, features left at \"Everyone with access\" stay open to every job token",
		Steps: []Step{
			{Since: MustVersion("16.6"), Stage: Available, Note: "artifacts, registry, packages, releases, deployments, environments", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/405369"},
			{Since: MustVersion("17.0"), Stage: Available, Note: "the repository too", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/439158"},
		}},
	{Key: KeyGroupEntries, Name: "Groups on the allowlist",
		Why: "one entry admits every project in a group and its subgroups, including projects created later: an explicit widening",
		Steps: []Step{
			{Since: MustVersion("17.0"), Stage: Available, Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/415519"},
		}},
	{Key: KeyPushOwnRepo, Name: "Git push with the job token (own repository only)",
		Why: "a job may push to its own project; never to another project, so cross-project push needs another credential",
		Steps: []Step{
			{Since: MustVersion("17.2"), Stage: Flag, Note: "flag allow_push_repository_for_job_token, off by default", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/389060"},
			{Since: MustVersion("18.4"), Stage: Available, Note: "setting \"Allow Git push requests to the repository\", off by default", Source: "https://docs.gitlab.com/ci/jobs/ci_job_token/"},
		}},
	{Key: KeyAuthLog, Name: "Job token authentication log",
		Why: "lists the projects whose job tokens reached this project (successful accesses only, last time per project): evidence of use",
		Steps: []Step{
			{Since: MustVersion("17.6"), Stage: Available, Note: "UI shows 100 rows, CSV the rest; GraphQL ciJobTokenAuthLogs (experiment)", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/467292"},
		}},
	{Key: KeyInstance, Name: "Instance setting \"Enable and enforce job token allowlist for all projects\"",
		Why: "an administrator can enforce every project's allowlist at once; projects can no longer choose \"All groups and projects\"",
		Steps: []Step{
			{Since: MustVersion("17.6"), Stage: Available, Note: "off by default", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/496647"},
			{Since: MustVersion("18.0"), Stage: Default, Note: "turned on by the 18.0 upgrade (GitLab.com enforced in April 2025); self-managed admins can turn it off", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/383084"},
		}},
	{Key: KeyAutopopulate, Name: "Autopopulate the allowlist from the authentication log",
		Why: "copies every logged origin into the allowlist with default permissions, compacting to groups past 200 entries: fast, but wider than needed",
		Steps: []Step{
			{Since: MustVersion("17.10"), Stage: Available, Note: "UI \"All projects in authentication log\" and Rake task ci:job_tokens:allowlist:autopopulate_and_enforce", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/498125"},
		}},
	{Key: KeyPolicies, Name: "Fine-grained job token permissions (policies per allowlist entry)",
		Why: "an entry can be narrowed to read_packages, read_jobs, ... instead of everything the token can reach",
		Steps: []Step{
			{Since: MustVersion("17.10"), Stage: Experiment, Note: "per-project flag add_policies_to_ci_job_token; GraphQL only", Source: "https://gitlab.com/groups/gitlab-org/-/epics/15234"},
			// The 18.0 beta docs require fine-grained permissions to be enabled
			// before they are added (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/,
			// doc/ci/jobs/fine_grained_permissions.md at 18.0): the top-level
			// group setting "Enable fine-grained permissions for CI/CD job
			// tokens", which MR 196966 removed when policies became available
			// to every group.
			{Since: MustVersion("18.0"), Stage: Beta, Note: "top-level group setting \"Enable fine-grained permissions for CI/CD job tokens\" (Settings > CI/CD > General pipelines) must be on", Source: "https://gitlab.com/groups/gitlab-org/-/epics/16199"},
			{Since: MustVersion("18.3"), Stage: Available, Note: "GA, on for every group (the group setting is gone: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/196966); still GraphQL and UI only (no REST, no Terraform)", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/519575"},
		}},
	{Key: KeyReadRepoPolicy, Name: "Policy read_repositories",
		Why: "narrows an entry to repository reads (Files, Branches, Tags, Commits API)",
		Steps: []Step{
			{Since: MustVersion("18.4"), Stage: Available, Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/555868"},
		}},
	{Key: KeyOutbound, Name: "Outbound scope \"Limit access from this project\" (legacy)",
		Why: "the old control limited where this project's token could go; it never protected the target",
		Steps: []Step{
			{Since: MustVersion("14.1"), Stage: Available, Note: "on by default for new projects", Source: "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/65848"},
			{Since: MustVersion("16.0"), Stage: Deprecated, Note: "off by default for new projects", Source: "https://docs.gitlab.com/ci/jobs/ci_job_token/"},
			{Since: MustVersion("18.0"), Stage: Removed, Note: "switched off on every project by the upgrade", Source: "https://gitlab.com/gitlab-org/gitlab/-/issues/395708"},
		}},
	{Key: KeyJWT, Name: "JWT-format job tokens",
		Why: "tools that inspect tokens must accept both formats",
		Steps: []Step{
			{Since: MustVersion("17.10"), Stage: Available, Note: "opt-in per top-level group", Source: "https://gitlab.com/gitlab-org/gitlab/-/work_items/514860"},
			{Since: MustVersion("19.0"), Stage: Default, Source: "https://docs.gitlab.com/ci/jobs/ci_job_token/"},
		}},
}

// Lookup returns the feature with key k. It panics on an unknown key (a
// programmer error).
func Lookup(k string) Feature {
	for _, f := range Features {
		if f.Key == k {
			return f
		}
	}
	panic("explain: unknown feature " + k)
}
