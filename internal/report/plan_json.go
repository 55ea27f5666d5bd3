package report

import (
	"cmp"
	"time"

	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// planDocument returns the wire form of a worded plan (docs/design.md §6b); the wire types
// are planfile's, which reads the document back.
func planDocument(p *plan.Plan) any {
	doc := planfile.Document{Version: PlanFormatVersion, Projects: []planfile.Project{}, Warnings: warningTexts(p.Warnings),
		Trusted: p.Trusted, TrustFile: p.TrustFile, Unreviewed: p.Unreviewed, Pruned: p.Pruned, StateDigest: p.StateDigest,
		Waves: []planfile.Wave{}, Unresolved: []planfile.Unresolved{}}
	if p.Capabilities.Known {
		doc.GitLabVersion = p.Capabilities.Version.String()
	}
	for _, w := range p.Waves {
		doc.Waves = append(doc.Waves, wireWave(w))
	}
	for _, u := range p.Unresolved {
		doc.Unresolved = append(doc.Unresolved, planfile.Unresolved{Project: u.Project, Caller: u.Caller, File: u.File, Line: u.Line,
			Job: u.Job, Reference: u.Reference, Reason: u.Reason, Variants: u.Variants.List()})
	}
	for _, pr := range p.Projects {
		doc.Projects = append(doc.Projects, wireProject(pr, p.Capabilities))
	}
	return doc
}

func wireProject(pr plan.Project, caps capability.Capabilities) planfile.Project {
	wp := planfile.Project{Project: pr.Path, Enforce: pr.Enforce, ID: pr.ID, Wave: pr.Wave, Enforced: pr.Enforced,
		State: cmp.Or(pr.State, plan.StateKnown),
		Add:   entries(pr.Add), Update: entries(pr.Update), Keep: entries(pr.Keep),
		Stale: entries(pr.Stale), Unapproved: entries(pr.Unapproved), Remove: []planfile.Removal{},
		NeedsReview: reviews(pr.NeedsReview), Denied: reviews(pr.Denied), Never: reviews(pr.Never), Advice: []planfile.Advice{},
		Calls: wireCalls(pr.Calls(caps))}
	if o := pr.Open; o != nil {
		wp.Open = &planfile.Open{Reason: o.Reason, Owner: o.Owner, Line: o.Line}
		if !o.Expires.IsZero() {
			wp.Open.Expires = o.Expires.Format(time.DateOnly)
		}
	}
	if len(pr.ViaGroup) > 0 {
		wp.ViaGroup = entries(pr.ViaGroup)
	}
	for _, e := range pr.Remove {
		wp.Remove = append(wp.Remove, planfile.Removal{Type: e.Type, Path: e.Path, Reason: e.Reason, ID: e.ID,
			CurrentPolicies: current(e.CurrentPolicies), Autopopulated: e.Autopopulated})
	}
	for _, a := range pr.Advice {
		wp.Advice = append(wp.Advice, planfile.Advice{Caller: a.Caller, Access: kindList(a.Access), Advice: a.Text})
	}
	return wp
}

func wireCalls(cs []plan.Call) []planfile.Call {
	out := []planfile.Call{}
	for _, c := range cs {
		wc := planfile.Call{Kind: c.Kind, Method: c.Method, Path: c.Path, Mutation: c.Mutation, Params: map[string]any{},
			ByPath: c.ByPath, Done: append([]string{}, c.Done...), Unsupported: c.Unsupported}
		for _, p := range c.Params {
			wc.Params[p.Name] = p.Value
		}
		if t := c.Target; t != nil {
			wc.Target = &planfile.Target{Type: t.Type, Path: t.Path, ID: t.ID}
		}
		if c.Kind == plan.CallUpdatePolicies {
			wc.Policies = current(c.Policies)
		}
		out = append(out, wc)
	}
	return out
}

func wireWave(w trust.Wave) planfile.Wave {
	return planfile.Wave{Name: w.Name, Projects: w.Projects, Groups: w.Groups, All: w.All}
}

func entries(es []plan.Entry) []planfile.Entry {
	out := []planfile.Entry{}
	for _, e := range es {
		we := planfile.Entry{Type: e.Type, Path: e.Path, Access: kindList(e.Access), Policies: e.Policies, Reason: entryReason(e),
			ID: e.ID, Role: e.Role, CoveredBy: e.CoveredBy, Autopopulated: e.Autopopulated, Stale: e.Stale}
		if e.OnAllowlist {
			we.CurrentPolicies = current(e.CurrentPolicies)
		}
		if w := e.Widening; w != nil {
			we.Widening = &planfile.Widening{Members: w.Members, Extra: append([]string{}, w.Extra...), Replaces: w.Replaces, Proposed: w.Proposed}
		}
		out = append(out, we)
	}
	return out
}

func current(p []string) planfile.OptionalPolicies { return planfile.Policies(p) }

func reviews(rs []plan.Review) []planfile.Review {
	out := []planfile.Review{}
	for _, r := range rs {
		out = append(out, planfile.Review{Caller: r.Caller, Access: kindList(r.Access), Uses: useList(r.Uses), Reason: r.Reason, OnAllowlist: r.OnAllowlist})
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
