package capability

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		err  bool
	}{
		{"18.5", Version{18, 5}, false},
		{"18.5.2", Version{18, 5}, false},
		{"v17.10.1-ee", Version{17, 10}, false},
		{" 16.11.0-pre ", Version{16, 11}, false},
		{"18", Version{}, true},
		{"18.x", Version{}, true},
		{"0.5", Version{}, true},
		{"", Version{}, true},
		{"18.5.1.2", Version{}, true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if !MustVersion("17.10").AtLeast(MustVersion("17.9")) {
		t.Error("17.10 must sort after 17.9 (numeric minor, not lexical)")
	}
}

// before returns the release just before v.
func before(v Version) Version {
	if v.Minor > 0 {
		return Version{v.Major, v.Minor - 1}
	}
	return Version{v.Major - 1, 11}
}

// TestBoundaries checks every version boundary of the table: the release
// before it has the old behaviour, the release itself the new one.
func TestBoundaries(t *testing.T) {
	for _, tc := range []struct {
		at    string
		check func(Capabilities) bool // true for the new behaviour
		what  string
	}{
		{"15.9", func(c Capabilities) bool { return c.Allowlist }, "inbound allowlist"},
		{"16.3", func(c Capabilities) bool { return c.Names.Setting == "Limit access to this project" }, "setting renamed Limit access to this project"},
		{"16.1", func(c Capabilities) bool { return c.RESTAllowlist }, "REST allowlist API"},
		{"17.0", func(c Capabilities) bool { return c.GroupEntries }, "group entries"},
		{"17.0", func(c Capabilities) bool { return c.AddByPath }, "GraphQL add by path"},
		{"17.2", func(c Capabilities) bool {
			return c.Names.Section == "Job token permissions" && c.Names.Setting == "Authorized groups and projects"
		}, "section Job token permissions"},
		{"17.2", func(c Capabilities) bool { return c.PushOwnRepo == Flag }, "job-token push behind a flag"},
		{"17.6", func(c Capabilities) bool { return c.AuthLog }, "authentication log"},
		{"17.6", func(c Capabilities) bool { return c.Instance == Available }, "instance enforcement setting"},
		{"17.6", func(c Capabilities) bool { return c.Names.Add == "Add" }, "Add project became Add"},
		{"17.10", func(c Capabilities) bool { return c.Autopopulate }, "autopopulate"},
		{"17.10", func(c Capabilities) bool { return c.Policies == Experiment && c.PoliciesNeedFlag() }, "policies experiment"},
		{"17.10", func(c Capabilities) bool { return c.Names.FineGrained == "Fine-grained permissions" }, "fine-grained UI choice"},
		{"18.0", func(c Capabilities) bool { return c.Policies == Beta }, "policies beta"},
		{"18.0", func(c Capabilities) bool { return !c.PoliciesNeedFlag() }, "the beta needs no feature flag"},
		{"18.3", func(c Capabilities) bool { return !c.PoliciesNeedGroupSetting() && c.PoliciesSwitch() == "" }, "GA needs nothing switched on"},
		{"18.0", func(c Capabilities) bool { return c.EnforcedByDefault() }, "instance enforcement on by default"},
		{"18.0", func(c Capabilities) bool { return c.OutboundScope == Removed }, "outbound scope removed"},
		{"18.3", func(c Capabilities) bool { return c.Policies == Available && !c.PoliciesNeedFlag() }, "policies GA"},
		{"18.4", func(c Capabilities) bool { return c.PushOwnRepo == Available }, "job-token push GA"},
	} {
		v := MustVersion(tc.at)
		if !tc.check(For(v)) {
			t.Errorf("%s: GitLab %s should have it", tc.what, v)
		}
		if tc.check(For(before(v))) {
			t.Errorf("%s: GitLab %s should not have it yet", tc.what, before(v))
		}
	}
}

func TestUnknownVersionAssumesNewest(t *testing.T) {
	c := For(Version{})
	if c.Known || c.Policies != Available || !c.GroupEntries || c.OutboundScope != Removed {
		t.Errorf("unknown version: %+v; want the newest known behaviour, marked unknown", c)
	}
}

func TestStepsAscending(t *testing.T) {
	for _, f := range Features {
		for i := 1; i < len(f.Steps); i++ {
			if !f.Steps[i-1].Since.Before(f.Steps[i].Since) {
				t.Errorf("%s: steps not ascending at %s", f.Key, f.Steps[i].Since)
			}
		}
		for _, s := range f.Steps {
			if s.Source == "" {
				t.Errorf("%s %s: no source", f.Key, s.Since)
			}
		}
	}
}

// TestWhatToSwitchOn: each range of fine-grained permissions says what
// must be switched on first, and a version without the allowlist says
// what to upgrade to instead of offering steps.
func TestWhatToSwitchOn(t *testing.T) {
	for _, tc := range []struct{ v, want string }{
		{"17.9", ""},
		{"17.10", "feature flag add_policies_to_ci_job_token"},
		{"17.11", "feature flag add_policies_to_ci_job_token"},
		{"18.0", `"Enable fine-grained permissions for CI/CD job tokens"`},
		{"18.2", `"Enable fine-grained permissions for CI/CD job tokens"`},
		{"18.3", ""},
	} {
		got := For(MustVersion(tc.v)).PoliciesSwitch()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: PoliciesSwitch() = %q, want it to name %q", tc.v, got, tc.want)
		}
	}
	if u := For(MustVersion("15.8")).Upgrade(); !strings.Contains(u, "GitLab 15.8 has no inbound job token allowlist") || !strings.Contains(u, "15.9 or later") {
		t.Errorf("15.8: Upgrade() = %q", u)
	}
	if u := For(MustVersion("15.9")).Upgrade(); u != "" {
		t.Errorf("15.9 has the allowlist: Upgrade() = %q", u)
	}
}
