package inventory

import (
	"strings"
	"testing"
)

// FuzzParseInventory: whatever inventory.yaml holds, Parse never panics;
// what it keeps is valid (every path one GitLab allows, IDs positive and
// unique, paths unique ignoring case), every diagnostic names a line of
// the file, and what it keeps writes back (Marshal) to a file that parses
// to the same projects without a diagnostic.
func FuzzParseInventory(f *testing.F) {
	for _, s := range []string{
		"version: 1\nprojects:\n  - {path: a/b, id: 1}\n",
		"version: 1\nserver_url: https://gitlab.example.com\ngroups:\n  - {path: g, id: 3}\nprojects:\n  - path: g/p\n    id: 4\n    job_token_scope:\n      inbound_enabled: true\n      allowlist:\n        projects: [{path: g/q, id: 5, policies: [read_jobs]}]\n        groups: [{path: g, id: 3}]\n    auth_log: [{origin: g/q, last_authorized_at: 2026-01-02T03:04:05Z}]\n",
		"version: 1\nprojects:\n  - {path: \"a/b\\nc\", id: 1}\n  - {path: a/b, id: 1}\n  - {path: A/B, id: 2}\n  - {path: /etc, id: -1}\n",
		"version: 1\ngroups: [{path: ../x}, {path: a, id: 1}, {path: b, id: 1}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, diags, err := Parse("inventory.yaml", data)
		if err != nil {
			return
		}
		// Lines as YAML counts them (as in the trust loader's fuzz target):
		// \r\n, \n, \r, and in yaml.v3 (YAML 1.1) U+0085, U+2028, U+2029;
		// +1: the end of a document is placed on the line after it.
		text := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(string(data))
		lines := strings.Count(text, "\n") + 2
		for _, d := range diags {
			if d.Line < 0 || d.Line > lines || d.File != "inventory.yaml" || strings.Contains(d.String(), "\n") {
				t.Errorf("diagnostic %q: line %d of a %d-line file, or a raw newline", d.String(), d.Line, lines)
			}
		}
		paths, ids := map[string]bool{}, map[int]bool{}
		for _, p := range inv.Projects {
			if err := CheckProjectPath(p.Path); err != nil {
				t.Fatalf("kept a bad project: %v", err)
			}
			if k := strings.ToLower(p.Path); paths[k] {
				t.Fatalf("kept %s twice", p.Path)
			} else {
				paths[k] = true
			}
			if p.ID < 0 || (p.ID != 0 && ids[p.ID]) {
				t.Fatalf("kept id %d twice or negative", p.ID)
			}
			ids[p.ID] = true
			for _, a := range p.AuthLog {
				if CheckProjectPath(a.Origin) != nil {
					t.Fatalf("kept a bad auth log origin %q", a.Origin)
				}
			}
		}
		for _, g := range inv.Groups {
			if err := CheckGroupPath(g.Path); err != nil {
				t.Fatalf("kept a bad group: %v", err)
			}
		}
		out, err := inv.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, diags, err := Parse("again.yaml", out)
		if err != nil || len(diags) != 0 {
			t.Fatalf("what Parse kept does not read back: %v %v\n%s", err, diags, out)
		}
		if len(again.Projects) != len(inv.Projects) || len(again.Groups) != len(inv.Groups) {
			t.Fatalf("read back %d projects, %d groups; kept %d, %d", len(again.Projects), len(again.Groups), len(inv.Projects), len(inv.Groups))
		}
	})
}
