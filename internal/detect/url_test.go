package detect

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URL
		ok   bool
	}{
		{"https://gitlab-ci-token:" + inventory.JobToken + "@git.example.org/acme/tools/helpers.git",
			URL{Scheme: "https", User: "gitlab-ci-token", Password: inventory.JobToken, HasUser: true, Host: "git.example.org", Path: "/acme/tools/helpers.git"}, true},
		{"https://${GITLAB_HOST}/a/b.git", URL{Scheme: "https", Host: "${gitlab_host}", Path: "/a/b.git"}, true},
		{"//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=x",
			URL{Host: "git.example.org", Path: "/api/v4/projects/31337/packages/npm/:_authToken=x"}, true},
		{"git@git.example.org:cps/tools.git", URL{Scheme: "ssh", User: "git", HasUser: true, Host: "git.example.org", Path: "/cps/tools.git"}, true},
		{"http://10.0.0.5:8080/team/licenses.git?x=1#frag", URL{Scheme: "http", Host: "10.0.0.5:8080", Path: "/team/licenses.git", Query: "x=1"}, true},
		{"not a url", URL{}, false},
		{"./relative/path", URL{}, false},
	} {
		got, ok := ParseURL(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestOnServerAndRegistry(t *testing.T) {
	for _, h := range []string{"git.example.org", "GIT.example.org", "git.example.org:443"} {
		if !OnServer(testServer, h) {
			t.Errorf("OnServer(%q) = false", h)
		}
	}
	for _, h := range []string{"github.com", "git.example.org:8443", "registry.example.org"} {
		if OnServer(testServer, h) {
			t.Errorf("OnServer(%q) = true", h)
		}
	}
	if !OnRegistry(testServer, "registry.example.org") || OnRegistry(testServer, "git.example.org") {
		t.Error("OnRegistry wrong")
	}
}

func TestClassifyAPI(t *testing.T) {
	for _, tc := range []struct {
		url, method string
		target      use.Target
		access      access.Kind
		wontWork    bool
	}{
		{"https://git.example.org/api/v4/projects/202/packages/npm/", "GET", use.Target{Kind: use.ID, Value: "202"}, access.PackagesRead, false},
		{"https://git.example.org/api/v4/projects/core%2Fcrypto/jobs/artifacts/v1.2/download?job=build", "", use.Target{Kind: use.Path, Value: "core/crypto"}, access.ArtifactsRead, false},
		{"https://git.example.org/api/v4/projects/org%2Fnode%2Fclient%2Fimpl/jobs/42/artifacts", "", use.Target{Kind: use.Path, Value: "org/node/client/impl"}, access.ArtifactsRead, false},
		{"https://git.example.org/api/v4/projects/55/trigger/pipeline", "POST", use.Target{Kind: use.ID, Value: "55"}, access.PipelineTrigger, false},
		{"https://git.example.org/api/v4/projects/55/packages/generic/tool/1.0/t.tgz", "PUT", use.Target{Kind: use.ID, Value: "55"}, access.PackagesWrite, false},
		{"https://git.example.org/api/v4/projects/7/terraform/state/prod", "", use.Target{Kind: use.ID, Value: "7"}, access.TerraformStateRead, false},
		{"https://git.example.org/api/v4/projects/7/terraform/state/prod/lock", "POST", use.Target{Kind: use.ID, Value: "7"}, access.TerraformStateWrite, false},
		{"https://git.example.org/api/v4/projects/7/releases", "POST", use.Target{Kind: use.ID, Value: "7"}, access.ReleasesWrite, false},
		{"https://git.example.org/api/v4/projects/${PID}/secure_files", "", use.Target{Kind: use.Unknown, Value: "${PID}", Reason: "variable PID is not defined in the CI config (it may be a project, group or instance variable)"}, access.SecureFilesRead, false},
		{"https://git.example.org/api/v4/groups/77/-/packages/pypi/simple", "", use.Target{Kind: use.Group, Value: "77"}, access.PackagesRead, false},
		{"https://git.example.org/api/v4/group/12/-/packages/composer/packages.json", "", use.Target{Kind: use.Group, Value: "12"}, access.PackagesRead, false},
		{"https://git.example.org/api/v4/projects/9/repository/files/a.yml?ref=main", "", use.Target{Kind: use.ID, Value: "9"}, "", true},
		{"https://git.example.org/api/v4/projects/9/registry/repositories", "", use.Target{Kind: use.ID, Value: "9"}, "", true},
		{"https://git.example.org/api/v4/projects/9/repository/files/a.yml/raw?ref=main", "", use.Target{Kind: use.ID, Value: "9"}, access.RepositoryRead, false},
	} {
		u, ok := ParseURL(tc.url)
		if !ok {
			t.Fatalf("ParseURL(%q) failed", tc.url)
		}
		ep, ok := ClassifyAPI(testServer, u, tc.method)
		if !ok {
			t.Errorf("ClassifyAPI(%q) not an API URL", tc.url)
			continue
		}
		if !strings.HasPrefix(ep.Target.Reference, "/api/v4/") {
			t.Errorf("ClassifyAPI(%q) reference = %q; want the endpoint path", tc.url, ep.Target.Reference)
		}
		ep.Target.Reference = ""
		if ep.Target != tc.target || ep.Access != tc.access || (ep.WontWork != "") != tc.wontWork {
			t.Errorf("ClassifyAPI(%s %q) = %+v; want target %+v access %q wontWork %v", tc.method, tc.url, ep, tc.target, tc.access, tc.wontWork)
		}
	}
	if _, ok := ClassifyAPI(testServer, URL{Host: "github.com", Path: "/api/v4/projects/1"}, ""); ok {
		t.Error("other host classified as GitLab API")
	}
}

func TestImageRefAndGitTarget(t *testing.T) {
	for _, tc := range []struct{ in, host, path string }{
		{"registry.example.org/platform/ci-images/builder:1.4", "registry.example.org", "platform/ci-images/builder"},
		{"host:4567/lib/test-utils/runner:latest", "host:4567", "lib/test-utils/runner"},
		{"registry.example.org/Platform/Base@sha256:abc", "registry.example.org", "platform/base"},
	} {
		h, p, ok := ImageRef(tc.in)
		if !ok || h != tc.host || p != tc.path {
			t.Errorf("ImageRef(%q) = %q, %q, %v", tc.in, h, p, ok)
		}
	}
	if _, _, ok := ImageRef("python:3.12"); ok {
		t.Error("Docker Hub image treated as registry ref")
	}
	u, _ := ParseURL("https://gitlab-ci-token:x@git.example.org/apps/web%2Dui/.git")
	if got := GitTarget(testServer, u); got.Value != "apps/web-ui" {
		t.Errorf("GitTarget = %+v", got)
	}
}

// A predefined variable always exists in a job; only its value is
// unknown. freedesktop's ci-templates build image tags from
// $CI_JOB_NAME and $CI_PIPELINE_ID, which were reported as "not defined".
func TestUnknownReasonPredefined(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"registry.example.org/acme/app:${CI_JOB_NAME}", "predefined variable CI_JOB_NAME has a value only known when the job runs"},
		{"$CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "predefined variable CI_MERGE_REQUEST_SOURCE_PROJECT_PATH has a value only known when the job runs"},
		{"${FDO_DISTRIBUTION_TAG}", "variable FDO_DISTRIBUTION_TAG is not defined in the CI config (it may be a project, group or instance variable)"},
		{"$(cat tag)", "the value comes from a command substitution ($(cat tag)) and is not known statically"},
		{"plain", ""},
	} {
		if got := UnknownReason(tc.in); got != tc.want {
			t.Errorf("UnknownReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
