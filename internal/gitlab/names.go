package gitlab

import (
	"fmt"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// A name GitLab returns is checked as a name read from a snapshot is
// (inventory.CheckProjectPath and friends): the answer may come from a
// compromised or impersonated server, or a proxy, and the names end up in
// scripts and Terraform people run. What fails is dropped with a Problem,
// never passed on.

// checkListing drops the groups and projects of l whose path or ID no
// GitLab could hold.
func checkListing(l *Listing) {
	groups := l.Groups[:0]
	for _, g := range l.Groups {
		if err := checkGroup(g.Path, g.ID); err != nil {
			l.Problems = append(l.Problems, Problem{Project: inventory.QuoteName(g.Path), Summary: "GitLab returned a group " + err.Error() + "; skipped"})
			continue
		}
		groups = append(groups, g)
	}
	l.Groups = groups
	projects := l.Projects[:0]
	for _, p := range l.Projects {
		if err := checkProject(p.Path, p.ID); err != nil {
			l.Problems = append(l.Problems, Problem{Project: inventory.QuoteName(p.Path), Summary: "GitLab returned a project " + err.Error() + "; skipped"})
			continue
		}
		projects = append(projects, p)
	}
	l.Projects = projects
	// The external URL is read off the projects' web_url: it goes into
	// scripts as the default GITLAB_URL.
	if err := inventory.CheckServerURL(l.ServerURL); err != nil {
		l.Problems = append(l.Problems, Problem{Summary: "GitLab returned web URLs on an external URL " + err.Error() + "; the URL tokenscope talks to is used instead"})
		l.ServerURL = ""
	}
}

// checkJobTokens makes a project's job token state unknown when an
// allowlist entry has a bad name (a partial allowlist would read as
// complete), and drops authentication log rows of bad origins.
func checkJobTokens(jt *JobTokens) {
	for p, s := range jt.Scopes {
		if s == nil {
			continue
		}
		if err := checkScope(s); err != nil {
			jt.Problems = append(jt.Problems, Problem{Project: p, Summary: "GitLab returned an allowlist entry " + err.Error() + "; the project's job token settings are treated as unknown"})
			delete(jt.Scopes, p)
		}
	}
	for p, rows := range jt.Logs {
		kept := rows[:0]
		for _, r := range rows {
			if err := inventory.CheckProjectPath(r.Origin); err != nil {
				jt.Problems = append(jt.Problems, Problem{Project: p, Summary: "GitLab returned an authentication log origin " + err.Error() + "; row skipped"})
				continue
			}
			kept = append(kept, r)
		}
		jt.Logs[p] = kept
	}
}

func checkScope(s *inventory.JobTokenScope) error {
	for _, e := range s.Allowlist.Projects {
		if err := checkProject(e.Path, e.ID); err != nil {
			return err
		}
	}
	for _, e := range s.Allowlist.Groups {
		if err := checkGroup(e.Path, e.ID); err != nil {
			return err
		}
	}
	return nil
}

func checkProject(path string, id int) error {
	if err := inventory.CheckProjectPath(path); err != nil {
		return err
	}
	return checkID(path, id)
}

func checkGroup(path string, id int) error {
	if err := inventory.CheckGroupPath(path); err != nil {
		return err
	}
	return checkID(path, id)
}

// checkID: what GitLab returns always has an ID.
func checkID(path string, id int) error {
	if id <= 0 {
		return fmt.Errorf("%s with id %d: %w", path, id, inventory.ErrBadID)
	}
	return nil
}
