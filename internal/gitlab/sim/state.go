package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// state is the simulated org. Handlers take mu for reading, writes
// (allowlist changes, settings) for writing; files and job logs never
// change after load.
type state struct {
	mu sync.RWMutex

	groups      []*group // sorted by path
	groupByPath map[string]*group
	groupByID   map[int]*group
	projects    []*project // sorted by path
	projByPath  map[string]*project
	projByID    map[int]*project

	files    inventory.Files
	blobs    sync.Map // blobKey -> blobInfo
	serverID string   // server_url of the inventory, kept for Export
	registry string
	loadedAt time.Time

	// enforce is the admin setting enforce_ci_inbound_job_token_scope_enabled
	// (Behaviour decides it at load; PUT /application/settings changes it).
	enforce bool

	jobs      []*job       // POST /-/sim/jobs, in the order they started
	jobIDs    map[int]bool // the job ids of the snapshot's _jobs files
	pipelines int          // pipelines created by the trigger API
}

type group struct {
	id         int
	path       string
	parent     *group
	visibility string
	createdAt  time.Time
}

func (g *group) name() string { return inventory.Name(g.path) }

type project struct {
	id            int
	path          string
	ns            *group // nil for a project at the top level (a user namespace)
	visibility    string
	defaultBranch string // "" for an empty repository
	ciConfigPath  string
	archived      bool
	createdAt     time.Time

	files []string // repository files, sorted; nil: empty repository

	inboundEnabled bool
	pushAllowed    bool
	projectLinks   []*link // inbound project links
	groupLinks     []*link
	authLog        []authRow
	jobs           map[int][]byte   // job id -> log
	jobMeta        map[int]*jobMeta // job id -> what _jobs/<id>.json or a finished simulated job says
}

func (p *project) name() string { return inventory.Name(p.path) }

// link is one allowlist entry (a ci_job_token_project_scope_links or
// ci_job_token_group_scope_links row).
type link struct {
	targetID           int
	defaultPermissions bool
	policies           []string // lower-case policy names
	autopopulated      bool
	addedBy            string
	createdAt          time.Time
}

type authRow struct {
	originID int
	at       time.Time
}

