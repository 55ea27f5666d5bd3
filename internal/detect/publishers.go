package detect

import (
	"encoding/json"
	"encoding/xml"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Group-scoped package endpoints (…/groups/<id>/-/packages/…, Composer's
// …/group/<id>/-/packages/composer/, the Terraform module registry's
// namespace) serve the packages of every project in the group; GitLab
// picks the project by package name
// (https://docs.gitlab.com/user/packages/package_registry/supported_functionality/,
// "Pulling packages"). A job token reading one needs the allowlist of the
// project that publishes the package, so when the snapshot shows which
// project under the group publishes a package the caller installs, that
// project is the callee. Otherwise the use stays group-scoped (graph
// reports it unresolved, as before).
//
// What a project publishes is read from its own manifests: composer.json
// "name" (GitLab's Composer registry names the package so:
// https://docs.gitlab.com/user/packages/composer_repository/), package.json
// "name" (npm), <PackageId> of its .csproj files or <id> of .nuspec files
// (NuGet), pom.xml or Gradle coordinates (Maven, below), and for Terraform modules a CI configuration that publishes
// to …/packages/terraform/modules/ (GitLab's Terraform-Module template
// publishes ${TERRAFORM_MODULE_NAME:-$CI_PROJECT_NAME}/${TERRAFORM_MODULE_SYSTEM:-local}:
// https://docs.gitlab.com/user/packages/terraform_module_registry/).

// maxPublisherFiles bounds the .csproj/.nuspec files read per project.
const maxPublisherFiles = 50

// ResolvePublishers turns group-scoped uses (and npm instance-level uses
// of a scope) whose Target.Packages names a package that projects under
// the group publish in the snapshot into uses of those projects; other
// uses are returned unchanged, in order.
func ResolvePublishers(ix *inventory.Index, files inventory.Files, uses []use.Use) []use.Use {
	var out []use.Use
	cache := map[string]map[string]bool{}
	for _, u := range uses {
		if u.Target.Kind != use.Group && u.Target.Kind != use.Instance || u.Target.Packages == "" || u.Target.Reason != "" {
			out = append(out, u)
			continue
		}
		group := u.Target.Value
		if u.Target.Kind == use.Instance {
			// npm's instance endpoint serves @<root namespace>/<name>
			// packages (https://docs.gitlab.com/user/packages/npm_registry/,
			// "Naming convention"): the scope names the group.
			group = npmScopeGroup(strings.Fields(u.Target.Packages)[0])
			if group == "" {
				out = append(out, u)
				continue
			}
		}
		if id, err := strconv.Atoi(group); err == nil {
			g, ok := ix.GroupByID(id)
			if !ok {
				out = append(out, u)
				continue
			}
			group = g.Path
		}
		found := map[string][]string{} // project -> packages it publishes
		for _, p := range ix.ProjectsUnder(group) {
			if !files.HasFiles(p.Path) {
				continue
			}
			pub, ok := cache[p.Path]
			if !ok {
				pub = publishedPackages(files, p.Path)
				cache[p.Path] = pub
			}
			for _, pkg := range strings.Fields(u.Target.Packages) {
				if pub[strings.ToLower(pkg)] {
					found[p.Path] = append(found[p.Path], pkg)
				}
			}
		}
		if len(found) == 0 {
			out = append(out, u)
			continue
		}
		projects := make([]string, 0, len(found))
		for p := range found {
			projects = append(projects, p)
		}
		sort.Strings(projects)
		for _, p := range projects {
			r := u
			r.Target = use.Target{Kind: use.Path, Value: p, Reference: u.Target.Reference}
			r.Evidence.Detail = Detail(u.Evidence.Detail + " [group " + group + ": " + p + " publishes " + strings.Join(found[p], ", ") + "]")
			out = append(out, r)
		}
	}
	return out
}

var (
	tfModuleNameRE   = regexp.MustCompile(`TERRAFORM_MODULE_NAME\s*:\s*["']?([A-Za-z0-9_.-]+)["']?\s*$`)
	tfModuleSystemRE = regexp.MustCompile(`TERRAFORM_MODULE_SYSTEM\s*:\s*["']?([A-Za-z0-9_.-]+)["']?\s*$`)
	tfModulePutRE    = regexp.MustCompile(`packages/terraform/modules/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/`)
)

// publishedPackages lists the packages a project's manifests say it
// publishes, as lower-case "format:name".
func publishedPackages(files inventory.Files, project string) map[string]bool {
	out := map[string]bool{}
	read := func(name string) (string, bool) {
		b, err := files.ReadFile(project, name)
		return string(b), err == nil
	}
	var manifest struct {
		Name string `json:"name"`
	}
	if text, ok := read("composer.json"); ok && json.Unmarshal([]byte(text), &manifest) == nil && manifest.Name != "" {
		out["composer:"+strings.ToLower(manifest.Name)] = true
	}
	manifest.Name = ""
	if text, ok := read("package.json"); ok && json.Unmarshal([]byte(text), &manifest) == nil && manifest.Name != "" {
		out["npm:"+strings.ToLower(manifest.Name)] = true
	}
	for _, pat := range []string{"*.csproj", "*.nuspec", "**/*.csproj", "**/*.nuspec"} {
		names, _ := files.Glob(project, pat)
		if len(names) > maxPublisherFiles {
			names = names[:maxPublisherFiles]
		}
		for _, n := range names {
			if text, ok := read(n); ok {
				if id := nugetPackageID(n, text); id != "" {
					out["nuget:"+strings.ToLower(id)] = true
				}
			}
		}
	}
	mavenPublished(read, project, out)
	pyPublished(read, out)
	if text, ok := read(".gitlab-ci.yml"); ok && (strings.Contains(text, "packages/terraform/modules/") || strings.Contains(text, "Terraform-Module.gitlab-ci.yml") || strings.Contains(text, "terraform-module")) {
		name, system := inventory.Name(project), "local"
		for _, line := range strings.Split(text, "\n") {
			if m := tfModuleNameRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				name = m[1]
			}
			if m := tfModuleSystemRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				system = m[1]
			}
		}
		out["terraform:"+strings.ToLower(name+"/"+system)] = true
		for _, m := range tfModulePutRE.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(m[1], "$") && !strings.Contains(m[2], "$") {
				out["terraform:"+strings.ToLower(m[1]+"/"+m[2])] = true
			}
		}
	}
	return out
}

