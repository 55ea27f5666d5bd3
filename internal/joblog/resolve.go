package joblog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Context is what tokenscope knows about the org when it explains a
// failure. Every field is optional: without an inventory, projects stay as
// the log names them.
type Context struct {
	Index  *inventory.Index
	Server inventory.Server
	// Caller is the project whose job wrote the log, as the user gave it; it wins
	// over what the message says, which is only a short path.
	Caller string
	Graph  *graph.Graph // the scan, to say whether the edge was discovered
	Trust  *trust.File  // the reviewed intent, to say whether it is approved
	// Hints word the verdicts that tell the user what to give next.
	Hints Hints
	// JobEnvs, when set, gives the environments the caller's jobs start
	// with as the scan builds them (predefined variables, then the CI
	// configuration's), to expand what predefined variables alone do not.
	JobEnvs func(caller string) []shell.MapEnv
}

// Hints say how the user gives what a verdict asks for. The command line
// fills them in: it alone knows its flags, and joblog only knows that a
// caller, a snapshot or a plan is missing.
type Hints struct {
	Caller   string // how to name the caller whose job wrote the log
	Snapshot string // how to give a snapshot of the org
	Apply    string // the command that prints the calls applying a reviewed plan
}

// Intent is what trust.yaml says about an edge.
type Intent string

// Intents.
const (
	Approved   Intent = "approved"
	Denied     Intent = "denied"
	Unapproved Intent = "not-approved"
	NoTrust    Intent = "" // no trust.yaml given
)

// Diagnosis is a failure explained: which edge it is about, and what to do.
type Diagnosis struct {
	Failure
	Caller      string   // full path, "" when unknown
	Callee      string   // full path, "" when unknown
	Candidates  []string // full paths a short name may mean, when ambiguous
	Intent      Intent
	IntentLine  int  // the trust.yaml line of the approval or deny rule
	Discovered  bool // the scan found this edge
	OnAllowlist bool // the inventory lists the caller (or its group) on the callee's allowlist
	Verdict     string
}

// JobToken reports whether the failure is a job-token allowlist or policy
// problem (as opposed to one people confuse with it).
func (d Diagnosis) JobToken() bool { return d.Kind != NotJobToken }

