package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultVersion is the GitLab version simulated when neither Options nor
// the inventory give one.
const DefaultVersion = "18.5"

// Options tune the simulator. The zero value serves the org without
// latency, faults or rate limits, in open mode (see Tokens).
type Options struct {
	// Version is the GitLab version to simulate ("18.5", "17.9.2-ee").
	// Empty: the inventory's gitlab_version, else DefaultVersion. It
	// decides the version-dependent behaviour below unless overridden, and
	// which GraphQL fields exist (the "since X.Y" notes of the schema).
	Version string
	// Enterprise is reported by /version and GraphQL metadata.
	Enterprise bool
	// ExternalURL is GitLab's external_url, from which web_url and the
	// like are built. Empty: the inventory's server_url, else the URL the
	// client used to reach the simulator.
	ExternalURL string

	// Tokens are the accepted access tokens. Empty means open mode: any
	// non-empty token authenticates as an administrator, a request without
	// a token is anonymous.
	Tokens []Token

	// Latency is added to every request before it is handled.
	Latency time.Duration

	// Seed makes fault injection reproducible: the same seed and the same
	// order of requests give the same faults.
	Seed uint64
	// FailRate is the fraction (0..1) of requests that get a fault instead
	// of their answer.
	FailRate float64
	// Faults are the kinds drawn from, uniformly; empty means all of
	// AllFaults.
	Faults []Fault
	// SlowDelay is how long a FaultSlow response is held back before it is
	// served normally. Default 2s.
	SlowDelay time.Duration
	// FaultRetryAfter is the Retry-After of an injected 429. Default 1s.
	FaultRetryAfter time.Duration

	// RateLimit is the number of requests a client (token, else remote
	// address) may make per RateLimitPeriod; 0 disables rate limiting.
	RateLimit int
	// RateLimitPeriod is the Rack::Attack period; default one second.
	RateLimitPeriod time.Duration
	// RateLimitHeadersAlways sends the RateLimit-* headers on every
	// response, as GitLab.com's edge does; self-managed GitLab (Rack::Attack)
	// sends them only with the 429.
	RateLimitHeadersAlways bool

	// SelfLinkAllowed overrides whether a project may be added to its own
	// allowlist (newer GitLab: yes; older: 400). Default: yes from 18.0.
	SelfLinkAllowed *bool
	// NewDuplicateMessages overrides which duplicate-entry messages are
	// used ("This project is already in the job token allowlist." vs
	// "Target project is already in the job token scope"). Default: the
	// new ones from 18.0.
	NewDuplicateMessages *bool
	// PoliciesEnabled overrides whether fine-grained job token policies
	// are honoured (feature flag add_policies_to_ci_job_token, GA in
	// 18.3). Default: from 18.3.
	PoliciesEnabled *bool
	// InstanceEnforcesAllowlist overrides the inventory's
	// instance_enforces_allowlist (the admin setting that forces every
	// project's inbound allowlist on). Default: the inventory's value,
	// else on from 18.0 as GitLab ships it. PUT /application/settings
	// changes it while the simulator runs.
	InstanceEnforcesAllowlist *bool

	// MaxQuerySize is the longest GraphQL query text accepted
	// (GraphqlController::MAX_QUERY_SIZE, 10,000 characters); negative
	// disables the check.
	MaxQuerySize int

	// Now is the clock (rate-limit windows, creation times of new
	// allowlist entries). Default time.Now.
	Now func() time.Time
}

// Token is an access token and what its user may do.
type Token struct {
	// Value is the secret sent in PRIVATE-TOKEN or Authorization: Bearer.
	// It is never logged or echoed.
	Value string
	// Username names the user (addedBy of allowlist entries); default
	// "user<N>".
	Username string
	// Admin users can do everything and get GitLab's admin GraphQL
	// complexity limit.
	Admin bool
	// Role applies to every project and group not in Roles.
	Role Role
	// Roles maps the full path of a group or project to the user's role
	// there; the nearest path wins (project, then its groups upwards), as
	// inherited membership does on GitLab.
	Roles map[string]Role
}

// Role is a GitLab access level.
type Role int

// Access levels, with GitLab's numbers.
const (
	RoleNone       Role = 0
	RoleGuest      Role = 10
	RoleReporter   Role = 20
	RoleDeveloper  Role = 30
	RoleMaintainer Role = 40
	RoleOwner      Role = 50
)

// ParseRole reads a role name (none, guest, reporter, developer,
// maintainer, owner), case-insensitively.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "":
		return RoleNone, nil
	case "guest":
		return RoleGuest, nil
	case "reporter":
		return RoleReporter, nil
	case "developer":
		return RoleDeveloper, nil
	case "maintainer":
		return RoleMaintainer, nil
	case "owner":
		return RoleOwner, nil
	}
	return 0, fmt.Errorf("unknown role %q (want none, guest, reporter, developer, maintainer or owner)", s)
}

// String returns the role name.
func (r Role) String() string {
	switch {
	case r >= RoleOwner:
		return "owner"
	case r >= RoleMaintainer:
		return "maintainer"
	case r >= RoleDeveloper:
		return "developer"
	case r >= RoleReporter:
		return "reporter"
	case r >= RoleGuest:
		return "guest"
	}
	return "none"
}

