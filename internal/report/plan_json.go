package report

import (
	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// Wire structs of the plan JSON document (DESIGN.md §6b), separate from
// the model so that the contract changes only on purpose. Fields beyond
// §6b are additive: consumers of §6b can ignore them.
//
// Allowed values: type is "project" or "group"; policies is a sorted list
// of lower-case fine-grained policy names, or null for default
// permissions (the reason then says why); access lists access kinds
// (DESIGN.md §3). Lists are never null; projects are sorted by path and
// entries by type and path.
type (
	planDoc struct {
		Version  int           `json:"version"`
		Projects []planProject `json:"projects"`
		Warnings []string      `json:"warnings"`
		// Additive: what the plan was computed from. apply refuses a plan
		// whose state_digest no longer matches the live allowlists.
		Trusted       bool             `json:"trusted"`
		TrustFile     string           `json:"trust_file,omitempty"`
		Pruned        bool             `json:"pruned"`
		GitLabVersion string           `json:"gitlab_version"` // "" when unknown
		StateDigest   string           `json:"state_digest"`
		Waves         []planWave       `json:"waves"`
		Unresolved    []scanUnresolved `json:"unresolved"`
	}
	planProject struct {
		Project     string       `json:"project"`
		Enforce     bool         `json:"enforce"`
		Add         []planEntry  `json:"add"`
		Update      []planEntry  `json:"update"`
		Remove      []planRemove `json:"remove"`
		Keep        []planEntry  `json:"keep"`
		NeedsReview []planReview `json:"needs_review"`
		Stale       []planEntry  `json:"stale"`
		ID          int          `json:"id,omitempty"`
		Wave        string       `json:"wave,omitempty"`
		Enforced    bool         `json:"enforced"` // enforced today (project or instance setting)
		Denied      []planReview `json:"denied"`
		Unapproved  []planEntry  `json:"unapproved"` // on the allowlist, not approved, kept without pruning
		Never       []planReview `json:"never"`      // a job token cannot do this; see advice
		Advice      []planAdvice `json:"advice"`
	}
	planEntry struct {
		Type     plan.EntryType `json:"type"`
		Path     string         `json:"path"`
		Access   []access.Kind  `json:"access"`
		Policies []string       `json:"policies"`
		Reason   string         `json:"reason"`
		ID       int            `json:"id,omitempty"`
		Role     access.Role    `json:"role,omitempty"` // minimum role of the triggering users on the callee
		// CurrentPolicies is set for entries on the allowlist: null is
		// default permissions.
		CurrentPolicies *[]string     `json:"current_policies,omitempty"`
		CoveredBy       string        `json:"covered_by,omitempty"`
		Autopopulated   bool          `json:"autopopulated,omitempty"`
		Stale           bool          `json:"stale,omitempty"`
		Widening        *planWidening `json:"widening,omitempty"`
	}
	planRemove struct {
		Type            plan.EntryType `json:"type"`
		Path            string         `json:"path"`
		Reason          string         `json:"reason"`
		ID              int            `json:"id,omitempty"`
		CurrentPolicies *[]string      `json:"current_policies,omitempty"`
		Autopopulated   bool           `json:"autopopulated,omitempty"`
	}
	planWidening struct {
		Members  int      `json:"members"`
		Extra    []string `json:"extra"`
		Replaces []string `json:"replaces,omitempty"`
		Proposed bool     `json:"proposed"`
	}
	planReview struct {
		Caller      string        `json:"caller"`
		Access      []access.Kind `json:"access"`
		Uses        []scanUse     `json:"uses"`
		Reason      string        `json:"reason"`
		OnAllowlist bool          `json:"on_allowlist"`
	}
	planAdvice struct {
		Caller string        `json:"caller"`
		Access []access.Kind `json:"access"`
		Advice string        `json:"advice"`
	}
	planWave struct {
		Name     string   `json:"name"`
		Projects []string `json:"projects,omitempty"`
		Groups   []string `json:"groups,omitempty"`
		All      bool     `json:"all,omitempty"`
	}
)

// planDocument returns the wire form of a worded plan (DESIGN.md §6b).
func planDocument(p *plan.Plan) any {
	doc := planDoc{Version: PlanFormatVersion, Projects: []planProject{}, Warnings: warningTexts(p.Warnings),
		Trusted: p.Trusted, TrustFile: p.TrustFile, Pruned: p.Pruned, StateDigest: p.StateDigest,
		Waves: []planWave{}, Unresolved: []scanUnresolved{}}
	if p.Capabilities.Known {
		doc.GitLabVersion = p.Capabilities.Version.String()
	}
	for _, w := range p.Waves {
		doc.Waves = append(doc.Waves, wireWave(w))
	}
	for _, u := range p.Unresolved {
		doc.Unresolved = append(doc.Unresolved, scanUnresolved{Project: u.Project, File: u.File, Line: u.Line,
			Job: u.Job, Reference: u.Reference, Reason: u.Reason})
	}
	for _, pr := range p.Projects {
		wp := planProject{Project: pr.Path, Enforce: pr.Enforce, ID: pr.ID, Wave: pr.Wave, Enforced: pr.Enforced,
			Add: entries(pr.Add), Update: entries(pr.Update), Keep: entries(pr.Keep),
			Stale: entries(pr.Stale), Unapproved: entries(pr.Unapproved), Remove: []planRemove{},
			NeedsReview: reviews(pr.NeedsReview), Denied: reviews(pr.Denied), Never: reviews(pr.Never), Advice: []planAdvice{}}
		for _, e := range pr.Remove {
			wp.Remove = append(wp.Remove, planRemove{Type: e.Type, Path: e.Path, Reason: e.Reason, ID: e.ID,
				CurrentPolicies: current(e.CurrentPolicies), Autopopulated: e.Autopopulated})
		}
		for _, a := range pr.Advice {
			wp.Advice = append(wp.Advice, planAdvice{Caller: a.Caller, Access: kindList(a.Access), Advice: a.Text})
		}
		doc.Projects = append(doc.Projects, wp)
	}
	return doc
}

func wireWave(w trust.Wave) planWave {
	return planWave{Name: w.Name, Projects: w.Projects, Groups: w.Groups, All: w.All}
}

func entries(es []plan.Entry) []planEntry {
	out := []planEntry{}
	for _, e := range es {
		we := planEntry{Type: e.Type, Path: e.Path, Access: kindList(e.Access), Policies: e.Policies, Reason: entryReason(e),
			ID: e.ID, Role: e.Role, CoveredBy: e.CoveredBy, Autopopulated: e.Autopopulated, Stale: e.Stale}
		if e.OnAllowlist {
			we.CurrentPolicies = current(e.CurrentPolicies)
		}
		if w := e.Widening; w != nil {
			we.Widening = &planWidening{Members: w.Members, Extra: append([]string{}, w.Extra...), Replaces: w.Replaces, Proposed: w.Proposed}
		}
		out = append(out, we)
	}
	return out
}

func current(p []string) *[]string { return &p }

func reviews(rs []plan.Review) []planReview {
	out := []planReview{}
	for _, r := range rs {
		out = append(out, planReview{Caller: r.Caller, Access: kindList(r.Access), Uses: useList(r.Uses), Reason: r.Reason, OnAllowlist: r.OnAllowlist})
	}
	return out
}

func warningTexts(ws []plan.Warning) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Text)
	}
	return out
}
