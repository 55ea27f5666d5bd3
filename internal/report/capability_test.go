package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/capability"
)

func TestCapabilities(t *testing.T) {
	var buf bytes.Buffer
	if err := Capabilities(&buf, capability.MustVersion("17.8"), ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Legacy (permissive) behaviour",
		"GitLab 17.8",
		"+ Groups on the allowlist",
		"- Fine-grained job token permissions (policies per allowlist entry) (from 17.10)",
		"- Autopopulate the allowlist from the authentication log (from 17.10)",
		"Settings > CI/CD > Job token permissions > Authorized groups and projects",
		"every entry has default permissions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain 17.8 lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := Capabilities(&buf, capability.MustVersion("18.5"), ""); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "Outbound scope \"Limit access from this project\" (legacy) (removed in 18.0)") ||
		!strings.Contains(out, "ciJobTokenScopeUpdatePolicies") {
		t.Errorf("explain 18.5:\n%s", out)
	}
}
