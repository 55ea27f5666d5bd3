package inventory

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

// Write replaces only what it wrote: its own snapshot (any number of
// times), a missing path or an empty folder. Anything else — a folder
// without the marker (even one holding inventory.yaml), a file, a symbolic
// link to a folder — is refused untouched, with an error naming it.
func TestWriteReplacesOnlyItsOwnSnapshots(t *testing.T) {
	ctx := context.Background()
	inv := &Inventory{Version: Version, Projects: []*Project{{Path: "g/p"}}}
	files := map[string]map[string][]byte{"g/p": {".gitlab-ci.yml": []byte("x: 1\n")}}
	base := t.TempDir()

	dir := filepath.Join(base, "snap")
	for i := range 2 {
		if err := Write(ctx, dir, inv, files); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	marker, err := os.ReadFile(filepath.Join(dir, MarkerName))
	if err != nil || string(marker) != "tokenscope snapshot format 1\n" {
		t.Errorf("marker = %q, %v", marker, err)
	}
	// The marker is no project and changes nothing Load reports.
	snap, diags, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 0 || len(snap.Inventory.Projects) != 1 || snap.HasFiles(MarkerName) {
		t.Errorf("diags %v, projects %v", diags, snap.Inventory.Projects)
	}
	snap.Close()

	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	if err := Write(ctx, empty, inv, files); err != nil {
		t.Errorf("empty folder: %v", err)
	}

	noMarker := filepath.Join(base, "repo")
	os.Mkdir(noMarker, 0o755)
	os.WriteFile(filepath.Join(noMarker, FileName), []byte("version: 1\n"), 0o644)
	plain := filepath.Join(base, "notes")
	os.Mkdir(plain, 0o755)
	os.WriteFile(filepath.Join(plain, "keep.txt"), []byte("precious"), 0o644)
	file := filepath.Join(base, "file.txt")
	os.WriteFile(file, []byte("precious"), 0o644)
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, why string }{
		{noMarker, "holds inventory.yaml but no .tokenscope-snapshot"},
		{plain, "holds no .tokenscope-snapshot"},
		{file, "not a folder"},
		{link, "symbolic link"},
	} {
		err := Write(ctx, c.path, inv, files)
		var ns *NotSnapshotError
		if !errors.As(err, &ns) || ns.Dir != c.path || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: err = %v; want a NotSnapshotError naming it, saying %q", c.path, err, c.why)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(plain, "keep.txt")); string(data) != "precious" {
		t.Error("a folder without the marker was touched")
	}
	if data, _ := os.ReadFile(file); string(data) != "precious" {
		t.Error("a file was replaced")
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the symbolic link was replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerName)); err != nil {
		t.Error("the snapshot behind the link was touched")
	}
	if entries, _ := os.ReadDir(base); len(entries) != 6 {
		t.Errorf("left beside the targets: %v", entries)
	}
}

// What snapshot writes, scan reads: an org listing past MaxFileSize (a
// project file's limit) is written and loaded back, as a 100k-project
// org's 13.6 MB inventory.yaml once was written and then refused.
func TestWriteLargeInventoryLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 9 MB inventory")
	}
	inv := &Inventory{Version: Version}
	for i := range 60000 {
		inv.Projects = append(inv.Projects, &Project{
			Path: "platform/team-" + strings.Repeat("x", 40) + "/service-" + strconv.Itoa(i), ID: i + 1, Visibility: "private", DefaultBranch: "main",
			JobTokenScope: &JobTokenScope{InboundEnabled: true},
		})
	}
	data, err := inv.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= MaxFileSize {
		t.Fatalf("inventory is %d bytes, not past MaxFileSize: the test proves nothing", len(data))
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := Write(context.Background(), dir, inv, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatalf("scan refuses what snapshot wrote: %v", err)
	}
	if len(got.Inventory.Projects) != len(inv.Projects) {
		t.Errorf("read %d projects, wrote %d", len(got.Inventory.Projects), len(inv.Projects))
	}
}
