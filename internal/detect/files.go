package detect

import (
	"path"
	"strings"
)

// RepoFile declares repository files the detectors read on their own,
// outside any job's commands: submodules, container builds and
// package-manager configuration. A live snapshot fetches every file of a
// repository's tree that matches one up front (package live), instead of
// waiting for a round of discovery to ask for each.
type RepoFile struct {
	Family string // the detector family whose configuration it is
	// Pattern is a path.Match pattern over the file's base name.
	Pattern string
	// Exact: matched as written; otherwise case-insensitively (Pattern is
	// lower case).
	Exact bool
}

// repoFiles is the one declaration of what the detectors read in a
// repository. Git submodules:
// https://docs.gitlab.com/ci/runners/git_submodules/; npm, pip, Maven,
// Gradle, NuGet, Composer, Helm and Terraform configuration pointing at
// the package registry or Terraform state:
// https://docs.gitlab.com/user/packages/package_registry/; manifests
// whose git dependencies are cloned (go.mod, pyproject.toml, Pipfile,
// package.json) and whose package names tie a group-scoped endpoint to
// its publisher (composer.json, .csproj, .nuspec);
// container builds: https://docs.gitlab.com/user/packages/container_registry/.
var repoFiles = []RepoFile{
	{Family: "submodule", Pattern: ".gitmodules"},
	{Family: "npm", Pattern: ".npmrc"},
	{Family: "npm", Pattern: ".yarnrc"},
	{Family: "npm", Pattern: ".yarnrc.yml"},
	{Family: "pip", Pattern: "pip.conf"},
	{Family: "pip", Pattern: "pip.ini"},
	{Family: "pip", Pattern: ".pypirc"},
	{Family: "pip", Pattern: "requirements*.txt"},
	{Family: "maven", Pattern: "settings.xml"},
	{Family: "maven", Pattern: "ci_settings.xml"},
	{Family: "maven", Pattern: "pom.xml"},
	{Family: "helm", Pattern: "chart.yaml"},
	{Family: "helm", Pattern: "requirements.yaml"},
	{Family: "terraform", Pattern: ".terraformrc"},
	{Family: "terraform", Pattern: "terraform.rc"},
	{Family: "nuget", Pattern: "nuget.config"},
	{Family: "composer", Pattern: "composer.json"},
	{Family: "composer", Pattern: "auth.json"},
	{Family: "nuget", Pattern: "*.csproj"},
	{Family: "nuget", Pattern: "*.fsproj"},
	{Family: "nuget", Pattern: "*.nuspec"},
	{Family: "nuget", Pattern: "directory.packages.props"},
	{Family: "maven", Pattern: "build.gradle"},
	{Family: "maven", Pattern: "build.gradle.kts"},
	{Family: "maven", Pattern: "settings.gradle"},
	{Family: "maven", Pattern: "settings.gradle.kts"},
	{Family: "terraform", Pattern: "*.tf"},
	{Family: "git", Pattern: "go.mod"},
	{Family: "git", Pattern: "pyproject.toml"},
	{Family: "git", Pattern: "pipfile"},
	{Family: "git", Pattern: "package.json"},
	{Family: "make", Pattern: "makefile"}, {Family: "make", Pattern: "gnumakefile"}, {Family: "make", Pattern: "*.mk"}, // make TARGET recipes (internal/shell/make.go)
	// Dockerfile, Dockerfile.prod: the capital D as docker build's default
	// name spells it.
	{Family: "dockerfile", Pattern: "Dockerfile*", Exact: true},
	{Family: "dockerfile", Pattern: "*.dockerfile"},
	{Family: "dockerfile", Pattern: "containerfile*"},
}

// vendoredDirs hold other people's configuration: files below them are
// not the project's own.
var vendoredDirs = map[string]bool{"node_modules": true, "vendor": true, "third_party": true, ".git": true}

// RepoFiles returns the declaration of the repository files the detectors
// read on their own.
func RepoFiles() []RepoFile { return append([]RepoFile(nil), repoFiles...) }

// IsRepoFile reports whether the repository file p (a slash path relative
// to the repository root) is one RepoFiles declares, outside vendored
// folders.
func IsRepoFile(p string) bool {
	for _, d := range strings.Split(path.Dir(p), "/") {
		if vendoredDirs[d] {
			return false
		}
	}
	base := path.Base(p)
	lower := strings.ToLower(base)
	for _, f := range repoFiles {
		name := lower
		if f.Exact {
			name = base
		}
		if ok, _ := path.Match(f.Pattern, name); ok {
			return true
		}
	}
	return false
}
