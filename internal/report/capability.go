package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tokenscope/tokenscope/internal/capability"
)

// model is the part of the explanation that does not depend on the
// version (https://docs.gitlab.com/ci/jobs/ci_job_token/).
const model = `CI_JOB_TOKEN: what it can reach, and what the inbound allowlist changes

Every CI/CD job gets a CI_JOB_TOKEN that lives while the job runs. It carries
the role of the user who caused the job to run (pushed, started the job, owns
the schedule), on every project that user can see, for the endpoints a job
token may use: git clone/fetch, package and container registries, artifacts,
releases, deployments, environments, secure files, Terraform state, the
pipeline trigger API.

Legacy (permissive) behaviour
  When a project's inbound setting is "All groups and projects", a job token
  from ANY project may reach it. The only limit is the triggering user's role.
  A maintainer who runs a pipeline in some unrelated project hands that
  pipeline's code a token that can read (or write) everything they can: a
  confused deputy, and a leaked token with the same reach.

The inbound allowlist ("Limit access to this project")
  The callee lists the projects and groups whose job tokens may come in; its
  own jobs always may. A token from any other project is refused (403, or 404
  on older versions) whatever the user's role.
  The gap it closes: a token can reach only callees that chose to trust its
  project, so one compromised or careless pipeline no longer reaches the
  whole org.
  What it does not change:
  - an entry grants no role: the triggering user still needs one on the
    callee (Reporter to read packages, artifacts and images of a private
    project, Developer to write);
  - on public and internal projects, features left at "Everyone with access"
    stay reachable by any token: set them to "Only project members";
  - trigger: (multi-project pipelines) and include:project do not use the
    job token and need no entry;
  - a job token never pushes to another project's repository or registry:
    use a project access token, or a deploy token/key, for that.
`

// Capabilities prints the job token model and, for v, what that version has
// and lacks. The zero Version prints the whole timeline instead, headed by
// timelineHint (the caller says how to ask for one version).
func Capabilities(w io.Writer, v capability.Version, timelineHint string) error {
	ew := &errWriter{w: w}
	fmt.Fprint(ew, model)
	if v.IsZero() {
		writeTimeline(ew, timelineHint)
	} else {
		writeVersion(ew, v)
	}
	return ew.err
}

func writeTimeline(w io.Writer, hint string) {
	fmt.Fprintf(w, "\nTimeline (%s)\n", hint)
	for _, f := range capability.Features {
		fmt.Fprintf(w, "  %s\n", f.Name)
		for _, s := range f.Steps {
			line := fmt.Sprintf("    %-6s %s", s.Since, s.Stage)
			if s.Note != "" {
				line += ": " + s.Note
			}
			fmt.Fprintf(w, "%s\n", line)
		}
	}
}

func writeVersion(w io.Writer, v capability.Version) {
	c := capability.For(v)
	fmt.Fprintf(w, "\nGitLab %s\n", v)
	var has, lacks []string
	for _, f := range capability.Features {
		st := f.At(v)
		switch {
		case st.Stage.Has():
			line := f.Name + " (" + string(st.Stage)
			if st.Note != "" {
				line += ": " + st.Note
			}
			has = append(has, line+")")
		case st.Stage == capability.Removed:
			lacks = append(lacks, f.Name+" (removed in "+st.Since.String()+")")
		default:
			lacks = append(lacks, f.Name+" (from "+f.Steps[0].Since.String()+")")
		}
	}
	fmt.Fprintf(w, "  has:\n")
	for _, h := range has {
		fmt.Fprintf(w, "    + %s\n", h)
	}
	if len(lacks) > 0 {
		fmt.Fprintf(w, "  lacks:\n")
		for _, l := range lacks {
			fmt.Fprintf(w, "    - %s\n", l)
		}
	}
	fmt.Fprintf(w, "  settings: Settings > CI/CD > %s > %s\n", c.Names.Section, c.Names.Setting)
	fmt.Fprintf(w, "    to enforce: %s\n", strings.ReplaceAll(c.Names.Enforce, "**", "\""))
	fmt.Fprintf(w, "    to add an entry: %s\n", c.Names.Add)
	fmt.Fprintf(w, "  for a plan on this version:\n")
	for _, a := range advice(c) {
		fmt.Fprintf(w, "    * %s\n", a)
	}
}

// advice is what the version means for a least-privilege plan.
func advice(c capability.Capabilities) []string {
	var out []string
	if !c.Allowlist {
		return []string{c.Upgrade()}
	}
	if !c.RESTAllowlist {
		out = append(out, "no REST API for the allowlist yet (16.1): set entries and the setting in the UI; tokenscope apply and the plan's script cannot")
	}
	if !c.GroupEntries {
		out = append(out, "only projects can be allowlisted: every caller needs its own entry (at most 200)")
	}
	switch {
	case !c.PoliciesUsable():
		out = append(out, "every entry has default permissions: narrow access by the triggering users' roles and by feature visibility")
	case c.PoliciesSwitch() != "":
		out = append(out, fmt.Sprintf("fine-grained policies are %s: %s", c.Policies, c.PoliciesSwitch()))
	default:
		out = append(out, "give every entry fine-grained policies (GraphQL ciJobTokenScopeUpdatePolicies; REST and Terraform cannot set them)")
	}
	if !c.AuthLog {
		out = append(out, "no authentication log: discovery relies on CI configuration and job logs only")
	} else {
		out = append(out, "compare the authentication log with the plan before enforcing: every logged origin not on the allowlist would break")
	}
	switch c.Instance {
	case capability.Default:
		out = append(out, "the instance setting enforces every allowlist unless an administrator turned it off: check it before assuming \"All groups and projects\"")
	case capability.Available:
		out = append(out, "an administrator can enforce all allowlists at once once every project's plan is applied")
	}
	return out
}
