package inventoryreport

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// FormatVersion is the version of inventory.json (docs/design.md, "The
// inventory report"). Bump it only when a consumer must change; adding
// fields does not.
const FormatVersion = 1

// Input is what the report is a view of. Plan and Index are required;
// Trust may be nil (no reviewed intent: nothing is approved).
type Input struct {
	Plan  *plan.Plan
	Index *inventory.Index
	Trust *trust.File
	// Now dates the report and decides nothing else ("" when zero).
	Now time.Time
}

// Document is inventory.json: the whole report as data. Every other file
// is rendered from it, so the views cannot disagree.
type Document struct {
	Version       int       `json:"version"`
	GeneratedAt   string    `json:"generated_at,omitempty"`
	ServerURL     string    `json:"server_url,omitempty"`
	GitLabVersion string    `json:"gitlab_version,omitempty"`
	Trusted       bool      `json:"trusted"`
	TrustFile     string    `json:"trust_file,omitempty"`
	Summary       Summary   `json:"summary"`
	Projects      []Project `json:"projects"`
	Edges         []Edge    `json:"edges"`

	// refs are the projects' default branches, for the page's links.
	refs map[string]string
}

// Summary counts the inventory (see docs/design.md for each definition).
type Summary struct {
	Projects int `json:"projects"`
	// Enforced: projects whose allowlist is enforced today (the project's
	// "Limit access to this project" or the instance setting).
	Enforced int `json:"enforced"`
	// Unknown: projects whose job token settings could not be read.
	Unknown int `json:"unknown"`
	Edges   int `json:"edges"`
	// Approved: edges a trust.yaml approval in force covers.
	Approved int `json:"approved"`
	// Pending: discovered edges waiting for review.
	Pending int `json:"pending"`
	// Drift: edges where GitLab differs from the reviewed intent (to add,
	// update, remove, or on the allowlist without approval), plus projects
	// whose allowlist the plan would turn on.
	Drift int `json:"drift"`
}

// Project is one project of the inventory.
type Project struct {
	Path   string `json:"path"`
	ID     int    `json:"id,omitempty"`
	Group  string `json:"group"` // top-level group ("" for a project at the root)
	WebURL string `json:"web_url,omitempty"`
	// State is "known" or "unknown" (settings not readable).
	State string `json:"state"`
	// Enforced is the allowlist enforced today; null when unknown.
	Enforced *bool `json:"enforced"`
	// Enforce: the plan turns the allowlist on.
	Enforce   bool   `json:"enforce,omitempty"`
	Wave      string `json:"wave,omitempty"`
	Allowlist int    `json:"allowlist_entries"`
	// Inbound and Outbound count the project's edges as callee and caller.
	Inbound  int `json:"inbound"`
	Outbound int `json:"outbound"`
}

// Edge is one caller (a project, or a group entry) of one callee.
type Edge struct {
	Caller     string   `json:"caller"`
	CallerType string   `json:"caller_type"` // project | group
	Callee     string   `json:"callee"`
	Access     []string `json:"access"` // empty: unknown (authentication log only)
	// Policies are the fine-grained policies as planned (for removed and
	// unapproved entries: today's); DefaultPermissions when none.
	Policies           []string `json:"policies"`
	DefaultPermissions bool     `json:"default_permissions"`
	// Status is the plan's: add, keep, update, remove, review, stale,
	// denied, never, unapproved.
	Status string `json:"status"`
	// OnAllowlist: the entry exists on GitLab today.
	OnAllowlist bool `json:"on_allowlist"`
	Approved    bool `json:"approved"`
	Drift       bool `json:"drift"`
	// Origins: how the edge was found: ci-config (static), auth-log,
	// job-log, declared (trust.yaml only), allowlist (only on GitLab's
	// allowlist today).
	Origins []string `json:"origins"`
	// LastSeen is the newest authentication-log time of the caller on the
	// callee (RFC 3339), "" when the log has none.
	LastSeen string `json:"last_seen,omitempty"`
	// Owner, Reason, Expires and TrustLine come from the trust.yaml
	// approval, when there is one.
	Owner     string     `json:"owner,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Expires   string     `json:"expires,omitempty"`
	TrustLine int        `json:"trust_line,omitempty"`
	Note      string     `json:"note,omitempty"` // why the plan does what it does
	Evidence  []Evidence `json:"evidence"`
}

// Evidence is one use behind an edge.
type Evidence struct {
	Origin  string `json:"origin"`
	Access  string `json:"access,omitempty"`
	Project string `json:"project,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Job     string `json:"job,omitempty"`
	Detail  string `json:"detail"`
	// URL links file:line on the GitLab server, when the inventory names
	// it (http or https only).
	URL string `json:"url,omitempty"`
}