// Explain resolves each failure's projects and says what to do.
// A failure that only repeats an earlier one of the same command about the
// same edge (git prints the allowlist message, then its own 403), or the same
// message after the same command about a callee that stays unknown (a retry
// loop), is dropped.
//
// A job log is one job's, so one caller's: when the caller is not given, the
// caller a denial message names holds for the log's other failures too.
func Explain(fs []Failure, ctx Context) []Diagnosis {
	out := make([]Diagnosis, 0, len(fs))
	seen := map[[4]string]bool{}
	logCaller := map[string]string{}
	if ctx.Caller == "" {
		for _, f := range fs {
			if f.CallerRef == "" || logCaller[f.Log] != "" {
				continue
			}
			if c, _ := ctx.shortName(f.CallerRef, ""); c != "" {
				logCaller[f.Log] = c
			}
		}
	}
	for _, f := range fs {
		c := ctx
		if c.Caller == "" {
			c.Caller = logCaller[f.Log]
		}
		d := explain(f, c)
		k := [4]string{d.Log, d.Command, d.Caller, d.Callee}
		if d.Callee == "" {
			k[3] = "\x00" + d.Signature + "\x00" + d.CalleeRef + "\x00" + d.Message
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

func explain(f Failure, ctx Context) Diagnosis {
	d := Diagnosis{Failure: f}
	d.Caller = ctx.Caller
	if d.Caller == "" && f.CallerRef != "" {
		d.Caller, _ = ctx.shortName(f.CallerRef, "")
	}
	if p := ctx.project(d.Caller); p != nil {
		d.Caller = p.Path
	}
	d.Callee, d.Candidates = ctx.callee(f, d.Caller)
	if d.Access == "" && f.Policy != "" {
		d.Access = accessForPolicy(f.Policy)
	}
	if d.Access == "" {
		d.Access = accessFromContext(f)
	}
	if d.Caller != "" && d.Callee != "" {
		d.Intent, d.IntentLine = intent(ctx.Trust, d.Caller, d.Callee)
		if ctx.Graph != nil {
			_, d.Discovered = ctx.Graph.Edge(d.Caller, d.Callee)
		}
		d.OnAllowlist = onAllowlist(ctx.Index, d.Caller, d.Callee)
	}
	d.Verdict = verdict(d, ctx)
	return d
}

// predefined is the predefined CI/CD variables the caller's jobs see; for
// an unknown caller, only the server's (CI_SERVER_*, CI_API_*_URL,
// CI_REGISTRY), which every project's jobs share.
func (ctx Context) predefined(caller string) map[string]string {
	if p := ctx.project(caller); p != nil {
		return inventory.Predefined(ctx.Server, p)
	}
	all := inventory.Predefined(ctx.Server, &inventory.Project{})
	server := map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, "CI_SERVER") || strings.HasPrefix(k, "CI_API_") || k == "CI_REGISTRY" || k == "CI" || k == "GITLAB_CI" {
			server[k] = v
		}
	}
	return server
}

func (ctx Context) project(p string) *inventory.Project {
	if ctx.Index == nil || p == "" {
		return nil
	}
	return ctx.Index.Project(p)
}

// shortName maps project.path (the last segment, as GitLab's denial
// messages name projects) to full paths. hint (a URL or command) breaks
// ties between projects of the same name.
func (ctx Context) shortName(short, hint string) (string, []string) {
	if strings.Contains(short, "/") {
		return short, nil
	}
	if ctx.Index == nil {
		return "", nil
	}
	var cands []string
	for _, p := range ctx.Index.Inventory().Projects {
		if strings.EqualFold(inventory.Name(p.Path), short) {
			cands = append(cands, p.Path)
		}
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	for _, c := range cands {
		if hint != "" && strings.Contains(strings.ToLower(hint), "/"+strings.ToLower(c)) {
			return c, nil
		}
	}
	slices.Sort(cands)
	return "", cands
}

// callee resolves the failure's callee reference.
func (ctx Context) callee(f Failure, caller string) (string, []string) {
	switch f.RefKind {
	case RefShortPath:
		if p := ctx.project(f.CalleeRef); p != nil {
			return p.Path, nil
		}
		return ctx.shortName(f.CalleeRef, f.Command)
	case RefImage:
		if ctx.Index == nil {
			return "", nil
		}
		if _, path, ok := detect.ImageRef(f.CalleeRef); ok {
			if p := ctx.Index.LongestProjectPrefix(path); p != nil {
				return p.Path, nil
			}
		}
	case RefURL:
		if ctx.Index == nil {
			return "", nil
		}
		raw := f.CalleeRef
		if !strings.Contains(raw, "$") {
			return ctx.resolveURL(raw, caller), nil
		}
		// The runner echoes commands unexpanded: fill in what the caller's
		// jobs see (CI_API_V4_URL, CI_SERVER_HOST, ...) and the defaults
		// the command gives (${ID:-307}), as the scan does. Without the
		// caller, the server's variables are known all the same.
		if w, ok := shell.ExpandWord(raw, shell.MapEnv(ctx.predefined(caller))); ok {
			if callee := ctx.resolveURL(w.Value, caller); callee != "" {
				return callee, nil
			}
		}
		// Then the variables of the caller's jobs (the log does not say
		// which job wrote it): one callee if they agree, candidates if not.
		if ctx.JobEnvs == nil || caller == "" {
			return "", nil
		}
		var found []string
		for _, env := range ctx.JobEnvs(caller) {
			if w, ok := shell.ExpandWord(raw, env); ok {
				if callee := ctx.resolveURL(w.Value, caller); callee != "" && !slices.Contains(found, callee) {
					found = append(found, callee)
				}
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		slices.Sort(found)
		return "", found
	}
	return "", nil
}

// resolveURL resolves a URL a failure names to the project it reaches, as
// the scan does; "" when it names none.
func (ctx Context) resolveURL(raw, caller string) string {
	u, ok := detect.ParseURL(raw)
	if !ok {
		return ""
	}
	var t use.Target
	if ep, ok := detect.ClassifyAPI(ctx.Server, u, ""); ok {
		t = ep.Target
	} else {
		t = detect.GitTarget(ctx.Server, u)
	}
	if callee, reason := graph.Resolve(ctx.Index, caller, t); reason == "" {
		return callee
	}
	return ""
}

func intent(tf *trust.File, caller, callee string) (Intent, int) {
	if tf == nil {
		return NoTrust, 0
	}
	for _, d := range tf.DenyRules(callee) {
		if d.Denies(caller) {
			return Denied, d.Line
		}
	}
	if e, ok := tf.Approval(caller, callee); ok && !e.Expired {
		return Approved, e.Line
	}
	for _, g := range tf.GroupGrants(callee) {
		if !g.Expired && trust.Under(caller, g.CallerGroup) {
			return Approved, g.Line
		}
	}
	return Unapproved, 0
}

func onAllowlist(ix *inventory.Index, caller, callee string) bool {
	if ix == nil {
		return false
	}
	p := ix.Project(callee)
	if p == nil || p.JobTokenScope == nil {
		return false
	}
	for _, e := range p.JobTokenScope.Allowlist.Projects {
		if strings.EqualFold(e.Path, caller) {
			return true
		}
	}
	for _, e := range p.JobTokenScope.Allowlist.Groups {
		if trust.Under(caller, e.Path) {
			return true
		}
	}
	return false
}

// accessFromContext infers the access from the message and the command
// when the signature itself does not tell: "remote:" lines come from git
// over HTTPS; the command names the client.
func accessFromContext(f Failure) access.Kind {
	if strings.HasPrefix(f.Message, "remote:") {
		return access.RepositoryRead
	}
	cmd := strings.ToLower(f.Command)
	url := strings.ToLower(f.CalleeRef)
	if f.RefKind != RefURL {
		// A denial message names the callee, not the endpoint: the
		// command's URL tells which (curl .../packages/generic/...).
		url += " " + strings.ToLower(apiURLRE.FindString(f.Command))
	}
	switch {
	case strings.Contains(url, "/trigger/pipeline"):
		return access.PipelineTrigger
	case strings.Contains(url, "/artifacts"):
		return access.ArtifactsRead
	case strings.Contains(url, "/packages/"):
		return access.PackagesRead
	case strings.Contains(url, "/terraform/state"):
		return access.TerraformStateRead
	case strings.Contains(url, "/releases"):
		return access.ReleasesRead
	case strings.Contains(url, "/secure_files"):
		return access.SecureFilesRead
	}
	for _, c := range []struct {
		prefix string
		k      access.Kind
	}{
		{"git ", access.RepositoryRead}, {"npm ", access.PackagesRead}, {"yarn ", access.PackagesRead},
		{"pip ", access.PackagesRead}, {"pip3 ", access.PackagesRead}, {"uv ", access.PackagesRead},
		{"mvn ", access.PackagesRead}, {"gradle ", access.PackagesRead}, {"helm ", access.PackagesRead},
		{"docker pull", access.ContainerRead}, {"docker build", access.ContainerRead},
		{"terraform ", access.TerraformStateRead}, {"tofu ", access.TerraformStateRead},
	} {
		if strings.HasPrefix(cmd, c.prefix) {
			return c.k
		}
	}
	return ""
}

// accessForPolicy maps a required policy back to an access kind.
func accessForPolicy(policy string) access.Kind {
	first := strings.Fields(strings.NewReplacer(",", " ", " and ", " ").Replace(policy))
	if len(first) == 0 {
		return ""
	}
	for _, k := range access.All() {
		if i, _ := access.Lookup(k); i.Policy == first[0] {
			return k
		}
	}
	return ""
}

func verdict(d Diagnosis, ctx Context) string {
	edge := d.Caller + " → " + d.Callee
	switch d.Kind {
	case NotJobToken:
		if d.Do != "" {
			return d.Do
		}
		return "It is not the job token allowlist, so do not widen it."
	case NeverAllowed:
		if info, ok := access.Lookup(d.Access); ok && info.NoPolicyReason != "" {
			return "No allowlist entry can fix this: " + info.NoPolicyReason + ". Use a project access token or a deploy token for this access."
		}
		return "No allowlist entry can fix this: " + d.Explain + ". Use a project access token or a deploy token."
	case RoleMissing:
		role := access.Reporter
		if info, ok := access.Lookup(d.Access); ok {
			role = info.Role
		}
		return fmt.Sprintf("The allowlist is not the problem: the user who triggered the job needs at least %s on %s (a job token carries that user's role). Do not widen the allowlist.", role, calleeText(d))
	case EndpointNotAllowed:
		return "The endpoint does not accept job tokens; no allowlist entry changes that. Use a project access token, or an endpoint the job token can reach."
	case PolicyMissing:
		return policyVerdict(d, ctx)
	}
	// NotAllowlisted and LikelyNotAllowlisted.
	prefix := ""
	if d.Kind == LikelyNotAllowlisted {
		prefix = "Most likely the job token allowlist (the message does not say): "
	}
	switch {
	case d.Callee == "" && len(d.Candidates) > 0:
		return prefix + "the log names the callee " + d.CalleeRef + ", which may be any of " + strings.Join(d.Candidates, ", ") + "; the command does not tell which: check the job" + ctx.missing(d) + "."
	case d.Callee == "" && ctx.Index != nil && d.Caller == "" && strings.Contains(d.CalleeRef, "$"):
		return prefix + "the callee " + d.CalleeRef + " depends on variables of the caller's jobs" + ctx.missing(d) + "."
	case d.Callee == "" && ctx.Index != nil:
		return prefix + "the callee " + orQuoted(d.CalleeRef) + " names no project of the snapshot: check the reference in the job, and whether the snapshot holds that project" + ctx.missing(d) + "."
	case d.Callee == "":
		return prefix + "the callee could not be resolved from the log" + ctx.missing(d) + "."
	case d.Caller == "":
		found := ""
		if callers := ctx.discoveredCallers(d.Callee); len(callers) > 0 {
			found = " (the scan finds it reached from " + strings.Join(callers, ", ") + ")"
		}
		return prefix + "the callee is " + d.Callee + found + "; give the caller with " + ctx.Hints.Caller + " to check the edge."
	case d.OnAllowlist:
		return prefix + d.Caller + " is already on " + d.Callee + "'s allowlist: check the triggering user's role on " + d.Callee + ", the entry's fine-grained policies, and whether the snapshot is current."
	case d.Intent == Denied:
		return fmt.Sprintf("%sintended: trust.yaml:%d denies %s. Change the job, do not widen the allowlist.", prefix, d.IntentLine, edge)
	case d.Intent == Approved:
		return fmt.Sprintf("%s%s is approved (trust.yaml:%d) but not on the allowlist: apply the plan (%s).", prefix, edge, d.IntentLine, ctx.Hints.Apply)
	case d.Intent == Unapproved && d.Discovered:
		return fmt.Sprintf("%s%s is a discovered edge that trust.yaml does not approve: review it; approve it with a reason if the access is intended, otherwise fix the job.", prefix, edge)
	case d.Intent == Unapproved:
		return fmt.Sprintf("%s%s is neither approved in trust.yaml nor found by the scan: check the job, then approve it with a reason if it is intended.", prefix, edge)
	case d.Discovered:
		return fmt.Sprintf("%s%s was found by the scan; add it to the callee's allowlist (tokenscope plan) after review.", prefix, edge)
	default:
		return fmt.Sprintf("%s%s was not found by the scan; if the access is intended, review it and add it to trust.yaml.", prefix, edge)
	}
}

// policyVerdict is the verdict of a PolicyMissing failure: the entry is on
// the allowlist, its fine-grained permissions lack the policy.
func policyVerdict(d Diagnosis, ctx Context) string {
	if d.Caller == "" {
		return fmt.Sprintf("An entry on the allowlist of %s has fine-grained permissions that lack %s%s to name the entry and check the edge.", calleeText(d), d.Policy, ctx.missing(d))
	}
	edge := d.Caller + " → " + d.Callee
	switch d.Intent {
	case Denied:
		return fmt.Sprintf("intended: trust.yaml:%d denies %s. Change the job, do not add the policy.", d.IntentLine, edge)
	case Approved:
		return fmt.Sprintf("%s is approved (trust.yaml:%d), and the fine-grained permissions of its allowlist entry lack %s: apply the plan, which updates the entry's policies (%s). If the plan shows no update, add the access kind that needs %s to the approval.", edge, d.IntentLine, d.Policy, ctx.Hints.Apply, d.Policy)
	case Unapproved:
		return fmt.Sprintf("%s is on the allowlist with fine-grained permissions that lack %s, and trust.yaml does not approve it: review it; approve the access with a reason if it is intended, then apply the plan (%s).", edge, d.Policy, ctx.Hints.Apply)
	}
	return fmt.Sprintf("%s is on the allowlist with fine-grained permissions that lack %s: add the policy to that entry (ciJobTokenScopeUpdatePolicies; tokenscope plan shows the update once the access is approved in trust.yaml).", edge, d.Policy)
}

// discoveredCallers are the callers the scan finds reaching callee.
func (ctx Context) discoveredCallers(callee string) []string {
	if ctx.Graph == nil {
		return nil
	}
	var cs []string
	for _, e := range ctx.Graph.Edges {
		if e.Callee == callee {
			cs = append(cs, e.Caller)
		}
	}
	slices.Sort(cs)
	return slices.Compact(cs)
}

// missing names what the user did not give that would tell more: the
// snapshot, the caller. It never asks for what was given.
func (ctx Context) missing(d Diagnosis) string {
	var ask []string
	if ctx.Index == nil {
		ask = append(ask, "a snapshot ("+ctx.Hints.Snapshot+")")
	}
	if d.Caller == "" {
		ask = append(ask, "the caller ("+ctx.Hints.Caller+")")
	}
	if len(ask) == 0 {
		return ""
	}
	return "; give " + strings.Join(ask, " and ")
}

func orQuoted(s string) string {
	if s == "" {
		return "(not named in the message)"
	}
	return s
}

// calleeText names the callee: its full path, else as the log names it.
func calleeText(d Diagnosis) string {
	switch {
	case d.Callee != "":
		return d.Callee
	case d.CalleeRef != "":
		return d.CalleeRef + " (as the log names it)"
	}
	return "the callee"
}
