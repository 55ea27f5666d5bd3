package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
)

// The steps of one callee's plan, in the order that never breaks a
// pipeline that the plan keeps: entries first (adds, then policies), then
// removals, then enforcement last, once everything approved is in. The
// API steps are plan.Project.Calls, which decides the calls and their
// order; the UI steps follow the same order.

// uiSteps are the clicks in the project settings, with the names of the
// GitLab version the plan targets.
func uiSteps(pr plan.Project, caps capability.Capabilities) []string {
	if !caps.Allowlist {
		// Nothing to click: the setting does not exist yet. The plan's
		// warning and the checklist say what to upgrade to.
		return nil
	}
	n := caps.Names
	steps := []string{fmt.Sprintf("Open %s > Settings > CI/CD and expand **%s**.", quote.OneLine(pr.Path), n.Section)}
	if sw := caps.PoliciesSwitch(); sw != "" && slices.ContainsFunc(append(slices.Clone(pr.Add), pr.Update...), func(e plan.Entry) bool { return e.Policies != nil }) {
		steps[0] = upperFirst(sw) + ". Then open " + quote.OneLine(pr.Path) + " > Settings > CI/CD and expand **" + n.Section + "**."
	}
	for _, e := range pr.Add {
		if plan.Unsupported(e, caps) != "" {
			steps = append(steps, fmt.Sprintf("Group entries need GitLab 17.0: add each project of %s instead, or upgrade.", quote.OneLine(e.Path)))
			continue
		}
		steps = append(steps, fmt.Sprintf("Select **%s**, enter %s%s, then select **Add**.", n.Add, quote.MarkdownCode(e.Path), uiPermissions(e.Policies, caps)))
	}
	for _, e := range pr.Update {
		steps = append(steps, fmt.Sprintf("Next to %s, select **Edit**%s, then save.", quote.MarkdownCode(e.Path), uiPermissions(e.Policies, caps)))
	}
	for _, e := range pr.Remove {
		steps = append(steps, fmt.Sprintf("Next to %s, select **Remove** and confirm.", quote.MarkdownCode(e.Path)))
	}
	if pr.Enforce {
		steps = append(steps, uiEnforce(n)+".")
	}
	if len(steps) == 1 {
		return nil
	}
	for i := range steps {
		steps[i] = fmt.Sprintf("%d. %s", i+1, steps[i])
	}
	return steps
}

func uiEnforce(n capability.UINames) string {
	s := n.Enforce
	return strings.ToUpper(s[:1]) + s[1:]
}

func uiPermissions(pol []string, caps capability.Capabilities) string {
	n := caps.Names
	if !caps.PoliciesUsable() || n.FineGrained == "" {
		return ""
	}
	if pol == nil {
		return fmt.Sprintf(", choose **%s**", n.DefaultPermissions)
	}
	// The UI offers one level per resource: "Read and write" includes
	// reading, so read_x next to admin_x is not a separate choice.
	var labels []string
	for _, p := range pol {
		if res, ok := strings.CutPrefix(p, "read_"); ok && slices.Contains(pol, "admin_"+res) {
			continue
		}
		labels = append(labels, "**"+policyLabel(p)+"**")
	}
	return fmt.Sprintf(", choose **%s** and grant %s", n.FineGrained, strings.Join(labels, ", "))
}

// The API steps render the plan's calls: the renderers choose words and
// syntax, never which calls to make.

// callComment says what a call does, for the comment above it.
func callComment(c plan.Call, caps capability.Capabilities) string {
	var s string
	switch c.Kind {
	case plan.CallEnforce:
		return "turn on the allowlist (" + caps.Names.Setting + ")"
	case plan.CallUpdatePolicies:
		what := "default permissions"
		if c.Policies != nil {
			what = strings.Join(c.Policies, ", ")
		}
		return fmt.Sprintf("policies of %s: %s", c.Target.Path, what)
	case plan.CallAddProject, plan.CallAddGroup:
		s = fmt.Sprintf("add %s %s", c.Target.Type, c.Target.Path)
	default:
		s = fmt.Sprintf("remove %s %s", c.Target.Type, c.Target.Path)
	}
	if c.ByPath {
		s += " (ID unknown to the inventory: GraphQL by path)"
	}
	return s
}

// graphqlQuery writes a GraphQL call as a query with inline arguments.
func graphqlQuery(c plan.Call) string {
	args := make([]string, len(c.Params))
	for i, p := range c.Params {
		args[i] = p.Name + ": " + gqlValue(p.Value)
	}
	return fmt.Sprintf("mutation { %s(input: {%s}) { errors } }", c.Mutation, strings.Join(args, ", "))
}

