package inventory

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// FileName is the name of the inventory file at the root of a snapshot
// directory.
const FileName = "inventory.yaml"

// Version is the inventory format version this package reads and writes.
const Version = 1

// Inventory is the org model: the server, its groups and projects, and for
// each project its job token settings and authentication log. It is the
// content of inventory.yaml (docs/design.md §4). Every field but Version and the
// projects' Path is optional.
type Inventory struct {
	Version       int    `yaml:"version"`
	ServerURL     string `yaml:"server_url,omitempty"`
	Registry      string `yaml:"registry,omitempty"` // CI_REGISTRY: host[:port]
	GitLabVersion string `yaml:"gitlab_version,omitempty"`
	// InstanceEnforcesAllowlist mirrors the admin setting "Enable and
	// enforce job token allowlist for all projects"
	// (enforce_ci_inbound_job_token_scope_enabled, 17.6+, on by default from
	// 18.0 on self-managed). Nil when unknown.
	InstanceEnforcesAllowlist *bool      `yaml:"instance_enforces_allowlist,omitempty"`
	Groups                    []Group    `yaml:"groups,omitempty"`
	Projects                  []*Project `yaml:"projects,omitempty"`
}

// Group is a group or subgroup.
type Group struct {
	Path string `yaml:"path"`
	ID   int    `yaml:"id,omitempty"`
}

// Project is one project of the org.
type Project struct {
	Path          string `yaml:"path"`
	ID            int    `yaml:"id,omitempty"`
	Visibility    string `yaml:"visibility,omitempty"` // private | internal | public
	DefaultBranch string `yaml:"default_branch,omitempty"`
	// CIConfigPath is the project's CI/CD configuration file when it is not
	// .gitlab-ci.yml.
	CIConfigPath  string         `yaml:"ci_config_path,omitempty"`
	Archived      bool           `yaml:"archived,omitempty"`
	JobTokenScope *JobTokenScope `yaml:"job_token_scope,omitempty"`
	// JobTokenScopeUnknown records that the job token settings and
	// allowlist were asked for and could not be read: GitLab answers
	// GET /projects/:id/job_token_scope and the allowlist routes only to
	// Maintainers (https://docs.gitlab.com/api/project_job_token_scopes/),
	// so a lower role gets 403/404. The current state is then unknown, not
	// empty; a hand-written inventory that just omits job_token_scope
	// means "nothing configured" as before.
	JobTokenScopeUnknown bool           `yaml:"job_token_scope_unknown,omitempty"`
	AuthLog              []AuthLogEntry `yaml:"auth_log,omitempty"`
}

// StateUnknown reports whether the project's job token settings and
// allowlist could not be read (see JobTokenScopeUnknown).
func (p *Project) StateUnknown() bool { return p.JobTokenScopeUnknown && p.JobTokenScope == nil }

// JobTokenScope is a project's inbound job token settings. Nil on a Project
// means none was recorded: nothing configured in a hand-written inventory,
// or, with Project.JobTokenScopeUnknown, that the reader lacked Maintainer.
type JobTokenScope struct {
	// InboundEnabled is "Limit access to this project": when false, any
	// project's job token may come in (the legacy behaviour).
	InboundEnabled bool      `yaml:"inbound_enabled"`
	Allowlist      Allowlist `yaml:"allowlist"`
}

// Allowlist holds the inbound allowlist entries.
type Allowlist struct {
	Projects []Entry `yaml:"projects,omitempty"`
	Groups   []Entry `yaml:"groups,omitempty"`
}

// Entry is one allowlist entry: a project or group whose job tokens may
// come in. No Policies means default permissions.
type Entry struct {
	Path          string   `yaml:"path"`
	ID            int      `yaml:"id,omitempty"`
	Policies      []string `yaml:"policies,omitempty,flow"`
	Autopopulated bool     `yaml:"autopopulated,omitempty"`
}

// AuthLogEntry is one row of the job token authentication log: the origin
// project's jobs authenticated to this project, last at LastAuthorizedAt.
type AuthLogEntry struct {
	Origin           string    `yaml:"origin"`
	LastAuthorizedAt time.Time `yaml:"last_authorized_at"`
}

// Parse reads an inventory. name is used in errors and diagnostics.
// Unknown fields are errors: a typo in a reviewed file must not be
// silently ignored. A file that does not parse, or of another version, is
// an error; a bad entry (a path or ID GitLab does not allow, a duplicate)
// is an error diagnostic naming name:line, and the entry is skipped
// (validate), so that one bad project never stops the rest.
func Parse(name string, data []byte) (*Inventory, diag.List, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var inv Inventory
	if err := dec.Decode(&inv); err != nil {
		if errors.Is(err, errEOF) || strings.TrimSpace(string(data)) == "" {
			return nil, nil, fmt.Errorf("%s: empty file; expected at least \"version: %d\"", name, Version)
		}
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if inv.Version != Version {
		return nil, nil, fmt.Errorf("%s: version %d is not supported (this tokenscope reads version %d)", name, inv.Version, Version)
	}
	if err := CheckServerURL(inv.ServerURL); err != nil {
		return nil, nil, fmt.Errorf("%s: server_url: %w", name, err)
	}
	// The lines of the entries come from the same bytes decoded again as
	// a tree (the strict decode above cannot give them, and a node's
	// Decode does not refuse unknown fields), only when a diagnostic needs
	// one: that decode costs a third of the parse.
	var l *lines
	getLines := func() lines {
		if l == nil {
			var doc yaml.Node
			_ = yaml.Unmarshal(data, &doc)
			ll := itemLines(&doc)
			l = &ll
		}
		return *l
	}
	return &inv, validate(&inv, name, getLines), nil
}

var errEOF = errors.New("EOF")

// Marshal renders the inventory in its canonical form: projects, groups,
// allowlist entries and auth log rows sorted, so that two snapshots of the
// same org diff cleanly.
func (inv *Inventory) Marshal() ([]byte, error) {
	c := inv.Canonical()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Canonical returns a sorted deep copy of the inventory.
func (inv *Inventory) Canonical() *Inventory {
	c := *inv
	c.Version = Version
	c.Groups = slices.Clone(inv.Groups)
	slices.SortFunc(c.Groups, func(a, b Group) int { return cmp.Compare(a.Path, b.Path) })
	c.Projects = make([]*Project, len(inv.Projects))
	for i, p := range inv.Projects {
		q := *p
		if p.JobTokenScope != nil {
			s := *p.JobTokenScope
			s.Allowlist.Projects = sortEntries(s.Allowlist.Projects)
			s.Allowlist.Groups = sortEntries(s.Allowlist.Groups)
			q.JobTokenScope = &s
		}
		q.AuthLog = slices.Clone(p.AuthLog)
		slices.SortFunc(q.AuthLog, func(a, b AuthLogEntry) int { return cmp.Compare(a.Origin, b.Origin) })
		c.Projects[i] = &q
	}
	slices.SortFunc(c.Projects, func(a, b *Project) int { return cmp.Compare(a.Path, b.Path) })
	return &c
}

func sortEntries(es []Entry) []Entry {
	es = slices.Clone(es)
	for i := range es {
		es[i].Policies = slices.Clone(es[i].Policies)
		slices.Sort(es[i].Policies)
	}
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(a.Path, b.Path) })
	return es
}
