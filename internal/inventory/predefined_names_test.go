package inventory

import "testing"

func TestIsPredefined(t *testing.T) {
	for _, n := range []string{"CI_JOB_NAME", "CI_COMMIT_SHA", "CI_PIPELINE_ID", "GITLAB_USER_LOGIN", "CI_MERGE_REQUEST_IID", "CI_EXTERNAL_PULL_REQUEST_IID"} {
		if !IsPredefined(n) {
			t.Errorf("IsPredefined(%q) = false", n)
		}
	}
	for _, n := range []string{"FDO_DISTRIBUTION_TAG", "CI_JOB_NAMES", "DEPLOY_TOKEN", "ci_job_name"} {
		if IsPredefined(n) {
			t.Errorf("IsPredefined(%q) = true", n)
		}
	}
}

// On gitlab.com, CI_REGISTRY is registry.gitlab.com; elsewhere an
// unnamed registry stays unknown, and a named one wins.
func TestServerRegistryDefault(t *testing.T) {
	for _, tc := range []struct{ url, registry, want string }{
		{"https://gitlab.com", "", "registry.gitlab.com"},
		{"https://gitlab.com", "registry.example.com", "registry.example.com"},
		{"https://gitlab.example.com", "", ""},
		{"https://mirror.gitlab.com.example.org", "", ""},
	} {
		s, err := (&Inventory{ServerURL: tc.url, Registry: tc.registry}).Server()
		if err != nil {
			t.Fatal(err)
		}
		if s.Registry != tc.want {
			t.Errorf("Server(%s, %q).Registry = %q, want %q", tc.url, tc.registry, s.Registry, tc.want)
		}
	}
}