// Build computes the report document. It is pure: the same input gives
// the same document.
func Build(in Input) *Document {
	p, ix := in.Plan, in.Index
	inv := ix.Inventory()
	doc := &Document{Version: FormatVersion, ServerURL: inv.ServerURL, GitLabVersion: inv.GitLabVersion,
		Trusted: p.Trusted, TrustFile: p.TrustFile, Projects: []Project{}, Edges: []Edge{}}
	if !in.Now.IsZero() {
		doc.GeneratedAt = in.Now.UTC().Format(time.RFC3339)
	}
	base := webBase(inv.ServerURL)
	planned := map[string]*plan.Project{}
	for i := range p.Projects {
		planned[strings.ToLower(p.Projects[i].Path)] = &p.Projects[i]
	}
	byPath := map[string]int{}
	doc.refs = map[string]string{}
	for _, ip := range inv.Projects {
		if ip.DefaultBranch != "" {
			doc.refs[ip.Path] = ip.DefaultBranch
		}
		pr := Project{Path: ip.Path, ID: ip.ID, Group: topGroup(ip.Path), State: string(plan.StateKnown)}
		if base != "" {
			pr.WebURL = base + "/" + escapePath(ip.Path)
		}
		switch {
		case ip.StateUnknown():
			pr.State = string(plan.StateUnknown)
		default:
			on := inv.InstanceEnforcesAllowlist != nil && *inv.InstanceEnforcesAllowlist
			if s := ip.JobTokenScope; s != nil {
				on = on || s.InboundEnabled
				pr.Allowlist = len(s.Allowlist.Projects) + len(s.Allowlist.Groups)
			}
			pr.Enforced = &on
		}
		if pp := planned[strings.ToLower(ip.Path)]; pp != nil {
			pr.Enforce = pp.Enforce && !pp.Enforced
			pr.Wave = pp.Wave
		}
		byPath[strings.ToLower(ip.Path)] = len(doc.Projects)
		doc.Projects = append(doc.Projects, pr)
	}
	for _, r := range p.Rows() {
		e := edge(r, in, base)
		doc.Edges = append(doc.Edges, e)
		if i, ok := byPath[strings.ToLower(e.Callee)]; ok {
			doc.Projects[i].Inbound++
		}
		if i, ok := byPath[strings.ToLower(e.Caller)]; ok && e.CallerType == string(plan.ProjectEntry) {
			doc.Projects[i].Outbound++
		}
	}
	s := &doc.Summary
	s.Projects = len(doc.Projects)
	for _, pr := range doc.Projects {
		switch {
		case pr.Enforced == nil:
			s.Unknown++
		case *pr.Enforced:
			s.Enforced++
		}
		if pr.Enforce && p.Trusted {
			s.Drift++
		}
	}
	s.Edges = len(doc.Edges)
	for _, e := range doc.Edges {
		if e.Approved {
			s.Approved++
		}
		if e.Status == string(plan.StatusReview) {
			s.Pending++
		}
		if e.Drift {
			s.Drift++
		}
	}
	return doc
}

// drifting statuses: GitLab's allowlist differs from the reviewed intent.
var drifting = map[plan.Status]bool{plan.StatusAdd: true, plan.StatusUpdate: true, plan.StatusRemove: true, plan.StatusUnapproved: true}