// nugetPackageID is the package ID a .csproj (<PackageId>, else the file
// name, as dotnet pack does) or .nuspec (<id>) declares.
func nugetPackageID(name, text string) string {
	var doc struct {
		PackageID []string `xml:"PropertyGroup>PackageId"`
		Metadata  struct {
			ID string `xml:"id"`
		} `xml:"metadata"`
	}
	if xml.Unmarshal([]byte(text), &doc) != nil {
		return ""
	}
	if strings.HasSuffix(name, ".nuspec") {
		return strings.TrimSpace(doc.Metadata.ID)
	}
	for _, id := range doc.PackageID {
		if id = strings.TrimSpace(id); id != "" && !strings.Contains(id, "$(") {
			return id
		}
	}
	return strings.TrimSuffix(path.Base(name), ".csproj")
}

// requiredPackages reads the package names a caller's manifests install,
// as "format:name": composer.json require and require-dev, PackageReference
// of .csproj files and Directory.Packages.props.
func requiredPackages(format, text string) []string {
	var out []string
	switch format {
	case "composer":
		var doc struct {
			Require    map[string]json.RawMessage `json:"require"`
			RequireDev map[string]json.RawMessage `json:"require-dev"`
		}
		if json.Unmarshal([]byte(text), &doc) != nil {
			return nil
		}
		for _, m := range []map[string]json.RawMessage{doc.Require, doc.RequireDev} {
			for k := range m {
				if strings.Contains(k, "/") { // php, ext-json are platform packages
					out = append(out, "composer:"+strings.ToLower(k))
				}
			}
		}
	case "nuget":
		var doc struct {
			Refs []struct {
				Include string `xml:"Include,attr"`
			} `xml:"ItemGroup>PackageReference"`
			Versions []struct {
				Include string `xml:"Include,attr"`
			} `xml:"ItemGroup>PackageVersion"`
		}
		if xml.Unmarshal([]byte(text), &doc) != nil {
			return nil
		}
		for _, r := range append(doc.Refs, doc.Versions...) {
			if r.Include != "" {
				out = append(out, "nuget:"+strings.ToLower(r.Include))
			}
		}
	}
	sort.Strings(out)
	return out
}

// ---- Maven and Gradle ----------------------------------------------------------

// GitLab's Maven registry names a package by its path, groupId with dots
// as slashes plus artifactId, and the group endpoint finds it across the
// group's projects (https://docs.gitlab.com/user/packages/maven_repository/,
// "Naming convention"). Here both are kept as "maven:<groupId>/<artifactId>".

// mavenPOM is what a pom.xml says about its own coordinates and the
// artifacts it uses.
type mavenPOM struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Parent     struct {
		GroupID string `xml:"groupId"`
	} `xml:"parent"`
	Deps    []mavenDep `xml:"dependencies>dependency"`
	Managed []mavenDep `xml:"dependencyManagement>dependencies>dependency"`
	Plugins []mavenDep `xml:"build>plugins>plugin"`
}

