package inventory

import (
	"context"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// What Write writes, Load reads back unchanged: the inventory and every
// project's files.
func TestWriteLoadRoundTrip(t *testing.T) {
	enforced := true
	inv := &Inventory{
		Version: Version, ServerURL: "https://gitlab.example.com", Registry: "registry.example.com", GitLabVersion: "18.5",
		InstanceEnforcesAllowlist: &enforced,
		Groups:                    []Group{{Path: "g", ID: 1}, {Path: "g/sub", ID: 2}},
		// In the canonical order (by path) Marshal writes.
		Projects: []*Project{
			{Path: "g/old", ID: 13, Archived: true},
			{Path: "g/sub/custom", ID: 12, CIConfigPath: "ci/pipeline.yml"},
			{Path: "g/web", ID: 10, Visibility: "private", DefaultBranch: "main",
				JobTokenScope: &JobTokenScope{InboundEnabled: true, Allowlist: Allowlist{
					Projects: []Entry{{Path: "g/api", ID: 11, Policies: []string{"READ_PACKAGES"}}},
					Groups:   []Entry{{Path: "g/sub", ID: 2}},
				}},
				AuthLog: []AuthLogEntry{{Origin: "g/api", LastAuthorizedAt: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)}}},
		},
	}
	files := map[string]map[string][]byte{
		"g/web":        {".gitlab-ci.yml": []byte("build:\n  script: [make]\n"), "docker/Dockerfile": []byte("FROM alpine\n"), ".npmrc": []byte("//h/:_authToken=${CI_JOB_TOKEN}\n")},
		"g/sub/custom": {"ci/pipeline.yml": []byte("x: 1\n"), "empty.txt": {}},
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := Write(context.Background(), dir, inv, files); err != nil {
		t.Fatal(err)
	}
	snap, diags, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if len(diags) != 0 {
		t.Errorf("diagnostics: %v", diags)
	}
	if !reflect.DeepEqual(snap.Inventory, inv) {
		a, _ := inv.Marshal()
		b, _ := snap.Inventory.Marshal()
		t.Errorf("inventory read back differs:\nwrote\n%s\nread\n%s", a, b)
	}
	got := map[string]map[string][]byte{}
	for p := range files {
		if !snap.HasFiles(p) {
			t.Errorf("%s: no project folder", p)
		}
		err := fs.WalkDir(snap.root.FS(), p, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel := strings.TrimPrefix(name, p+"/")
			data, err := snap.ReadFile(p, rel)
			if got[p] == nil {
				got[p] = map[string][]byte{}
			}
			got[p][rel] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, files) {
		t.Errorf("files read back = %q; wrote %q", got, files)
	}
}