func edge(r plan.Row, in Input, base string) Edge {
	e := Edge{Caller: r.Caller, CallerType: string(r.CallerType), Callee: r.Callee, Access: kindStrings(r.Access),
		Policies: slices.Clone(r.Policies), DefaultPermissions: r.Policies == nil, Status: string(r.Status),
		Drift: drifting[r.Status] && in.Plan.Trusted, Note: r.Reason, Origins: []string{}, Evidence: []Evidence{}}
	if e.Policies == nil {
		e.Policies = []string{}
	}
	if r.Entry != nil {
		e.OnAllowlist = r.Entry.OnAllowlist
	}
	if r.Status == plan.StatusStale && r.Entry != nil && r.Entry.OnAllowlist {
		// A stale approval on the allowlist is no drift; a stale approval
		// still to add is (it is not on GitLab).
		e.Drift = false
	} else if r.Status == plan.StatusStale {
		e.Drift = in.Plan.Trusted
	}
	if r.CallerType == plan.GroupEntry {
		if g, ok := groupGrant(in.Trust, r.Caller, r.Callee); ok {
			e.Approved = g.Counts()
			e.Owner, e.Reason, e.TrustLine = g.Owner, g.Reason, g.Line
			e.Expires = date(g.Expires)
		}
	} else if a, ok := in.Trust.Approval(r.Caller, r.Callee); ok {
		e.Approved = a.Counts()
		e.Owner, e.Reason, e.TrustLine = a.Owner, a.Reason, a.Line
		e.Expires = date(a.Expires)
	}
	switch r.Status {
	case plan.StatusDenied, plan.StatusRemove, plan.StatusReview, plan.StatusUnapproved, plan.StatusNever:
		// An approval may exist and still not cover the row: a deny rule
		// wins, access beyond the approval waits for review, a job token
		// cannot do it at all.
		e.Approved = false
	}
	origins := map[string]bool{}
	for _, u := range r.Uses {
		origins[string(u.Origin)] = true
		e.Evidence = append(e.Evidence, evidence(u, in.Index, base))
	}
	switch {
	case len(r.Uses) > 0:
	case e.TrustLine > 0:
		origins[string(use.Declared)] = true
	case e.OnAllowlist:
		// Known only because it is on the allowlist today.
		origins["allowlist"] = true
	}
	e.Origins = sortedKeys(origins)
	e.LastSeen = lastSeen(in.Index, r)
	return e
}

func groupGrant(f *trust.File, group, callee string) (trust.GroupGrant, bool) {
	if f == nil {
		return trust.GroupGrant{}, false
	}
	for _, g := range f.Groups {
		if strings.EqualFold(g.CallerGroup, group) && strings.EqualFold(g.Callee, callee) {
			return g, true
		}
	}
	return trust.GroupGrant{}, false
}

// lastSeen is the newest authentication-log time of the row's caller (for
// a group entry: any project under it) on the callee.
func lastSeen(ix *inventory.Index, r plan.Row) string {
	callee := ix.Project(r.Callee)
	if callee == nil {
		return ""
	}
	var last time.Time
	for _, a := range callee.AuthLog {
		match := strings.EqualFold(a.Origin, r.Caller)
		if r.CallerType == plan.GroupEntry {
			match = strings.HasPrefix(strings.ToLower(a.Origin), strings.ToLower(r.Caller)+"/")
		}
		if match && a.LastAuthorizedAt.After(last) {
			last = a.LastAuthorizedAt
		}
	}
	if last.IsZero() {
		return ""
	}
	return last.UTC().Format(time.RFC3339)
}

func evidence(u use.Use, ix *inventory.Index, base string) Evidence {
	project := u.Evidence.Project
	if project == "" {
		project = u.Caller
	}
	ev := Evidence{Origin: string(u.Origin), Access: string(u.Access), Project: project, File: u.Evidence.File,
		Line: u.Evidence.Line, Job: u.Evidence.Job, Detail: u.Evidence.Detail}
	if base != "" && ev.File != "" {
		ref := "HEAD"
		if p := ix.Project(project); p != nil && p.DefaultBranch != "" {
			ref = p.DefaultBranch
		}
		// GitLab's blob URL: /<project>/-/blob/<ref>/<file>#L<line>.
		ev.URL = base + "/" + escapePath(project) + "/-/blob/" + escapePath(ref) + "/" + escapePath(ev.File)
		if ev.Line > 0 {
			ev.URL += "#L" + strconv.Itoa(ev.Line)
		}
	}
	return ev
}

// webBase is the server URL without a trailing slash, or "" unless it is
// an absolute http(s) URL: a link in the report must not run script.
func webBase(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.TrimRight(u.String(), "/")
}

// escapePath escapes each segment of a slash path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func topGroup(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func kindStrings(ks []access.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(a, b) })
	return out
}
