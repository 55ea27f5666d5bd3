package arch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const internal = "github.com/tokenscope/tokenscope/internal/"

// rules reads the fenced ```imports block of docs/architecture.md: one line
// per package, "pkg: allowed allowed…", paths relative to internal/; "*"
// allows every package; "#" starts a comment.
func rules(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```imports":
			in = true
		case in && line == "```":
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			pkg, allowed, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("docs/architecture.md:%d: want \"pkg: allowed…\", got %q", n, line)
			}
			pkg = strings.TrimSpace(pkg)
			if _, dup := out[pkg]; dup {
				t.Fatalf("docs/architecture.md:%d: %s listed twice", n, pkg)
			}
			out[pkg] = strings.Fields(allowed)
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/architecture.md has no ```imports block")
	}
	return out
}

// TestImportsFollowTheFlow fails when a package imports a package of this
// module that its rule does not allow, or when a package has no rule at all
// (a new package says where it sits before it lands).
func TestImportsFollowTheFlow(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	allowed := rules(t)
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./internal/...")
	cmd.Dir = filepath.Join("..", "..")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	seen := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkg := strings.TrimPrefix(p.ImportPath, internal)
		seen[pkg] = true
		rule, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s has no rule in docs/architecture.md", pkg)
			continue
		}
		if slices.Contains(rule, "*") {
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, internal)
			if ours && !slices.Contains(rule, dep) {
				t.Errorf("%s imports %s against the flow (docs/architecture.md allows: %s)", pkg, dep, strings.Join(rule, " "))
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("docs/architecture.md has a rule for %s, which does not exist", pkg)
		}
	}
}
