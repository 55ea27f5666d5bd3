package inventory

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"wrong version", "version: 2\n", "version 2 is not supported"},
		{"unknown field names its line", "version: 1\nprojects:\n  - path: a/b\n    visibilty: private\n", "line 4: field visibilty not found"},
		{"not yaml", "version: [1\n", "inventory.yaml"},
		{"server url", "version: 1\nserver_url: \"https://x$(touch y)\"\n", "server_url"},
	} {
		_, _, err := Parse("inventory.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestMarshalIsCanonical(t *testing.T) {
	in := "version: 1\nprojects:\n  - path: z/z\n  - path: a/a\n    job_token_scope:\n      inbound_enabled: true\n      allowlist:\n        projects:\n          - {path: y/y, policies: [read_jobs, read_packages]}\n          - {path: b/b}\n"
	inv, _, err := Parse("x", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := inv.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Index(s, "a/a") > strings.Index(s, "z/z") || strings.Index(s, "b/b") > strings.Index(s, "y/y") {
		t.Errorf("not sorted:\n%s", s)
	}
	again, _, err := Parse("x", out)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := again.Marshal()
	if string(out2) != s {
		t.Errorf("not stable:\n%s\n---\n%s", s, out2)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadFindsProjectFolders(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"inventory.yaml":                 "version: 1\nserver_url: https://git.example.org\nprojects:\n  - {path: libs/only-in-inventory, id: 7}\n  - {path: apps/web, id: 301}\n",
		"apps/web/.gitlab-ci.yml":        "a: 1\n",
		"apps/web/nested/.gitlab-ci.yml": "inside a project: not a project\n",
		"apps/api/.git/HEAD":             "ref: refs/heads/main\n",
		"platform/x/README.md":           "no ci, no git: not a project\n",
		".hidden/p/.gitlab-ci.yml":       "skipped\n",
		"_jobs/p/.gitlab-ci.yml":         "skipped\n",
	})
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var got []string
	for _, p := range snap.Inventory.Projects {
		got = append(got, p.Path)
	}
	if strings.Join(got, " ") != "apps/api apps/web libs/only-in-inventory" {
		t.Errorf("projects = %v", got)
	}
	if !snap.HasFiles("apps/web") || !snap.HasFiles("APPS/API") || snap.HasFiles("libs/only-in-inventory") {
		t.Error("HasFiles wrong")
	}
	if snap.Index.Project("apps/web").ID != 301 {
		t.Error("inventory data lost for a project with a folder")
	}
	if _, err := snap.ReadFile("libs/only-in-inventory", ".gitlab-ci.yml"); !errors.Is(err, ErrNoProject) {
		t.Errorf("ReadFile on a project without files: %v", err)
	}
	if _, err := snap.ReadFile("apps/web", "missing.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile missing: %v", err)
	}
	if _, err := snap.ReadFile("apps/web", "../api/.git/HEAD"); err == nil {
		t.Error("ReadFile escaped the project folder")
	}
}

func TestLoadRefusesSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.txt": "s3cret"})
	writeFiles(t, dir, map[string]string{"apps/web/.gitlab-ci.yml": "a: 1\n"})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "apps/web/link.txt")); err != nil {
		t.Skip(err)
	}
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if data, err := snap.ReadFile("apps/web", "link.txt"); err == nil {
		t.Errorf("read through a symlink out of the snapshot: %q", data)
	}
}

func TestReadFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"p/q/.gitlab-ci.yml": "a: 1\n"})
	f, err := os.Create(filepath.Join(dir, "p/q/huge.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := snap.ReadFile("p/q", "huge.yml"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v; want ErrTooLarge", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "nope"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: %v", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"inventory.yaml": "version: 1\nprojects: {}\n"})
	if _, _, err := Load(dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "inventory.yaml") {
		t.Errorf("bad inventory: %v", err)
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"g/p/.gitlab-ci.yml":         "a: 1\n",
		"g/p/configs/a.yml":          "",
		"g/p/configs/b.yaml":         "",
		"g/p/configs/sub/c.yml":      "",
		"g/p/configs/sub/deep/d.yml": "",
	})
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	for pattern, want := range map[string]string{
		"configs/*.yml":    "configs/a.yml",
		"configs/**.yml":   "configs/a.yml configs/sub/c.yml configs/sub/deep/d.yml",
		"configs/**/*.yml": "configs/sub/c.yml configs/sub/deep/d.yml",
		"/configs/*.yaml":  "configs/b.yaml",
	} {
		got, err := snap.Glob("g/p", pattern)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("Glob(%q) = %v, %v; want %s", pattern, got, err, want)
		}
	}
}

