package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
)

// Policies returns the fine-grained policies that cover kinds on a GitLab
// with caps, or nil and the reason the entry needs default permissions:
// the union of the kinds' policies when every kind has one that this
// version knows.
func Policies(kinds []access.Kind, caps capability.Capabilities) ([]string, string) {
	if len(kinds) == 0 {
		return nil, "access kinds unknown (the authentication log does not say which): default permissions until trust.yaml names them"
	}
	if !caps.PoliciesUsable() {
		return nil, fmt.Sprintf("GitLab %s has no fine-grained job token permissions (17.10 or later)", caps.Version)
	}
	var out []string
	for _, k := range kinds {
		in, ok := access.Lookup(k)
		if !ok {
			return nil, fmt.Sprintf("unknown access kind %s", k)
		}
		if in.Policy == "" {
			return nil, fmt.Sprintf("%s: %s", k, in.NoPolicyReason)
		}
		if caps.Known && in.PolicySince != "" && caps.Version.Before(capability.MustVersion(in.PolicySince)) {
			return nil, fmt.Sprintf("%s needs the policy %s, which GitLab has from %s (this is %s)", k, in.Policy, in.PolicySince, caps.Version)
		}
		out = append(out, in.Policies()...)
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

var roleRank = map[access.Role]int{access.Guest: 1, access.Reporter: 2, access.Developer: 3, access.Maintainer: 4}

// minRole is the highest role any kind needs; "" when no kind is known.
func minRole(kinds []access.Kind) access.Role {
	var r access.Role
	for _, k := range kinds {
		if in, ok := access.Lookup(k); ok && roleRank[in.Role] > roleRank[r] {
			r = in.Role
		}
	}
	return r
}

// samePolicies compares policy sets; nil (default permissions) equals
// only nil.
func samePolicies(a, b []string) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

// grants reports whether an entry with policies have allows what want
// needs: default permissions allow everything a job token can do.
func grants(have, want []string) bool {
	if have == nil {
		return true
	}
	if want == nil {
		return false
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func policyChange(cur, want []string) string {
	return fmt.Sprintf("policies %s → %s", policyText(cur), policyText(want))
}

// PolicyText renders a policy set for people.
func policyText(p []string) string {
	if p == nil {
		return "default permissions"
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ", ")
}

// splitNever separates the kinds a job token can never use across
// projects from the others.
func splitNever(ks []access.Kind) (never, rest []access.Kind) {
	for _, k := range ks {
		if in, ok := access.Lookup(k); ok && in.Never {
			never = append(never, k)
		} else {
			rest = append(rest, k)
		}
	}
	return never, rest
}

func kindsText(ks []access.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// neverAdvice says which credential to use where a job token cannot work
// (https://docs.gitlab.com/ci/jobs/ci_job_token/, https://docs.gitlab.com/security/tokens/).
func neverAdvice(k access.Kind, caller, callee string) string {
	switch k {
	case access.RepositoryWrite:
		return fmt.Sprintf("a job token pushes only to its own project, so %s's jobs cannot push to %s with it. "+
			"Use a project access token of %s with write_repository (stored as a masked, protected CI/CD variable of %s), "+
			"or a deploy key with write access for SSH pushes", caller, callee, callee, caller)
	case access.ContainerWrite:
		return fmt.Sprintf("a job token pushes images only to its own project's registry, so %s's jobs cannot push to %s's registry with it. "+
			"Use a project access token or deploy token of %s with write_registry (a masked, protected CI/CD variable of %s)", caller, callee, callee, caller)
	}
	return "a job token cannot do this across projects; use a project access token"
}

func triggerAdvice(callee string) string {
	return fmt.Sprintf("the triggered pipeline runs as the triggering user, who needs Developer on %s and may push to the ref; "+
		"if that must not depend on who triggers, use a pipeline trigger token of %s instead", callee, callee)
}
