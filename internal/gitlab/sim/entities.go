package sim

import (
	"net/http"
	"strings"
	"time"
)

// JSON shapes of GitLab's Grape entities (lib/api/entities/*.rb), the
// fields client-go decodes. Field order follows GitLab's.

type namespaceJSON struct {
	ID        int     `json:"id"`
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Kind      string  `json:"kind"`
	FullPath  string  `json:"full_path"`
	ParentID  *int    `json:"parent_id"`
	AvatarURL *string `json:"avatar_url"`
	WebURL    string  `json:"web_url"`
}

// basicProjectJSON is Entities::BasicProjectDetails (simple=true lists,
// the job token allowlist).
type basicProjectJSON struct {
	ID                int           `json:"id"`
	Description       *string       `json:"description"`
	Name              string        `json:"name"`
	NameWithNamespace string        `json:"name_with_namespace"`
	Path              string        `json:"path"`
	PathWithNamespace string        `json:"path_with_namespace"`
	CreatedAt         string        `json:"created_at"`
	DefaultBranch     *string       `json:"default_branch"`
	TagList           []string      `json:"tag_list"`
	Topics            []string      `json:"topics"`
	SSHURLToRepo      string        `json:"ssh_url_to_repo"`
	HTTPURLToRepo     string        `json:"http_url_to_repo"`
	WebURL            string        `json:"web_url"`
	ReadmeURL         *string       `json:"readme_url"`
	ForksCount        int           `json:"forks_count"`
	AvatarURL         *string       `json:"avatar_url"`
	StarCount         int           `json:"star_count"`
	LastActivityAt    string        `json:"last_activity_at"`
	Namespace         namespaceJSON `json:"namespace"`
}

// projectJSON is Entities::Project (full project lists and GET /projects/:id).
type projectJSON struct {
	basicProjectJSON
	Visibility                   string           `json:"visibility"`
	EmptyRepo                    bool             `json:"empty_repo"`
	Archived                     bool             `json:"archived"`
	JobsEnabled                  bool             `json:"jobs_enabled"`
	CIConfigPath                 *string          `json:"ci_config_path"`
	CIJobTokenPush               bool             `json:"ci_push_repository_for_job_token_allowed"`
	ContainerRegistryImagePrefix string           `json:"container_registry_image_prefix,omitempty"`
	Permissions                  *permissionsJSON `json:"permissions,omitempty"`
}

type accessJSON struct {
	AccessLevel       int `json:"access_level"`
	NotificationLevel int `json:"notification_level"`
}

type permissionsJSON struct {
	ProjectAccess *accessJSON `json:"project_access"`
	GroupAccess   *accessJSON `json:"group_access"`
}

type groupJSON struct {
	ID             int           `json:"id"`
	WebURL         string        `json:"web_url"`
	Name           string        `json:"name"`
	Path           string        `json:"path"`
	Description    string        `json:"description"`
	Visibility     string        `json:"visibility"`
	FullName       string        `json:"full_name"`
	FullPath       string        `json:"full_path"`
	CreatedAt      string        `json:"created_at"`
	ParentID       *int          `json:"parent_id"`
	AvatarURL      *string       `json:"avatar_url"`
	Projects       []projectJSON `json:"projects,omitempty"`
	SharedProjects []projectJSON `json:"shared_projects,omitempty"`
}

// basicGroupJSON is Entities::BasicGroupDetails (groups allowlist).
type basicGroupJSON struct {
	ID     int    `json:"id"`
	WebURL string `json:"web_url"`
	Name   string `json:"name"`
}

// gitlabTime is the format of GitLab's API timestamps.
func gitlabTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// baseURL is GitLab's external_url, from which it builds every web_url:
// Options.ExternalURL, else the inventory's server_url, else the URL the
// client used to reach the simulator.
func (s *Server) baseURL(r *http.Request) string {
	if s.externalURL != "" {
		return s.externalURL
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *state) namespaceOf(base string, p *project) namespaceJSON {
	if p.ns == nil {
		owner := strings.SplitN(p.path, "/", 2)[0]
		return namespaceJSON{ID: p.id, Name: owner, Path: owner, Kind: "user", FullPath: owner, WebURL: base + "/" + owner}
	}
	g := p.ns
	n := namespaceJSON{ID: g.id, Name: g.name(), Path: g.name(), Kind: "group", FullPath: g.path, WebURL: base + "/groups/" + g.path}
	if g.parent != nil {
		id := g.parent.id
		n.ParentID = &id
	}
	return n
}

func (s *state) basicProject(base string, p *project) basicProjectJSON {
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	b := basicProjectJSON{
		ID: p.id, Name: p.name(), NameWithNamespace: fullName(p.path), Path: p.name(), PathWithNamespace: p.path,
		CreatedAt: gitlabTime(p.createdAt), TagList: []string{}, Topics: []string{},
		SSHURLToRepo: "git@" + host + ":" + p.path + ".git", HTTPURLToRepo: base + "/" + p.path + ".git",
		WebURL: base + "/" + p.path, LastActivityAt: gitlabTime(p.createdAt), Namespace: s.namespaceOf(base, p),
	}
	if p.defaultBranch != "" {
		br := p.defaultBranch
		b.DefaultBranch = &br
		if p.hasFile("README.md") {
			readme := base + "/" + p.path + "/-/blob/" + br + "/README.md"
			b.ReadmeURL = &readme
		}
	}
	return b
}

func (s *state) fullProject(base string, p *project) projectJSON {
	j := projectJSON{
		basicProjectJSON: s.basicProject(base, p), Visibility: p.visibility, EmptyRepo: p.files == nil,
		Archived: p.archived, JobsEnabled: true, CIJobTokenPush: p.pushAllowed,
	}
	if s.registry != "" {
		// GitLab sends the project's registry prefix when the registry is
		// on: host[:port]/full path, lower case.
		j.ContainerRegistryImagePrefix = s.registry + "/" + strings.ToLower(p.path)
	}
	if p.ciConfigPath != "" {
		c := p.ciConfigPath
		j.CIConfigPath = &c
	}
	return j
}

func (s *state) groupEntity(base string, g *group) groupJSON {
	j := groupJSON{
		ID: g.id, WebURL: base + "/groups/" + g.path, Name: g.name(), Path: g.name(), Visibility: g.visibility,
		FullName: fullName(g.path), FullPath: g.path, CreatedAt: gitlabTime(g.createdAt),
	}
	if g.parent != nil {
		id := g.parent.id
		j.ParentID = &id
	}
	return j
}

// fullName is GitLab's "Parent / Child" naming; names are the paths here.
func fullName(path string) string { return strings.ReplaceAll(path, "/", " / ") }
