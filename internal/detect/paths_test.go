package detect

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// resolvePath gives both families the same view of a path: project
// directory first (also when the runner's builds_dir lies under the home
// directory), then the home directory, then the working directory.
func TestResolvePath(t *testing.T) {
	in := &Input{Env: shell.MapEnv{"CI_PROJECT_DIR": "/root/builds/acme/app", "HOME": "/root"}}
	for _, tc := range []struct{ dir, p, want string }{
		{"", "/root/builds/acme/app/ci/x.xml", "ci/x.xml"},
		{"", "/root/builds/acme/app", "."},
		{"", "/root/.netrc", "~/.netrc"},
		{"", "$HOME/.docker/config.json", "~/.docker/config.json"},
		{"", "~", "~"},
		{"sub", "../a/./b", "a/b"},
		{"sub", ".", "sub"},
		{"", ".", ""},
		{"", "/etc/pip.conf", "/etc/pip.conf"},
		{"", "../x", "../x"},
	} {
		if got := in.resolvePath(nil, tc.dir, tc.p); got != tc.want {
			t.Errorf("resolvePath(%q, %q) = %q, want %q", tc.dir, tc.p, got, tc.want)
		}
	}
	for r, out := range map[string]bool{"a/b": false, "..foo/x": false, "../x": true, "..": true, "~/x": true, "/etc": true} {
		if outsideRepo(r) != out {
			t.Errorf("outsideRepo(%q) = %v", r, !out)
		}
	}
}

func TestRepoPath(t *testing.T) {
	in := inputFor(acmeApp)
	for p, want := range map[string]string{"./a/b.txt": "a/b.txt", "/builds/acme/app/ci/x.xml": "ci/x.xml", "/etc/pip.conf": "", "~/.npmrc": "", "../x": "", "${X}/a": ""} {
		got, ok := in.repoPath(p)
		if (want == "") == ok || got != want {
			t.Errorf("repoPath(%q) = %q, %v", p, got, ok)
		}
	}
}