// gqlValue writes a parameter value in GraphQL syntax.
func gqlValue(v any) string {
	switch v := v.(type) {
	case string:
		return gqlString(v)
	case plan.Enum:
		return string(v)
	case []plan.Enum:
		s := make([]string, len(v))
		for i, e := range v {
			s[i] = string(e)
		}
		return "[" + strings.Join(s, ", ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

// formFields are a REST call's parameters as "name=value" form fields.
func formFields(c plan.Call) []string {
	out := make([]string, len(c.Params))
	for i, p := range c.Params {
		out[i] = fmt.Sprintf("%s=%v", p.Name, p.Value)
	}
	return out
}

// gqlString quotes s for a GraphQL query (JSON string syntax is a subset).
func gqlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// graphqlBody is the JSON body of a GraphQL request.
func graphqlBody(q string) string {
	b, _ := json.Marshal(map[string]string{"query": q})
	return string(b)
}

// shellQuote single-quotes s for POSIX shells; a string holding a control
// character or invalid UTF-8 is written $'…' with escapes instead (bash,
// zsh, ksh, and POSIX since 2024), so that every command stays on one
// line and keeps its value exactly (ansiCQuote).
func shellQuote(s string) string {
	if needsEscapes(s) {
		return ansiCQuote(s)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curl renders the call as a command for people to copy: the token comes
// from $GITLAB_TOKEN, the server from $GITLAB_URL.
func curl(c plan.Call) string {
	if c.Unsupported != "" {
		// A command that cannot work is not a step: say why instead.
		return "# not on this GitLab: " + c.Unsupported
	}
	var b strings.Builder
	fmt.Fprintf(&b, "curl --request %s --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\"", shellWord(c.Method))
	if c.GraphQL() {
		fmt.Fprintf(&b, " --header \"Content-Type: application/json\" \\\n     --data %s \\\n     %s", shellQuote(quote.OneLine(graphqlBody(graphqlQuery(c)))), serverPath(c.Path))
		return b.String()
	}
	for _, f := range formFields(c) {
		fmt.Fprintf(&b, " --data %s", shellQuote(quote.OneLine(f)))
	}
	fmt.Fprintf(&b, " \\\n     %s", serverPath(c.Path))
	return b.String()
}

// checklist is the rollout checklist: what to do, in order, what to watch
// and how to roll back, with the plan's own waves and numbers.
func checklist(p *plan.Plan, h PlanHints) []string {
	caps := p.Capabilities
	var out []string
	if up := caps.Upgrade(); up != "" {
		// Every later step needs the allowlist: the checklist is the
		// upgrade, and the review that can start before it.
		out = append(out, up+".")
		if !p.Trusted {
			out = append(out, "Meanwhile, review: draft trust.yaml with `tokenscope trust init` and review it in a merge request, so that the plan after the upgrade is reviewed intent.")
		}
		return out
	}
	if !p.Trusted {
		out = append(out, "Review first: draft trust.yaml with `tokenscope trust init`, review it in a merge request, and plan with "+h.Trust+". Nothing in this plan was reviewed.")
	} else {
		out = append(out, fmt.Sprintf("Keep %s reviewed: every change to it goes through a merge request with the evidence from `tokenscope plan`.", p.TrustFile))
	}
	if u := unknownProjects(p); len(u) > 0 {
		out = append(out, fmt.Sprintf("Plan again with a token that has the Maintainer role on %s: the current allowlist of %d project(s) is unknown to this plan, so it proposes no removal or update there and is not safe to apply to them (the script refuses them).", strings.Join(u, ", "), len(u)))
	}
	review := p.Totals().Review + p.Totals().Denied
	if review > 0 {
		out = append(out, fmt.Sprintf("Settle the %d edge(s) that need review or are denied before enforcing their callees: approve them in trust.yaml, or fix the caller's jobs.", review))
	}
	if sw := caps.PoliciesSwitch(); sw != "" && hasPolicies(p) {
		out = append(out, fmt.Sprintf("Fine-grained permissions are %s on GitLab %s: %s.", caps.Policies, caps.Version, sw))
	}
	waves := wavesWithWork(p)
	for i, w := range waves {
		step := fmt.Sprintf("Wave %q (%s): apply its entries first, then enforcement", w.name, strings.Join(w.projects, ", "))
		if i == 0 {
			step += ". This is the pilot: watch it for a week, through the schedules and release pipelines that run rarely, before the next wave"
		}
		if !caps.RESTAllowlist {
			// Neither apply nor the script can: their calls need the REST
			// API (16.1, https://gitlab.com/gitlab-org/gitlab/-/issues/351740).
			out = append(out, step+fmt.Sprintf(", in the UI (the steps above): GitLab %s has no REST allowlist API (16.1), so neither `tokenscope apply` nor the script can make the calls.", caps.Version))
			continue
		}
		out = append(out, step+". `tokenscope plan "+h.Format+" script` prints the calls; its script runs one wave with --wave.")
	}
	monitor := "Monitor after each wave: "
	if caps.AuthLog {
		monitor += "each enforced callee's Authentication log (Settings > CI/CD > " + caps.Names.Section + " > Authentication log) must list only projects on its allowlist; "
	}
	monitor += "search job logs for `Authentication by CI/CD job token not allowed from`, `The following token permission is required`, " +
		"`pull access denied`, `403 Forbidden` from package managers and `404 Not Found` from the pipeline trigger API (`tokenscope diagnose` maps them to the missing edge)."
	out = append(out, monitor)
	out = append(out, "Watch what runs rarely: scheduled pipelines, tag and release pipelines, manual jobs. The authentication log shows only what ran; a 403 weeks later is the classic failure of the 18.0 migration.")
	out = append(out, instanceStep(p))
	if caps.RESTAllowlist {
		out = append(out, "Roll back one callee by re-adding the entry that broke (the API steps above, or `--data enabled=false` on PATCH /projects/:id/job_token_scope while the instance setting allows it); keep the plan's JSON as the record of what changed.")
	} else {
		out = append(out, "Roll back one callee by re-adding the entry that broke, or by turning \""+caps.Names.Setting+"\" off again, in the UI; keep the plan's JSON as the record of what changed.")
	}
	out = append(out, "Jobs outside GitLab CI (laptops, other CI systems) never have a job token: give them deploy tokens or project access tokens. Access that must not depend on the user who triggers the pipeline (schedules owned by bots, contributors without a role on the callee) needs a deploy token for repository, registry and package reads.")
	// audit, not plan --detailed-exitcode: plan exits 3 only for pending
	// changes, while audit also reports entries nobody approved, policies
	// wider than approved, enforcement turned off and expired approvals.
	out = append(out, "Keep it locked: run `tokenscope audit SOURCE "+h.Trust+" trust.yaml` in a scheduled pipeline; exit code 3 means the org drifted from the reviewed intent (entries not approved, approvals missing, policies wider than approved, enforcement off).")
	return out
}

type waveWork struct {
	name     string
	projects []string
}

// wavesWithWork lists the waves in order with the callees that change.
func wavesWithWork(p *plan.Plan) []waveWork {
	var out []waveWork
	for _, w := range p.Waves {
		ww := waveWork{name: w.Name}
		for _, pr := range p.Projects {
			if pr.Wave == w.Name && pr.Changes() {
				ww.projects = append(ww.projects, pr.Path)
			}
		}
		if len(ww.projects) > 0 {
			out = append(out, ww)
		}
	}
	return out
}

// instanceStep says what the instance setting "Enable and enforce job
// token allowlist for all projects" is, as read, not what the version's
// default would be (https://docs.gitlab.com/ci/jobs/ci_job_token/).
func instanceStep(p *plan.Plan) string {
	caps := p.Capabilities
	const setting = "the admin setting \"Enable and enforce job token allowlist for all projects\" (Admin > Settings > CI/CD > Job token permissions)"
	if caps.Known && caps.Instance != capability.Default && caps.Instance != capability.Available {
		return fmt.Sprintf("Enforce org-wide: GitLab %s has no instance setting (17.6+); every project's allowlist is enforced one by one by the waves.", caps.Version)
	}
	switch {
	case p.Instance == nil:
		return "Enforce org-wide: " + setting + " is unknown to this plan (reading it needs an administrator's token); check it, and turn it on once every wave is done."
	case *p.Instance:
		return "Enforce org-wide: " + setting + " is on: every project's allowlist is enforced whatever its own setting, and open exceptions cannot take effect."
	default:
		return "Enforce org-wide: " + setting + " is off; turn it on once every wave is done."
	}
}

// hasPolicies reports whether an entry the plan adds or updates carries
// fine-grained policies.
func hasPolicies(p *plan.Plan) bool {
	for _, pr := range p.Projects {
		for _, e := range append(slices.Clone(pr.Add), pr.Update...) {
			if e.Policies != nil {
				return true
			}
		}
	}
	return false
}