// newState builds the org from an inventory and the repository files.
// Paths named by allowlists or auth logs but not listed become private
// projects (groups for group entries) with IDs, as they exist on GitLab.
func newState(inv *inventory.Inventory, files inventory.Files, jobs map[string]map[int][]byte, now time.Time) (*state, error) {
	s := &state{
		groupByPath: map[string]*group{},
		groupByID:   map[int]*group{},
		projByPath:  map[string]*project{},
		projByID:    map[int]*project{},
		files:       files,
		serverID:    inv.ServerURL,
		registry:    inv.Registry,
		loadedAt:    now,
	}
	wantIDs := map[*project]int{}
	for _, ip := range inv.Projects {
		p := &project{
			path: strings.Trim(ip.Path, "/"), visibility: cmp.Or(ip.Visibility, "private"),
			defaultBranch: ip.DefaultBranch, ciConfigPath: ip.CIConfigPath, archived: ip.Archived, createdAt: now,
		}
		if err := s.addProject(p); err != nil {
			return nil, err
		}
		wantIDs[p] = ip.ID
	}
	groupIDs := map[string]int{}
	for _, ig := range inv.Groups {
		groupIDs[strings.ToLower(ig.Path)] = ig.ID
		s.ensureGroup(ig.Path, now)
	}
	// Referenced paths, so that every entry has a target with an ID.
	for _, ip := range inv.Projects {
		for _, e := range scopeEntries(ip, false) {
			if s.project(e.Path) == nil {
				if err := s.addProject(&project{path: e.Path, visibility: "private", createdAt: now}); err != nil {
					return nil, err
				}
				wantIDs[s.project(e.Path)] = e.ID
			}
		}
		for _, e := range scopeEntries(ip, true) {
			if s.group(e.Path) == nil {
				if s.project(e.Path) != nil {
					return nil, fmt.Errorf("project %s: allowlist group %s is a project, not a group", ip.Path, e.Path)
				}
				s.ensureGroup(e.Path, now)
				if e.ID != 0 {
					groupIDs[strings.ToLower(e.Path)] = e.ID
				}
			}
		}
		for _, a := range ip.AuthLog {
			if s.project(a.Origin) == nil {
				if err := s.addProject(&project{path: strings.Trim(a.Origin, "/"), visibility: "private", createdAt: now}); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, p := range s.projects {
		if s.group(p.path) != nil {
			return nil, fmt.Errorf("%s is listed both as a project and as a group", p.path)
		}
		if ns := inventory.Namespace(p.path); ns != "" {
			p.ns = s.ensureGroup(ns, now)
		}
	}
	if err := s.assignIDs(wantIDs, groupIDs); err != nil {
		return nil, err
	}
	s.setGroupVisibility()
	if err := s.loadScopes(inv, now); err != nil {
		return nil, err
	}
	s.loadFiles()
	for path, logs := range jobs {
		p := s.project(path)
		if p == nil {
			return nil, fmt.Errorf("job logs for %s: no such project in the inventory", path)
		}
		p.jobs = logs
	}
	return s, nil
}

func scopeEntries(p *inventory.Project, groups bool) []inventory.Entry {
	if p.JobTokenScope == nil {
		return nil
	}
	if groups {
		return p.JobTokenScope.Allowlist.Groups
	}
	return p.JobTokenScope.Allowlist.Projects
}

func (s *state) addProject(p *project) error {
	k := strings.ToLower(p.path)
	if p.path == "" {
		return fmt.Errorf("a project has an empty path")
	}
	if _, dup := s.projByPath[k]; dup {
		return fmt.Errorf("project %s is listed twice", p.path)
	}
	s.projByPath[k] = p
	s.projects = append(s.projects, p)
	return nil
}

// ensureGroup returns the group at path, creating it and its parents.
func (s *state) ensureGroup(path string, now time.Time) *group {
	path = strings.Trim(path, "/")
	if g := s.group(path); g != nil {
		return g
	}
	g := &group{path: path, visibility: "private", createdAt: now}
	if ns := inventory.Namespace(path); ns != "" {
		g.parent = s.ensureGroup(ns, now)
	}
	s.groupByPath[strings.ToLower(path)] = g
	s.groups = append(s.groups, g)
	return g
}

// assignIDs keeps the inventory's IDs and numbers the rest after the
// highest, in path order, so that the same inventory always gets the same
// IDs.
func (s *state) assignIDs(projectIDs map[*project]int, groupIDs map[string]int) error {
	slices.SortFunc(s.projects, func(a, b *project) int { return strings.Compare(a.path, b.path) })
	slices.SortFunc(s.groups, func(a, b *group) int { return strings.Compare(a.path, b.path) })
	next := 0
	for _, p := range s.projects {
		next = max(next, projectIDs[p])
	}
	for _, p := range s.projects {
		id := projectIDs[p]
		if id == 0 {
			next++
			id = next
		}
		if other, dup := s.projByID[id]; dup {
			return fmt.Errorf("projects %s and %s both have id %d", other.path, p.path, id)
		}
		p.id = id
		s.projByID[id] = p
	}
	next = 0
	for _, id := range groupIDs {
		next = max(next, id)
	}
	for _, g := range s.groups {
		id := groupIDs[strings.ToLower(g.path)]
		if id == 0 {
			next++
			id = next
		}
		if other, dup := s.groupByID[id]; dup {
			return fmt.Errorf("groups %s and %s both have id %d", other.path, g.path, id)
		}
		g.id = id
		s.groupByID[id] = g
	}
	return nil
}

var visibilityRank = map[string]int{"private": 0, "internal": 1, "public": 2}

// setGroupVisibility makes each group as visible as its most visible
// project: GitLab refuses a project more visible than its group.
func (s *state) setGroupVisibility() {
	for _, p := range s.projects {
		for g := p.ns; g != nil; g = g.parent {
			if visibilityRank[p.visibility] > visibilityRank[g.visibility] {
				g.visibility = p.visibility
			}
		}
	}
}

func (s *state) loadScopes(inv *inventory.Inventory, now time.Time) error {
	for _, ip := range inv.Projects {
		p := s.project(ip.Path)
		if ip.JobTokenScope != nil {
			p.inboundEnabled = ip.JobTokenScope.InboundEnabled
		}
		for _, e := range scopeEntries(ip, false) {
			t := s.project(e.Path)
			if findLink(p.projectLinks, t.id) != nil {
				return fmt.Errorf("project %s: allowlist lists project %s twice", p.path, t.path)
			}
			p.projectLinks = append(p.projectLinks, entryLink(e, t.id, now))
		}
		for _, e := range scopeEntries(ip, true) {
			g := s.group(e.Path)
			if findLink(p.groupLinks, g.id) != nil {
				return fmt.Errorf("project %s: allowlist lists group %s twice", p.path, g.path)
			}
			p.groupLinks = append(p.groupLinks, entryLink(e, g.id, now))
		}
		for _, a := range ip.AuthLog {
			p.authLog = append(p.authLog, authRow{originID: s.project(a.Origin).id, at: a.LastAuthorizedAt})
		}
	}
	return nil
}

func entryLink(e inventory.Entry, target int, now time.Time) *link {
	pol := normPolicies(e.Policies)
	return &link{targetID: target, defaultPermissions: len(pol) == 0, policies: pol, autopopulated: e.Autopopulated, addedBy: "root", createdAt: now}
}

func (s *state) loadFiles() {
	if s.files == nil {
		return
	}
	for _, p := range s.projects {
		if !s.files.HasFiles(p.path) {
			p.defaultBranch = ""
			continue
		}
		list, err := s.files.Glob(p.path, "**")
		if err != nil || len(list) == 0 {
			p.defaultBranch = ""
			continue
		}
		p.files = list
		p.defaultBranch = cmp.Or(p.defaultBranch, "main")
	}
}

func (s *state) project(path string) *project {
	return s.projByPath[strings.ToLower(strings.Trim(path, "/"))]
}

// recordAuth is Ci::JobToken::Authorization.capture: one row per origin
// project with the time of its last authorization
// (app/models/ci/job_token/authorization.rb upserts on
// origin_project_id and accessed_project_id).
func (s *state) recordAuth(target, origin *project, at time.Time) {
	for i := range target.authLog {
		if target.authLog[i].originID == origin.id {
			target.authLog[i].at = at
			return
		}
	}
	target.authLog = append(target.authLog, authRow{originID: origin.id, at: at})
}

func (s *state) group(path string) *group {
	return s.groupByPath[strings.ToLower(strings.Trim(path, "/"))]
}

// findLink returns the link of links to target, nil when there is none.
func findLink(links []*link, target int) *link {
	for _, l := range links {
		if l.targetID == target {
			return l
		}
	}
	return nil
}

// projectsUnder returns the projects of g, with subgroups or not, in path
// order.
func (s *state) projectsUnder(g *group, subgroups bool) []*project {
	var out []*project
	for _, p := range s.projects {
		if p.ns == g || subgroups && p.ns != nil && isUnder(p.ns.path, g.path) {
			out = append(out, p)
		}
	}
	return out
}

// subgroups returns the direct (or all) subgroups of g in path order.
func (s *state) subgroups(g *group, all bool) []*group {
	var out []*group
	for _, c := range s.groups {
		if c.parent == g || all && c != g && isUnder(c.path, g.path) {
			out = append(out, c)
		}
	}
	return out
}

func isUnder(path, ancestor string) bool {
	return len(path) > len(ancestor) && path[len(ancestor)] == '/' && strings.EqualFold(path[:len(ancestor)], ancestor)
}

// export returns the current org as an inventory, canonical order.
func (s *state) export(b behaviour) *inventory.Inventory {
	s.mu.RLock()
	defer s.mu.RUnlock()
	enforce := s.enforce
	inv := &inventory.Inventory{
		Version: inventory.Version, ServerURL: s.serverID, Registry: s.registry,
		GitLabVersion: b.versionText, InstanceEnforcesAllowlist: &enforce,
	}
	for _, g := range s.groups {
		inv.Groups = append(inv.Groups, inventory.Group{Path: g.path, ID: g.id})
	}
	for _, p := range s.projects {
		ip := &inventory.Project{
			Path: p.path, ID: p.id, Visibility: p.visibility, DefaultBranch: p.defaultBranch,
			CIConfigPath: p.ciConfigPath, Archived: p.archived,
			JobTokenScope: &inventory.JobTokenScope{InboundEnabled: p.inboundEnabled},
		}
		for _, l := range p.projectLinks {
			ip.JobTokenScope.Allowlist.Projects = append(ip.JobTokenScope.Allowlist.Projects, s.exportEntry(l, s.projByID[l.targetID].path, b))
		}
		for _, l := range p.groupLinks {
			ip.JobTokenScope.Allowlist.Groups = append(ip.JobTokenScope.Allowlist.Groups, s.exportEntry(l, s.groupByID[l.targetID].path, b))
		}
		for _, a := range p.authLog {
			ip.AuthLog = append(ip.AuthLog, inventory.AuthLogEntry{Origin: s.projByID[a.originID].path, LastAuthorizedAt: a.at})
		}
		inv.Projects = append(inv.Projects, ip)
	}
	return inv.Canonical()
}

// exportEntry writes a link the way the inventory means it: policies only
// for fine-grained entries on a version that honours them.
func (s *state) exportEntry(l *link, path string, b behaviour) inventory.Entry {
	e := inventory.Entry{Path: path, ID: l.targetID, Autopopulated: l.autopopulated}
	if !l.defaultPermissions && b.policies {
		e.Policies = slices.Clone(l.policies)
	}
	return e
}
