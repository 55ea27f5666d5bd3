package detect

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
)

func TestJobTokenRefs(t *testing.T) {
	for s, want := range map[string]bool{
		"$CI_JOB_TOKEN": true, "${CI_REGISTRY_PASSWORD}": true, "x=%CI_JOB_TOKEN%": true, "$CI_DEPENDENCY_PROXY_PASSWORD:": true,
		"$CI_JOB_TOKEN_FILE": false, "${CI_JOB_TOKENS}": false, "CI_JOB_TOKEN": false, "$NPM_TOKEN": false,
	} {
		if got := isJobTokenRef(s); got != want {
			t.Errorf("isJobTokenRef(%q) = %v", s, got)
		}
	}
	// The job token as both user name and password is rejected: GitLab
	// looks a job token up only for user gitlab-ci-token.
	if ok, why := basicAuthVerdict(credential{User: tok, Secret: tok}); ok || why == "" {
		t.Errorf("token:token = %v %q", ok, why)
	}
}

func TestBasicAuthVerdict(t *testing.T) {
	tok := inventory.JobToken
	for _, tc := range []struct {
		user, secret string
		use, wont    bool
	}{
		{"gitlab-ci-token", tok, true, false},
		{"__token__", tok, false, true},
		{"oauth2", tok, false, true},
		{"", tok, false, true},
		{"gitlab-ci-token", "${PAT}", false, false},
	} {
		ok, why := basicAuthVerdict(credential{User: tc.user, Secret: tc.secret})
		if ok != tc.use || (why != "") != tc.wont {
			t.Errorf("basicAuthVerdict(%q) = %v, %q", tc.user, ok, why)
		}
	}
}

func TestClassifyUserPass(t *testing.T) {
	for _, tc := range []struct {
		user, pass string
		want       credKind
	}{
		{"gitlab-ci-token", tok, credJobToken},
		{"oauth2", tok, credWrongUser},                      // trap §3.3
		{"__token__", tok, credWrongUser},                   // trap §3.3
		{tok, "", credWrongUser},                            // token as user name
		{"gitlab-ci-token", "${CI_JOB_TOKEN}", credLiteral}, // single-quoted
		{"oauth2", "${GL_TOKEN}", credOther},                // PAT
		{"deployer", "gldt-abc", credOther},                 // deploy token
		{"", "", credNone},
	} {
		if got := classifyUserPass(tc.user, tc.pass); got.kind != tc.want {
			t.Errorf("classifyUserPass(%q, %q) = %v, want %v", tc.user, tc.pass, got.kind, tc.want)
		}
	}
}

func TestParseNetrc(t *testing.T) {
	got := netrcCreds("machine git.example.org\nlogin gitlab-ci-token\npassword "+tok+"\nmachine github.com login x password y\n", loc.Pos{File: "f", Line: 3})
	if got["git.example.org"].kind != credJobToken || got["github.com"].kind != credOther {
		t.Fatalf("netrcCreds = %+v", got)
	}
	if !strings.Contains(got["git.example.org"].via, "f:3") {
		t.Errorf("via = %q", got["git.example.org"].via)
	}
	// One-line form with a literal \n (echo without -e), and a port.
	got = netrcCreds(`machine git.example.org:443\nlogin gitlab-ci-token\npassword `+tok, loc.Pos{})
	if got["git.example.org"].kind != credJobToken {
		t.Errorf("one-line netrc = %+v", got)
	}
	if len(netrcCreds("machine", loc.Pos{})) != 0 || len(netrcCreds("", loc.Pos{})) != 0 {
		t.Error("truncated netrc yields credentials")
	}
}
