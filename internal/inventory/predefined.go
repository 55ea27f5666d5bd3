package inventory

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/redact"
)

// JobToken is the value tokenscope gives CI_JOB_TOKEN and its aliases
// during analysis: a marker, never a real token, so a word that contains
// it after expansion carries the job token. It is redact.JobToken, which
// redact masks in every text tokenscope echoes.
const JobToken = redact.JobToken

// SelfID stands for CI_PROJECT_ID when the inventory does not know the
// project's numeric ID; it resolves to the job's own project.
const SelfID = "__CI_PROJECT_ID__"

// JobTokenUser is the user name GitLab expects with a job token over basic
// auth (git over HTTP, registries, package endpoints).
const JobTokenUser = "gitlab-ci-token"

// JobTokenVariables are the predefined variables whose value is the job
// token itself.
var JobTokenVariables = []string{"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPENDENCY_PROXY_PASSWORD"}

// Server describes the GitLab instance as CI jobs see it.
type Server struct {
	URL      string // CI_SERVER_URL, e.g. https://gitlab.example.com or https://h:8443
	Protocol string // http | https
	Host     string // host without port
	Port     string // port, defaulted from the protocol
	FQDN     string // host, with :port when not the protocol's default
	Registry string // CI_REGISTRY, host[:port]; "" when unknown
}

// DefaultServerURL is used when neither the inventory nor --server-url
// names the server; references to other hosts then stay unresolved.
const DefaultServerURL = "https://gitlab.example.com"

// Server derives the server description from the inventory.
func (inv *Inventory) Server() (Server, error) {
	raw := inv.ServerURL
	if raw == "" {
		raw = DefaultServerURL
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Server{}, fmt.Errorf("server_url %q is not an http(s) URL like https://gitlab.example.com", raw)
	}
	s := Server{Protocol: u.Scheme, Host: u.Hostname(), Port: u.Port()}
	if s.Port == "" {
		s.Port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	s.FQDN = s.Host
	if (u.Scheme == "https" && s.Port != "443") || (u.Scheme == "http" && s.Port != "80") {
		s.FQDN = s.Host + ":" + s.Port
	}
	s.URL = u.Scheme + "://" + s.FQDN + strings.TrimRight(u.Path, "/")
	s.Registry = inv.Registry
	if s.Registry == "" && s.Host == "gitlab.com" {
		// GitLab.com's container registry is registry.gitlab.com
		// (https://docs.gitlab.com/user/packages/container_registry/).
		s.Registry = "registry.gitlab.com"
	}
	return s, nil
}

// Predefined returns the predefined CI/CD variables a job of project p
// sees, as far as they matter for finding job-token use (URL building and
// the token and its aliases). Values follow GitLab's app/models/project.rb
// and ci/build.rb (https://docs.gitlab.com/ci/variables/predefined_variables/).
func Predefined(s Server, p *Project) map[string]string {
	ns := Namespace(p.Path)
	root := p.Path
	if i := strings.IndexByte(root, '/'); i >= 0 {
		root = root[:i]
	}
	name := Name(p.Path)
	branch := p.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	cfg := p.CIConfigPath
	if cfg == "" {
		cfg = ".gitlab-ci.yml"
	}
	v := map[string]string{
		"CI":                                     "true",
		"GITLAB_CI":                              "true",
		"CI_SERVER":                              "yes",
		"CI_SERVER_URL":                          s.URL,
		"CI_SERVER_HOST":                         s.Host,
		"CI_SERVER_PORT":                         s.Port,
		"CI_SERVER_PROTOCOL":                     s.Protocol,
		"CI_SERVER_FQDN":                         s.FQDN,
		"CI_API_V4_URL":                          s.URL + "/api/v4",
		"CI_API_GRAPHQL_URL":                     s.URL + "/api/graphql",
		"CI_PROJECT_PATH":                        p.Path,
		"CI_PROJECT_NAMESPACE":                   ns,
		"CI_PROJECT_ROOT_NAMESPACE":              root,
		"CI_PROJECT_NAME":                        name,
		"CI_PROJECT_TITLE":                       name,
		"CI_PROJECT_PATH_SLUG":                   slug(p.Path),
		"CI_PROJECT_URL":                         s.URL + "/" + p.Path,
		"CI_PROJECT_DIR":                         "/builds/" + p.Path,
		"CI_BUILDS_DIR":                          "/builds",
		"CI_PROJECT_VISIBILITY":                  p.Visibility,
		"CI_DEFAULT_BRANCH":                      branch,
		"CI_CONFIG_PATH":                         cfg,
		"CI_JOB_TOKEN":                           JobToken,
		"CI_REGISTRY_USER":                       JobTokenUser,
		"CI_REGISTRY_PASSWORD":                   JobToken,
		"CI_DEPENDENCY_PROXY_USER":               JobTokenUser,
		"CI_DEPENDENCY_PROXY_PASSWORD":           JobToken,
		"CI_DEPENDENCY_PROXY_SERVER":             s.FQDN,
		"CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX": s.FQDN + "/" + strings.ToLower(root) + "/dependency_proxy/containers",
		"CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX": s.FQDN + "/" + strings.ToLower(ns) + "/dependency_proxy/containers",
		"CI_REPOSITORY_URL":                             fmt.Sprintf("%s://%s:%s@%s/%s.git", s.Protocol, JobTokenUser, JobToken, s.FQDN, p.Path),
		"CI_TEMPLATE_REGISTRY_HOST":                     "registry.gitlab.com",
	}
	v["CI_PROJECT_ID"] = SelfID
	if p.ID != 0 {
		v["CI_PROJECT_ID"] = strconv.Itoa(p.ID)
	}
	if s.Registry != "" {
		v["CI_REGISTRY"] = s.Registry
		v["CI_REGISTRY_IMAGE"] = s.Registry + "/" + strings.ToLower(p.Path)
	}
	return v
}

func slug(p string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(p) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}
