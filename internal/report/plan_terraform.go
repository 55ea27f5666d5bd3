package report

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
)

// planTerraform renders one gitlab_project_job_token_scopes resource per
// callee with the allowlist the plan leaves behind. The resource is
// authoritative (entries not listed are removed), so it lists everything
// that stays, including unapproved entries a plan without pruning keeps.
// Fine-grained policies cannot be expressed there: they are listed as
// comments, for the GraphQL steps.
func planTerraform(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# The allowlists of a tokenscope plan, for the GitLab Terraform provider.\n")
	if !p.Trusted {
		fmt.Fprintf(ew, "#\n# %s\n", wrapComment(untrustedBanner(h)))
	}
	fmt.Fprintf(ew, "#\n# %s\n#\n", wrapComment("Computed from: "+computedFrom(p, h)+"."))
	fmt.Fprintf(ew, `# Each gitlab_project_job_token_scopes resource is AUTHORITATIVE: on apply,
# entries not listed are removed. Import existing scopes first
# (terraform import gitlab_project_job_token_scopes.NAME PROJECT_ID).
# Fine-grained job token policies cannot be expressed in this resource (GitLab
# sets them only through GraphQL): apply them afterwards with the GraphQL steps
# of tokenscope plan, or entries keep default permissions.
`)
	names := map[string]bool{}
	var data []string
	// dataNames maps "kind:path" to its data source's name, and the names
	// taken: two paths can make the same identifier ("a-b", "a_b"), and
	// must not share a data source.
	dataNames := map[string]string{}
	dataTaken := map[string]bool{}
	ref := func(kind, path string, id int) string {
		if id != 0 {
			return fmt.Sprint(id)
		}
		key := kind + ":" + path
		name, ok := dataNames[key]
		if !ok {
			base := tfName(path)
			name = base
			for i := 2; dataTaken[kind+":"+name]; i++ {
				name = fmt.Sprintf("%s_%d", base, i)
			}
			dataTaken[kind+":"+name] = true
			dataNames[key] = name
			if kind == "group" {
				data = append(data, fmt.Sprintf("data \"gitlab_group\" %s {\n  full_path = %s\n}\n", hclString(name), hclString(path)))
			} else {
				data = append(data, fmt.Sprintf("data \"gitlab_project\" %s {\n  path_with_namespace = %s\n}\n", hclString(name), hclString(path)))
			}
		}
		if kind == "group" {
			return "data.gitlab_group." + name + ".group_id"
		}
		return "data.gitlab_project." + name + ".id"
	}
	var body strings.Builder
	for _, pr := range p.Projects {
		if pr.Unknown() {
			// The resource is authoritative: listing only what the plan
			// adds would remove whatever is on the allowlist today, which
			// this plan could not read.
			fmt.Fprintf(&body, "\n# %s: NOT MANAGED\n# %s.\n", quote.OneLine(pr.Path), unknownState)
			fmt.Fprintf(&body, "# %s\n", wrapComment("An authoritative gitlab_project_job_token_scopes resource would remove every entry not listed; plan again with a Maintainer token to manage it."))
			for _, e := range pr.Add {
				fmt.Fprintf(&body, "# it needs at least: %s %s (%s)\n", e.Type, quote.OneLine(e.Path), quote.OneLine(tfNote(pr, e, h)))
			}
			continue
		}
		staying := stayingEntries(pr)
		enabled := pr.Enforce || pr.Enforced
		if len(staying) == 0 && !enabled {
			fmt.Fprintf(&body, "\n# %s: not managed (%s)\n", quote.OneLine(pr.Path), quote.OneLine(pr.EnforceNote))
			continue
		}
		name := tfName(pr.Path)
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s_%d", tfName(pr.Path), i)
		}
		names[name] = true
		fmt.Fprintf(&body, "\n# %s: %s\n", quote.OneLine(pr.Path), quote.OneLine(pr.EnforceNote))
		if pr.Wave != "" {
			fmt.Fprintf(&body, "# wave %s\n", quote.OneLine(pr.Wave))
		}
		fmt.Fprintf(&body, "resource \"gitlab_project_job_token_scopes\" %s {\n", hclString(name))
		project := pr.Path
		if pr.ID != 0 {
			project = fmt.Sprint(pr.ID)
		}
		attrs := []tfAttr{{"project", hclString(project)}, {"enabled", fmt.Sprint(enabled)}}
		for _, kind := range []plan.EntryType{plan.ProjectEntry, plan.GroupEntry} {
			attr := "target_project_ids"
			if kind == plan.GroupEntry {
				attr = "target_group_ids"
			}
			var lines []string
			for _, e := range staying {
				if e.Type != kind {
					continue
				}
				lines = append(lines, fmt.Sprintf("    %s, # %s: %s", ref(string(kind), e.Path, e.ID), quote.OneLine(e.Path), quote.OneLine(tfNote(pr, e, h))))
			}
			if len(lines) == 0 {
				attrs = append(attrs, tfAttr{attr, "[]"})
				continue
			}
			attrs = append(attrs, tfAttr{attr, "[\n" + strings.Join(lines, "\n") + "\n  ]"})
		}
		writeAttrs(&body, attrs)
		fmt.Fprintf(&body, "}\n")
	}
	if len(data) > 0 {
		fmt.Fprintf(ew, "\n# Projects and groups whose IDs the inventory does not know.\n")
		for _, d := range data {
			fmt.Fprintf(ew, "%s", d)
		}
	}
	fmt.Fprint(ew, body.String())
	return ew.err
}