func TestPredefined(t *testing.T) {
	srv, err := (&Inventory{ServerURL: "https://git.example.org:8443/", Registry: "registry.example.org"}).Server()
	if err != nil {
		t.Fatal(err)
	}
	v := Predefined(srv, &Project{Path: "Grp/Sub/Proj", ID: 42})
	for k, want := range map[string]string{
		"CI_SERVER_URL":        "https://git.example.org:8443",
		"CI_SERVER_HOST":       "git.example.org",
		"CI_SERVER_PORT":       "8443",
		"CI_SERVER_FQDN":       "git.example.org:8443",
		"CI_API_V4_URL":        "https://git.example.org:8443/api/v4",
		"CI_PROJECT_NAMESPACE": "Grp/Sub",
		"CI_PROJECT_NAME":      "Proj",
		"CI_PROJECT_ID":        "42",
		"CI_PROJECT_DIR":       "/builds/Grp/Sub/Proj",
		"CI_REGISTRY_IMAGE":    "registry.example.org/grp/sub/proj",
		"CI_REPOSITORY_URL":    "https://gitlab-ci-token:" + JobToken + "@git.example.org:8443/Grp/Sub/Proj.git",
		"CI_REGISTRY_PASSWORD": JobToken,
		"CI_JOB_TOKEN":         JobToken,
	} {
		if v[k] != want {
			t.Errorf("%s = %q; want %q", k, v[k], want)
		}
	}
	if v2 := Predefined(srv, &Project{Path: "a/b"}); v2["CI_PROJECT_ID"] != SelfID {
		t.Errorf("unknown id: %q", v2["CI_PROJECT_ID"])
	}
	if _, err := (&Inventory{ServerURL: "ftp://x"}).Server(); err == nil {
		t.Error("ftp server URL accepted")
	}
}

func TestReadFileUsesListing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"g/p/.gitlab-ci.yml": "a: 1\n", "g/p/ci/x.sh": "echo\n"})
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := snap.ReadFile("g/p", "Dockerfile"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	// A file added after the listing was taken is still not visible: the
	// snapshot is read as it was when the scan started.
	writeFiles(t, dir, map[string]string{"g/p/late.txt": "x"})
	if _, err := snap.ReadFile("g/p", "late.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("late file: %v", err)
	}
	if data, err := snap.ReadFile("g/p", "./ci/x.sh"); err != nil || string(data) != "echo\n" {
		t.Errorf("ci/x.sh = %q, %v", data, err)
	}
	// A symbolic link inside the project (to a folder of the same project)
	// is followed.
	if err := os.Symlink("ci", filepath.Join(dir, "g/p/scripts")); err != nil {
		t.Skip(err)
	}
	snap2, _, _ := Load(dir, LoadOptions{})
	defer snap2.Close()
	if data, err := snap2.ReadFile("g/p", "scripts/x.sh"); err != nil || string(data) != "echo\n" {
		t.Errorf("through symlink: %q, %v", data, err)
	}
}

// A listed project's folder holds its files even without .gitlab-ci.yml
// (custom CI path); an unlisted folder without one is not a project.
func TestLoadListedProjectFolder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"inventory.yaml":             "version: 1\nprojects:\n  - {path: g/custom, ci_config_path: ci/pipeline.yml}\n",
		"g/custom/ci/pipeline.yml":   "a: 1\n",
		"g/unlisted/ci/pipeline.yml": "a: 1\n",
	})
	snap, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if !snap.HasFiles("g/custom") {
		t.Error("listed project folder without .gitlab-ci.yml has no files")
	}
	if snap.HasFiles("g/unlisted") {
		t.Error("unlisted folder without .gitlab-ci.yml taken for a project")
	}
	if data, err := snap.ReadFile("g/custom", "ci/pipeline.yml"); err != nil || string(data) != "a: 1\n" {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
}
