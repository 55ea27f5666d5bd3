package trust

import (
	"testing"
	"time"
)

func TestAcknowledged(t *testing.T) {
	file := "version: 1\nacknowledged:\n" +
		"  - {kind: review, project: LIBS/jslib, entry: apps/web, reason: migrating in Q1, owner: \"@web\", expires: 2027-01-31}\n" +
		"  - {kind: not-enforced, project: apps/api, reason: legacy, owner: \"@api\", expires: 2026-01-01}\n" +
		"  - {kind: unapproved, project: libs/jslib, entry: apps, reason: group entry kept, owner: \"@libs\"}\n"
	f, diags := Load("trust.yaml", []byte(file), LoadOptions{Index: testIndex(), Now: now})
	if len(diags) != 1 || !hasDiag(diags, "4: warning: acknowledged not-enforced apps/api: approval expired on 2026-01-01") {
		t.Fatalf("diagnostics:\n%s", diagText(diags))
	}
	a, ok := f.Acknowledged("review", "libs/jslib", "Apps/Web")
	if !ok || a.Project != "libs/jslib" || a.Entry != "apps/web" || a.Reason != "migrating in Q1" || a.Owner != "@web" ||
		a.Expires.Format(time.DateOnly) != "2027-01-31" || a.Expired || a.Line != 3 {
		t.Errorf("review ack = %+v, %v", a, ok)
	}
	if a, ok := f.Acknowledged("not-enforced", "apps/api", ""); !ok || !a.Expired {
		t.Errorf("not-enforced ack = %+v, %v; want expired", a, ok)
	}
	if a, ok := f.Acknowledged("unapproved", "libs/jslib", "apps"); !ok || a.Line != 5 {
		t.Errorf("group entry ack = %+v, %v", a, ok)
	}
	for _, q := range [][3]string{{"stale", "libs/jslib", "apps/web"}, {"review", "libs/jslib", "apps/api"}, {"review", "apps/web", "apps/web"}} {
		if _, ok := f.Acknowledged(q[0], q[1], q[2]); ok {
			t.Errorf("Acknowledged(%q) matched", q)
		}
	}
	var none *File
	if _, ok := none.Acknowledged("review", "a", "b"); ok {
		t.Error("a nil file acknowledges nothing")
	}
}

func TestAcknowledgedMistakes(t *testing.T) {
	file := "version: 1\nacknowledged:\n" +
		"  - {kind: reviw, project: libs/jslib, entry: apps/web, reason: x, owner: a}\n" +
		"  - {kind: review, project: libs/nope, entry: apps/web, reason: x, owner: a}\n" +
		"  - {kind: review, project: libs/jslib, entry: apps/nope, reason: x, owner: a}\n" +
		"  - {kind: review, project: libs/jslib, entry: apps/web, reason: x}\n" +
		"  - {kind: review, project: libs/jslib, entry: apps/web, owner: a}\n" +
		"  - {kind: review, project: libs/jslib, entry: apps/web, reason: y, owner: b}\n" +
		"  - {kind: stale, project: libs/jslib, entry: apps/web, reason: x, owner: a, why: z}\n" +
		"  - {project: libs/jslib, reason: x, owner: a}\n"
	_, diags := Load("trust.yaml", []byte(file), LoadOptions{Index: testIndex(), Now: now})
	for _, w := range []string{
		`3: error: acknowledgement: unknown finding kind "reviw" (valid: denied, expired,`,
		"4: error: project: unknown project libs/nope",
		"5: error: entry: unknown project apps/nope",
		"6: error: acknowledgement: owner is required",
		"7: error: acknowledged review libs/jslib apps/web: reason is required",
		"8: error: duplicate acknowledgement of review libs/jslib apps/web (first at line 7)",
		`9: error: unknown field "why" in an acknowledgement (valid: kind, project, entry, reason, owner, expires)`,
		"10: error: acknowledgement: kind is required",
	} {
		if !hasDiag(diags, w) {
			t.Errorf("missing %q in:\n%s", w, diagText(diags))
		}
	}
}