// ParseToken reads the command-line form TOKEN=SPEC, where SPEC is a
// comma-separated list of ROLE (the default role), PATH:ROLE (a role on a
// group or project) and "admin". Errors never include the token value.
func ParseToken(s string) (Token, error) {
	value, spec, ok := strings.Cut(s, "=")
	if !ok || value == "" || spec == "" {
		return Token{}, fmt.Errorf("token: want TOKEN=ROLE[,PATH:ROLE...] (role none, guest, reporter, developer, maintainer, owner or admin)")
	}
	t := Token{Value: value}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if strings.EqualFold(item, "admin") {
			t.Admin = true
			continue
		}
		if path, role, ok := strings.Cut(item, ":"); ok {
			r, err := ParseRole(role)
			if err != nil {
				return Token{}, fmt.Errorf("token role for %s: %w", path, err)
			}
			if t.Roles == nil {
				t.Roles = map[string]Role{}
			}
			t.Roles[strings.Trim(path, "/")] = r
			continue
		}
		r, err := ParseRole(item)
		if err != nil {
			return Token{}, fmt.Errorf("token role: %w", err)
		}
		t.Role = r
	}
	return t, nil
}

// ParseRateLimit reads "N/s", "N/m" or "N/<duration>" (for example
// "600/m", "10/s", "5/500ms") into a request count and a period.
func ParseRateLimit(s string) (int, time.Duration, error) {
	num, per, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("rate limit %q: want N/s, N/m or N/<duration>, N > 0", s)
	}
	switch per = strings.TrimSpace(per); per {
	case "s", "sec", "second":
		return n, time.Second, nil
	case "m", "min", "minute":
		return n, time.Minute, nil
	}
	d, err := time.ParseDuration(per)
	if err != nil || d < time.Millisecond {
		return 0, 0, fmt.Errorf("rate limit %q: period %q is not s, m or a duration of at least 1ms", s, per)
	}
	return n, d, nil
}

// version is a parsed GitLab version, major and minor only: every
// behaviour switch GitLab documents is per minor release.
type version struct{ major, minor int }

func parseVersion(s string) (version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return version{}, fmt.Errorf("GitLab version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minorText := parts[1]
	if i := strings.IndexAny(minorText, "-+"); i >= 0 {
		minorText = minorText[:i]
	}
	minor, err2 := strconv.Atoi(minorText)
	if err1 != nil || err2 != nil {
		return version{}, fmt.Errorf("GitLab version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	return version{major, minor}, nil
}

func (v version) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

// behaviour is the resolved set of version-dependent switches.
type behaviour struct {
	version         version
	versionText     string
	selfLink        bool
	newDuplicates   bool
	policies        bool
	instanceEnforce bool
	// jobTokenForbidden: a job token refused by the allowlist gets 403
	// "Authentication by CI/CD job token not allowed from A to B." (REST:
	// lib/api/helpers.rb handle_job_token_failure!,
	// https://gitlab.com/gitlab-org/gitlab/-/merge_requests/163211; git:
	// lib/gitlab/git_access.rb,
	// https://gitlab.com/gitlab-org/gitlab/-/merge_requests/161795);
	// before, the target was not found (404, the troubleshooting section
	// of https://docs.gitlab.com/ci/jobs/ci_job_token/). Both MRs were
	// merged in the 17.4 cycle; the release is not pinned further.
	jobTokenForbidden bool
}

func resolveBehaviour(o Options, inventoryVersion string, inventoryEnforce *bool) (behaviour, error) {
	text := o.Version
	if text == "" {
		text = inventoryVersion
	}
	if text == "" {
		text = DefaultVersion
	}
	v, err := parseVersion(text)
	if err != nil {
		return behaviour{}, err
	}
	b := behaviour{
		version:     v,
		versionText: text,
		// Older ProjectScopeLink validated not_self_referential_link
		// ("Target project can't be the same as the source project");
		// the newer AddProjectService spec expects a self add to succeed
		// (spec/services/ci/job_token_scope/add_project_service_spec.rb,
		// "when target project is same as the source project"). The
		// release is not pinned; 18.x accepts them.
		selfLink: v.atLeast(18, 0),
		// EditScopeValidations' duplicate messages changed wording
		// (app/services/concerns/ci/job_token_scope/edit_scope_validations.rb);
		// the release is not pinned.
		newDuplicates: v.atLeast(18, 0),
		// Fine-grained permissions are GA in 18.3
		// (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/).
		policies:          v.atLeast(18, 3),
		jobTokenForbidden: v.atLeast(17, 4),
	}
	// The admin setting enforce_ci_inbound_job_token_scope_enabled exists
	// since 17.6 and is on by default from 18.0: the migration
	// EnableCiJobTokenAllowlistSetting (milestone 18.0) sets it on every
	// instance, "When on (default on %18.0)" in
	// https://gitlab.com/gitlab-org/gitlab/-/merge_requests/166952, and
	// https://docs.gitlab.com/administration/settings/continuous_integration/
	// ("Enforce job token allowlist"). An inventory that records the
	// setting wins.
	b.instanceEnforce = v.atLeast(18, 0)
	if inventoryEnforce != nil {
		b.instanceEnforce = *inventoryEnforce
	}
	for _, o := range []struct {
		dst *bool
		src *bool
	}{{&b.selfLink, o.SelfLinkAllowed}, {&b.newDuplicates, o.NewDuplicateMessages}, {&b.policies, o.PoliciesEnabled}, {&b.instanceEnforce, o.InstanceEnforcesAllowlist}} {
		if o.src != nil {
			*o.dst = *o.src
		}
	}
	return b, nil
}