// stayingEntries are the entries on the allowlist after the plan.
func stayingEntries(pr plan.Project) []plan.Entry {
	var out []plan.Entry
	for _, l := range [][]plan.Entry{pr.Add, pr.Keep, pr.Update, pr.Unapproved} {
		for _, e := range l {
			if e.CoveredBy == "" {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b plan.Entry) int { return strings.Compare(a.Path, b.Path) })
	return slices.CompactFunc(out, func(a, b plan.Entry) bool { return a.Type == b.Type && a.Path == b.Path })
}

func tfNote(pr plan.Project, e plan.Entry, h PlanHints) string {
	for _, u := range pr.Unapproved {
		if u.Type == e.Type && u.Path == e.Path {
			return "UNAPPROVED, kept because the plan ran without " + h.Prune
		}
	}
	note := "default permissions"
	if e.Policies != nil {
		note = "policies " + strings.Join(e.Policies, ", ") + " (not expressible here: set them with GraphQL)"
	}
	if e.Widening != nil && e.Widening.Proposed {
		note = fmt.Sprintf("PROPOSED WIDENING, lets in %d more project(s); ", len(e.Widening.Extra)) + note
	}
	return note
}

var tfUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// tfName turns a path into a Terraform identifier.
func tfName(p string) string {
	n := strings.Trim(tfUnsafe.ReplaceAllString(p, "_"), "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		n = "p_" + n
	}
	return n
}

type tfAttr struct{ name, value string }

// writeAttrs writes attributes as terraform fmt lays them out: the equals
// signs of consecutive one-line attributes aligned, multi-line values
// breaking the run.
func writeAttrs(w *strings.Builder, attrs []tfAttr) {
	for i := 0; i < len(attrs); {
		if strings.Contains(attrs[i].value, "\n") {
			fmt.Fprintf(w, "  %s = %s\n", attrs[i].name, attrs[i].value)
			i++
			continue
		}
		j, width := i, 0
		for ; j < len(attrs) && !strings.Contains(attrs[j].value, "\n"); j++ {
			width = max(width, len(attrs[j].name))
		}
		for ; i < j; i++ {
			fmt.Fprintf(w, "  %-*s = %s\n", width, attrs[i].name, attrs[i].value)
		}
	}
}
