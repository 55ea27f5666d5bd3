package capability

import "fmt"

// newest stands in for an unknown version: tokenscope then assumes the
// newest behaviour it knows and says so.
var newest = Version{Major: 99}

// Capabilities is what one GitLab version offers for locking down the job
// token, as plan and the renderers need it.
type Capabilities struct {
	// Version is the version described; zero when unknown (then every
	// field describes the newest known behaviour).
	Version Version
	Known   bool

	Allowlist     bool
	RESTAllowlist bool // the REST allowlist API (16.1)
	AddByPath     bool // GraphQL ciJobTokenScopeAddGroupOrProject (17.0)
	GroupEntries  bool
	AuthLog       bool
	Autopopulate  bool
	Instance      Stage // instance enforcement setting
	Policies      Stage // fine-grained policies
	PushOwnRepo   Stage
	OutboundScope Stage
	Names         UINames
}

// PoliciesUsable reports whether allowlist entries can carry fine-grained
// policies at all (an experiment behind a flag before 18.0, beta before
// 18.3).
func (c Capabilities) PoliciesUsable() bool { return c.Policies.Has() }

// PoliciesNeedFlag reports whether policies depend on the per-project
// feature flag add_policies_to_ci_job_token (the 17.10 experiment):
// without it, GitLab stores entries with default permissions.
func (c Capabilities) PoliciesNeedFlag() bool { return c.Policies == Experiment }

// PoliciesNeedGroupSetting reports whether policies take effect only where
// the top-level group's "Enable fine-grained permissions for CI/CD job
// tokens" is on (the 18.0 beta, until GA in 18.3).
func (c Capabilities) PoliciesNeedGroupSetting() bool { return c.Policies == Beta }

// PoliciesSwitch says what must be switched on before fine-grained
// policies take effect on this version, "" when nothing must (or there are
// no policies). Sources: the experiment's and the beta's docs
// (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/, the 17.10
// and 18.0 versions of doc/ci/jobs/fine_grained_permissions.md) and
// https://gitlab.com/gitlab-org/gitlab/-/merge_requests/196966, which
// removed the group setting at GA.
func (c Capabilities) PoliciesSwitch() string {
	switch {
	case c.PoliciesNeedFlag():
		return "before applying, an administrator enables the feature flag add_policies_to_ci_job_token for each callee that gets policies " +
			"(Rails console: Feature.enable(:add_policies_to_ci_job_token, Project.find_by_full_path(\"group/project\"))); without it GitLab keeps every entry at default permissions"
	case c.PoliciesNeedGroupSetting():
		return "before applying, an Owner of each top-level group turns on \"Enable fine-grained permissions for CI/CD job tokens\" " +
			"(the group's Settings > CI/CD > General pipelines); without it the callees in that group cannot use fine-grained permissions and entries keep default permissions"
	}
	return ""
}

// Upgrade explains, for a version without the inbound allowlist, that
// nothing can be locked down on it and what each later release brings;
// "" for a version that has the allowlist.
func (c Capabilities) Upgrade() string {
	if c.Allowlist {
		return ""
	}
	return fmt.Sprintf("GitLab %s has no inbound job token allowlist: any project's job token reaches every project its user can see, and nothing can lock that down. "+
		"Upgrade first: to 15.9 or later for the allowlist (set in the UI), 16.1 for its REST API, 17.0 for group entries, 17.6 for the authentication log that shows who uses a project, "+
		"18.3 for fine-grained permissions; then plan again with --gitlab-version, or snapshot again", c.Version)
}

// EnforcedByDefault reports whether the instance setting is on by default.
func (c Capabilities) EnforcedByDefault() bool { return c.Instance == Default }

// For returns the capabilities of v. The zero Version means unknown.
func For(v Version) Capabilities {
	at := v
	if v.IsZero() {
		at = newest
	}
	c := Capabilities{
		Version:       v,
		Known:         !v.IsZero(),
		Allowlist:     Lookup(KeyAllowlist).At(at).Stage.Has(),
		RESTAllowlist: Lookup(KeyRESTAllowlist).At(at).Stage.Has(),
		AddByPath:     Lookup(KeyAddByPath).At(at).Stage.Has(),
		GroupEntries:  Lookup(KeyGroupEntries).At(at).Stage.Has(),
		AuthLog:       Lookup(KeyAuthLog).At(at).Stage.Has(),
		Autopopulate:  Lookup(KeyAutopopulate).At(at).Stage.Has(),
		Instance:      Lookup(KeyInstance).At(at).Stage,
		Policies:      Lookup(KeyPolicies).At(at).Stage,
		PushOwnRepo:   Lookup(KeyPushOwnRepo).At(at).Stage,
		OutboundScope: Lookup(KeyOutbound).At(at).Stage,
		Names:         namesAt(at),
	}
	return c
}

// UINames are the words of the project settings UI in one version, so
// that the steps a plan prints match the screen in front of the user.
type UINames struct {
	// Section is the expandable section under Settings > CI/CD.
	Section string
	// Setting is the control that turns the inbound allowlist on.
	Setting string
	// Enforce says how to turn it on.
	Enforce string
	// Add is the path of buttons that adds an entry.
	Add string
	// FineGrained and DefaultPermissions name the two permission choices of
	// an entry (17.10+); empty before.
	FineGrained        string
	DefaultPermissions string
}

// namesAt follows the renames in the docs' history notes
// (https://docs.gitlab.com/ci/jobs/ci_job_token/): 16.3 "Limit access to this project", 17.2
// "Authorized groups and projects" in section "Job token permissions",
// 17.6 "Add project" became "Add", 17.10 the Add menu gained "Group or
// project" and "All projects in authentication log".
func namesAt(v Version) UINames {
	n := UINames{
		Section: "Token Access",
		Setting: "Allow access to this project with a CI_JOB_TOKEN",
		Add:     "Add project",
	}
	n.Enforce = "turn on **" + n.Setting + "**"
	if v.AtLeast(MustVersion("16.3")) {
		n.Setting = "Limit access to this project"
		n.Enforce = "turn on **" + n.Setting + "**"
	}
	if v.AtLeast(MustVersion("17.2")) {
		n.Section = "Job token permissions"
		n.Setting = "Authorized groups and projects"
		n.Enforce = "under **Authorized groups and projects**, select **Only this project and any groups and projects in the allowlist**"
	}
	if v.AtLeast(MustVersion("17.6")) {
		n.Add = "Add"
	}
	if v.AtLeast(MustVersion("17.10")) {
		n.Add = "Add > Group or project"
		n.FineGrained = "Fine-grained permissions"
		n.DefaultPermissions = "Default permissions"
	}
	return n
}
