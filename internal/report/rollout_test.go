package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/rollout"
	"github.com/tokenscope/tokenscope/internal/use"
)

func rolloutFixture() *rollout.Status {
	u := use.Use{Origin: use.CIConfig, Access: access.PackagesRead, Caller: "apps/web", Callee: "libs/lib",
		Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 4}, Job: "build", Detail: "curl a|b <x>\x1b[31m"}}
	refused := rollout.Caller{Caller: "apps/web", Outcome: rollout.Refused, Status: rollout.Unapproved,
		Checks: []rollout.Check{{Use: u, Request: rollout.API, Decision: rollout.Decision{Outcome: rollout.Refused, Reason: rollout.NotAllowlisted}}}}
	p := rollout.Project{Path: "libs/lib", Visibility: "private", Enforce: true, Callers: []rollout.Caller{refused},
		AuthLog: []rollout.Origin{{Caller: "apps/old", LastSeen: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}}}
	empty := rollout.Project{Path: "libs/empty", Visibility: "private", Enforced: true, Enforce: true}
	return &rollout.Status{TrustFile: "trust.yaml", Waves: []rollout.Wave{
		{Name: "libs", Line: 3, Projects: []rollout.Project{p}, Verdict: rollout.Blocked,
			Blocked: []rollout.Block{{Callee: "libs/lib", Caller: "apps/web", Status: rollout.Unapproved}}},
		{Name: rollout.OrgWide, OrgWide: true, Projects: []rollout.Project{empty}, Enforced: 1, Verdict: rollout.Safe},
	}}
}

func TestRolloutJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := Rollout(&buf, rolloutFixture(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != float64(RolloutFormatVersion) || doc["breaks"] != true || doc["instance_enforced"] != nil {
		t.Errorf("head: %v", doc)
	}
	out := buf.String()
	for _, want := range []string{`"auth_log": [],`, `"callers": []`, `"blocked": [],`, `"in_window": false`,
		`"action": "review; do not widen the allowlist"`, `"reason": "not-allowlisted"`, `"request": "api"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestRolloutHumanFormats(t *testing.T) {
	var tbl, mdOut bytes.Buffer
	if err := Rollout(&tbl, rolloutFixture(), FormatTable); err != nil {
		t.Fatal(err)
	}
	if err := Rollout(&mdOut, rolloutFixture(), FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tbl.String(), "\x1b") || strings.Contains(mdOut.String(), "\x1b") {
		t.Error("a control character from repository text reached the output")
	}
	for _, want := range []string{"wave libs (trust.yaml:3): blocked by 1 caller\n", "    refused apps/web: unapproved: review; do not widen the allowlist\n",
		"wave org-wide (the instance setting \"Enable and enforce job token allowlist for all projects\", now unknown): enforced, nothing refused\n"} {
		if !strings.Contains(tbl.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tbl.String())
		}
	}
	if !strings.Contains(mdOut.String(), `curl a\|b &lt;x&gt;`) {
		t.Errorf("markdown cell not escaped:\n%s", mdOut.String())
	}
	if err := Rollout(&tbl, rolloutFixture(), "csv"); err == nil {
		t.Error("csv: want an error")
	}
}