type mavenDep struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
}

func mavenPkg(g, a string) string {
	g, a = strings.TrimSpace(g), strings.TrimSpace(a)
	if g == "" || a == "" || strings.Contains(g+a, "${") {
		return ""
	}
	return "maven:" + strings.ToLower(g+"/"+a)
}

var (
	// gradleDepRE matches "group:artifact[:version]" given to a
	// dependency configuration or classpath.
	gradleDepRE = regexp.MustCompile(`\b(?:implementation|api|compileOnly|runtimeOnly|testImplementation|testRuntimeOnly|annotationProcessor|kapt|ksp|classpath|compile|testCompile)\s*\(?\s*["']([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-]+)`)
	// catalogModuleRE and catalogGroupRE read gradle/libs.versions.toml.
	catalogModuleRE = regexp.MustCompile(`module\s*=\s*["']([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-]+)["']`)
	catalogGroupRE  = regexp.MustCompile(`group\s*=\s*["']([A-Za-z0-9_.\-]+)["']\s*,\s*name\s*=\s*["']([A-Za-z0-9_.\-]+)["']`)
	gradleGroupRE   = regexp.MustCompile(`(?m)^\s*group\s*=\s*["']([A-Za-z0-9_.\-]+)["']`)
	gradleRootRE    = regexp.MustCompile(`rootProject\.name\s*=\s*["']([A-Za-z0-9_.\-]+)["']`)
	gradleArtRE     = regexp.MustCompile(`\bartifactId\s*=\s*["']([A-Za-z0-9_.\-]+)["']`)
)

// mavenRequires lists, space-separated, the Maven packages a pom.xml (of
// the caller, path rel) or the Gradle build in folder dir uses.
func (in *Input) mavenRequires(kind, rel string) string {
	var pkgs []string
	add := func(p string) {
		if p != "" {
			pkgs = append(pkgs, p)
		}
	}
	switch kind {
	case "pom":
		text, ok := in.readRepo(rel)
		if !ok {
			return ""
		}
		var pom mavenPOM
		if xml.Unmarshal([]byte(text), &pom) != nil {
			return ""
		}
		for _, d := range append(append(pom.Deps, pom.Managed...), pom.Plugins...) {
			add(mavenPkg(d.GroupID, d.ArtifactID))
		}
	case "gradle":
		for _, f := range []string{"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle/libs.versions.toml"} {
			text, ok := in.readRepo(path.Join(rel, f))
			if !ok {
				continue
			}
			for _, re := range []*regexp.Regexp{gradleDepRE, catalogModuleRE, catalogGroupRE} {
				for _, m := range re.FindAllStringSubmatch(text, -1) {
					add(mavenPkg(m[1], m[2]))
				}
			}
		}
	}
	sort.Strings(pkgs)
	return strings.Join(slicesCompact(pkgs), " ")
}

// groupPackages sets a group target's Packages (see ResolvePublishers);
// other targets are left alone.
func (in *Input) groupPackages(t *use.Target, kind, rel string) {
	if t.Kind == use.Group {
		t.Packages = in.mavenRequires(kind, rel)
	}
}

func slicesCompact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// mavenPublished adds the Maven package a project's root pom.xml or Gradle
// build publishes: the pom's (or parent's) groupId and artifactId; for
// Gradle, group = "…" and the artifactId of a publication, else
// rootProject.name, else the project's name (Gradle's default is the
// folder, which GitLab's checkout names after the project).
func mavenPublished(read func(string) (string, bool), project string, out map[string]bool) {
	if text, ok := read("pom.xml"); ok {
		var pom mavenPOM
		if xml.Unmarshal([]byte(text), &pom) == nil {
			g := pom.GroupID
			if g == "" {
				g = pom.Parent.GroupID
			}
			if p := mavenPkg(g, pom.ArtifactID); p != "" {
				out[p] = true
			}
		}
	}
	var group, art, root string
	for _, f := range []string{"build.gradle", "build.gradle.kts"} {
		if text, ok := read(f); ok {
			if m := gradleGroupRE.FindStringSubmatch(text); m != nil {
				group = m[1]
			}
			if m := gradleArtRE.FindStringSubmatch(text); m != nil {
				art = m[1]
			}
		}
	}
	for _, f := range []string{"settings.gradle", "settings.gradle.kts"} {
		if text, ok := read(f); ok {
			if m := gradleRootRE.FindStringSubmatch(text); m != nil {
				root = m[1]
			}
		}
	}
	if group == "" {
		return
	}
	switch {
	case art != "":
	case root != "":
		art = root
	default:
		art = inventory.Name(project)
	}
	if p := mavenPkg(group, art); p != "" {
		out[p] = true
	}
}

