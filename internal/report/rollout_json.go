package report

import (
	"time"

	"github.com/tokenscope/tokenscope/internal/rollout"
)

// Wire types of the rollout status JSON document (docs/design.md §8c),
// separate from the model so that the contract changes only on purpose.
// Lists are never null; waves are in rollout order, the org-wide wave
// last; projects, callers and auth-log origins are sorted by path.
type (
	rolloutDoc struct {
		Version   int    `json:"version"`
		Planned   bool   `json:"planned"`
		PlanFile  string `json:"plan_file,omitempty"`
		TrustFile string `json:"trust_file,omitempty"`
		// Since is the auth-log window's start (RFC 3339), "" for none.
		Since            string        `json:"since"`
		GitLabVersion    string        `json:"gitlab_version"`
		PoliciesHonoured bool          `json:"policies_checked"`
		InstanceEnforced *bool         `json:"instance_enforced"`
		Breaks           bool          `json:"breaks"`
		Waves            []rolloutWave `json:"waves"`
	}
	rolloutWave struct {
		Name     string           `json:"name"`
		OrgWide  bool             `json:"org_wide"`
		Line     int              `json:"line,omitempty"`
		Verdict  rollout.Verdict  `json:"verdict"`
		Enforced int              `json:"enforced"`
		Total    int              `json:"projects_total"`
		Blocked  []rolloutBlock   `json:"blocked"`
		Projects []rolloutProject `json:"projects"`
	}
	rolloutBlock struct {
		Callee string               `json:"callee"`
		Caller string               `json:"caller"`
		Status rollout.CallerStatus `json:"status"`
		Action string               `json:"action"`
	}
	rolloutProject struct {
		Project        string          `json:"project"`
		Visibility     string          `json:"visibility"`
		State          string          `json:"state"`
		Enforced       bool            `json:"enforced"`
		Enforce        bool            `json:"enforce"`
		Open           *rolloutOpen    `json:"open,omitempty"`
		Entries        int             `json:"entries"`
		PlannedEntries int             `json:"planned_entries"`
		Approved       int             `json:"approved"`
		AuthLog        []rolloutOrigin `json:"auth_log"`
		Callers        []rolloutCaller `json:"callers"`
	}
	rolloutOrigin struct {
		Origin   string `json:"origin"`
		LastSeen string `json:"last_seen"`
		InWindow bool   `json:"in_window"`
	}
	rolloutCaller struct {
		Caller  string               `json:"caller"`
		Outcome rollout.Outcome      `json:"outcome"`
		Status  rollout.CallerStatus `json:"status,omitempty"`
		Action  string               `json:"action,omitempty"`
		Line    int                  `json:"line,omitempty"`
		Uses    []rolloutUse         `json:"uses"`
	}
	rolloutUse struct {
		Origin  string          `json:"origin"`
		Access  string          `json:"access"`
		Project string          `json:"project"`
		File    string          `json:"file"`
		Line    int             `json:"line"`
		Job     string          `json:"job"`
		Detail  string          `json:"detail"`
		Request rollout.Request `json:"request"`
		Outcome rollout.Outcome `json:"outcome"`
		Reason  rollout.Reason  `json:"reason"`
		Entry   string          `json:"entry,omitempty"`
		Policy  string          `json:"policy,omitempty"`
	}
	// rolloutOpen is a lock-down exception, as in the plan document.
	rolloutOpen struct {
		Reason  string `json:"reason"`
		Owner   string `json:"owner"`
		Expires string `json:"expires,omitempty"`
		Line    int    `json:"line"`
	}
)

func rolloutDocument(s *rollout.Status) rolloutDoc {
	d := rolloutDoc{Version: RolloutFormatVersion, Planned: s.Planned, PlanFile: s.PlanFile, TrustFile: s.TrustFile,
		Since: sinceText(s), PoliciesHonoured: s.PoliciesHonoured, InstanceEnforced: s.Instance, Breaks: s.Breaks(), Waves: []rolloutWave{}}
	if s.Capabilities.Known {
		d.GitLabVersion = s.Capabilities.Version.String()
	}
	for _, w := range s.Waves {
		jw := rolloutWave{Name: w.Name, OrgWide: w.OrgWide, Line: w.Line, Verdict: w.Verdict, Enforced: w.Enforced, Total: len(w.Projects),
			Blocked: []rolloutBlock{}, Projects: []rolloutProject{}}
		for _, b := range w.Blocked {
			jw.Blocked = append(jw.Blocked, rolloutBlock{Callee: b.Callee, Caller: b.Caller, Status: b.Status, Action: rolloutAction(b.Status)})
		}
		for _, p := range w.Projects {
			jw.Projects = append(jw.Projects, rolloutProjectDoc(p))
		}
		d.Waves = append(d.Waves, jw)
	}
	return d
}

func rolloutProjectDoc(p rollout.Project) rolloutProject {
	jp := rolloutProject{Project: p.Path, Visibility: p.Visibility, State: "known", Enforced: p.Enforced, Enforce: p.Enforce,
		Entries: p.Entries, PlannedEntries: p.PlannedEntries, Approved: p.Approved, AuthLog: []rolloutOrigin{}, Callers: []rolloutCaller{}}
	if p.Unknown {
		jp.State = "unknown"
	}
	if o := p.Open; o != nil {
		jp.Open = &rolloutOpen{Reason: o.Reason, Owner: o.Owner, Line: o.Line}
		if !o.Expires.IsZero() {
			jp.Open.Expires = o.Expires.Format(time.DateOnly)
		}
	}
	for _, o := range p.AuthLog {
		jp.AuthLog = append(jp.AuthLog, rolloutOrigin{Origin: o.Caller, LastSeen: o.LastSeen.UTC().Format(time.RFC3339), InWindow: o.InWindow})
	}
	for _, c := range p.Callers {
		jc := rolloutCaller{Caller: c.Caller, Outcome: c.Outcome, Status: c.Status, Action: rolloutAction(c.Status), Line: c.Line, Uses: []rolloutUse{}}
		for _, ch := range c.Checks {
			u := ch.Use
			jc.Uses = append(jc.Uses, rolloutUse{Origin: string(u.Origin), Access: string(u.Access), Project: evidenceProject(u),
				File: u.Evidence.File, Line: u.Evidence.Line, Job: u.Evidence.Job, Detail: u.Evidence.Detail,
				Request: ch.Request, Outcome: ch.Decision.Outcome, Reason: ch.Decision.Reason, Entry: ch.Decision.Entry, Policy: ch.Decision.Policy})
		}
		jp.Callers = append(jp.Callers, jc)
	}
	return jp
}