// ---- npm -----------------------------------------------------------------------

// npmScopeGroup is the top-level group an instance-level npm package's
// scope names ("npm:@acme/ui" → "acme"), "" for others.
func npmScopeGroup(pkg string) string {
	name, ok := strings.CutPrefix(pkg, "npm:@")
	if !ok {
		return ""
	}
	scope, _, ok := strings.Cut(name, "/")
	if !ok {
		return ""
	}
	return scope
}

// withNpmPackages returns t with the packages the caller's package.json
// depends on (in scope, when one is given: "@acme") for a group target or
// an instance target of a scope; other targets unchanged.
func (in *Input) withNpmPackages(t use.Target, scope string) use.Target {
	if t.Kind != use.Group && (t.Kind != use.Instance || scope == "") {
		return t
	}
	text, ok := in.readRepo("package.json")
	if !ok {
		return t
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &doc) != nil {
		return t
	}
	var pkgs []string
	for _, k := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
		var deps map[string]json.RawMessage
		if json.Unmarshal(doc[k], &deps) != nil {
			continue
		}
		for name := range deps {
			if scope == "" || strings.HasPrefix(name, scope+"/") {
				pkgs = append(pkgs, "npm:"+strings.ToLower(name))
			}
		}
	}
	sort.Strings(pkgs)
	t.Packages = strings.Join(slicesCompact(pkgs), " ")
	return t
}

// ---- PyPI ----------------------------------------------------------------------

// pyNameRE is a requirement's project name (PEP 508), pyProjectNameRE a
// name = "…" line of pyproject.toml's [project] or [tool.poetry] table,
// setup.cfg's [metadata] or a setup.py call.
var (
	pyNameRE        = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)`)
	pyProjectNameRE = regexp.MustCompile(`(?m)^\s*name\s*=\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)["']?\s*$`)
	setupPyNameRE   = regexp.MustCompile(`\bname\s*=\s*["']([A-Za-z0-9][A-Za-z0-9._-]*)["']`)
	pySepRE         = regexp.MustCompile(`[-_.]+`)
)

// pyPkg normalizes a Python project name as PyPI and GitLab compare
// them (PEP 503: lower case, runs of -, _ and . as one -).
func pyPkg(name string) string {
	return "pypi:" + pySepRE.ReplaceAllString(strings.ToLower(name), "-")
}

// withPyPackages returns a group target with the projects the caller's
// requirements*.txt files name; other targets unchanged.
func (in *Input) withPyPackages(t use.Target) use.Target {
	if t.Kind != use.Group || in.Files == nil || in.Caller == nil {
		return t
	}
	names, _ := in.Files.Glob(in.Caller.Path, "requirements*.txt")
	var pkgs []string
	for _, n := range names {
		text, ok := in.readRepo(n)
		if !ok {
			continue
		}
		for _, l := range requirementsLines(text) {
			if strings.HasPrefix(l.text, "-") {
				continue
			}
			if m := pyNameRE.FindStringSubmatch(l.text); m != nil {
				pkgs = append(pkgs, pyPkg(m[1]))
			}
		}
	}
	sort.Strings(pkgs)
	t.Packages = strings.Join(slicesCompact(pkgs), " ")
	return t
}

// pyPublished adds the Python project a repository builds: the name of
// pyproject.toml's [project] or [tool.poetry] table, setup.cfg's
// [metadata], or a setup.py setup(name=…).
func pyPublished(read func(string) (string, bool), out map[string]bool) {
	if text, ok := read("pyproject.toml"); ok {
		for _, table := range []string{"[project]", "[tool.poetry]"} {
			if i := strings.Index(text, table); i >= 0 {
				body := text[i+len(table):]
				if j := strings.Index(body, "\n["); j >= 0 {
					body = body[:j]
				}
				if m := pyProjectNameRE.FindStringSubmatch(body); m != nil {
					out[pyPkg(m[1])] = true
				}
			}
		}
	}
	if text, ok := read("setup.cfg"); ok {
		if i := strings.Index(text, "[metadata]"); i >= 0 {
			body := text[i+len("[metadata]"):]
			if j := strings.Index(body, "\n["); j >= 0 {
				body = body[:j]
			}
			if m := pyProjectNameRE.FindStringSubmatch(body); m != nil {
				out[pyPkg(m[1])] = true
			}
		}
	}
	if text, ok := read("setup.py"); ok {
		if m := setupPyNameRE.FindStringSubmatch(text); m != nil {
			out[pyPkg(m[1])] = true
		}
	}
}
