package detect_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// publisherOrg: group acme (ID 42) with a Composer library, a NuGet
// library and a project publishing nothing; namespace acme-infra with a
// Terraform module project using GitLab's Terraform-Module template.
func publisherOrg() (*inventory.Index, detect.MemFiles) {
	inv := &inventory.Inventory{
		Groups: []inventory.Group{{Path: "acme", ID: 42}, {Path: "acme-infra", ID: 50}},
		Projects: []*inventory.Project{
			{Path: "acme/app", ID: 100}, {Path: "acme/billing", ID: 101}, {Path: "acme/dotnet/shared", ID: 102},
			{Path: "acme/docs", ID: 103}, {Path: "acme/billing-fork", ID: 104}, {Path: "acme-infra/modules/vpc", ID: 200},
			{Path: "acme/java/commons", ID: 105}, {Path: "acme/java/http-kit", ID: 106},
			{Path: "acme/py/pylib", ID: 107}, {Path: "acme/py/legacy", ID: 108},
		},
	}
	files := detect.MemFiles{
		"acme/app:composer.json":                `{"name": "acme/app", "require": {"acme/billing": "^2.1"}}`,
		"acme/billing:composer.json":            `{"name": "Acme/Billing", "type": "library"}`,
		"acme/billing-fork:README.md":           "a fork that publishes nothing\n",
		"acme/dotnet/shared:src/Shared.csproj":  `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><PackageId>Acme.Shared</PackageId></PropertyGroup></Project>`,
		"acme/docs:package.json":                `{"name": "@acme/docs-site"}`,
		"acme-infra/modules/vpc:.gitlab-ci.yml": "include:\n  - template: Terraform-Module.gitlab-ci.yml\nvariables:\n  TERRAFORM_MODULE_SYSTEM: aws\n",
		"acme/java/commons:pom.xml": "<project><parent><groupId>com.acme</groupId><artifactId>parent</artifactId></parent>" +
			"<artifactId>commons</artifactId><dependencies><dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency></dependencies></project>",
		"acme/java/http-kit:build.gradle.kts": "plugins { `maven-publish` }\ngroup = \"com.acme\"\nversion = \"1.4.0\"\n",
		"acme/py/pylib:pyproject.toml":        "[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"acme_PyLib\"\nversion = \"2.3.0\"\n",
		"acme/py/legacy:setup.cfg":            "[metadata]\nname = acme.legacy\n\n[options]\nname = wrong\n",
		"acme-infra/modules/vpc:main.tf":      "variable \"cidr\" {}\n",
	}
	return inventory.NewIndex(inv), files
}

func groupUse(group, pkgs string) use.Use {
	return use.Use{Caller: "acme/app", Target: use.Target{Kind: use.Group, Value: group, Reference: "/api/v4/group/" + group + "/-/packages/composer/packages.json", Packages: pkgs},
		Evidence: use.Evidence{Detail: "Composer repository"}}
}

func TestResolvePublishers(t *testing.T) {
	ix, files := publisherOrg()
	cases := []struct {
		name string
		in   use.Use
		want []string // "kind:value"
	}{
		{"group ID: the project whose composer.json names the package (case-insensitive)",
			groupUse("42", "composer:acme/billing composer:monolog/monolog"), []string{"path:acme/billing"}},
		{"group path, NuGet PackageId in a project of a subgroup",
			groupUse("acme", "nuget:acme.shared"), []string{"path:acme/dotnet/shared"}},
		{"Terraform module registry: the template's name (project name) and TERRAFORM_MODULE_SYSTEM",
			groupUse("acme-infra", "terraform:vpc/aws"), []string{"path:acme-infra/modules/vpc"}},
		{"Terraform module of another system: nobody publishes it, the use stays group-scoped",
			groupUse("acme-infra", "terraform:vpc/azurerm"), []string{"group:acme-infra"}},
		{"two packages from two publishers: one use each, sorted",
			groupUse("42", "npm:@acme/docs-site composer:acme/billing"), []string{"path:acme/billing", "path:acme/docs"}},
		{"Maven: the pom's parent groupId and artifactId; Gradle group and the project name",
			groupUse("acme", "maven:com.acme/commons maven:com.acme/http-kit maven:org.slf4j/slf4j-api"), []string{"path:acme/java/commons", "path:acme/java/http-kit"}},
		{"PyPI: pyproject [project] name and setup.cfg [metadata] name, PEP 503 normalized",
			groupUse("42", "pypi:acme-pylib pypi:acme-legacy pypi:pandas"), []string{"path:acme/py/legacy", "path:acme/py/pylib"}},
		{"a package published outside the group is not resolved",
			groupUse("acme-infra", "composer:acme/billing"), []string{"group:acme-infra"}},
		{"npm instance-level endpoint: the scope names the top-level group",
			use.Use{Caller: "acme/app", Target: use.Target{Kind: use.Instance, Value: "npm packages of scope @acme", Packages: "npm:@acme/docs-site"}},
			[]string{"path:acme/docs"}},
		{"npm instance-level package nobody publishes stays instance-level",
			use.Use{Caller: "acme/app", Target: use.Target{Kind: use.Instance, Value: "npm packages of scope @acme", Packages: "npm:@acme/ui"}},
			[]string{"instance:npm packages of scope @acme"}},
		{"an unknown group ID stays group-scoped",
			groupUse("999", "composer:acme/billing"), []string{"group:999"}},
		{"no package names: unchanged",
			groupUse("42", ""), []string{"group:42"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := detect.ResolvePublishers(ix, files, []use.Use{tc.in})
			var got []string
			for _, u := range out {
				got = append(got, string(u.Target.Kind)+":"+u.Target.Value)
				if u.Target.Kind == use.Path && !strings.Contains(u.Evidence.Detail, "publishes") {
					t.Errorf("resolved use does not say why: %q", u.Evidence.Detail)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The detectors attach the packages a caller installs to group targets.
func TestGroupTargetsCarryPackages(t *testing.T) {
	cases := []struct {
		name, det string
		r         row
		want      string
	}{
		{"composer require and require-dev, platform packages left out", "composer", row{
			files: map[string]string{"composer.json": `{"repositories": [{"type": "composer", "url": "https://git.example.org/api/v4/group/42/-/packages/composer/packages.json"}],
 "require": {"php": ">=8.2", "acme/billing": "^2.1"}, "require-dev": {"acme/testkit": "*"}}`},
			script: "composer config gitlab-token.git.example.org gitlab-ci-token $CI_JOB_TOKEN\ncomposer install"},
			"composer:acme/billing composer:acme/testkit"},
		{"NuGet PackageReference of the caller's project files", "nuget", row{
			files:  map[string]string{"src/App.csproj": `<Project><ItemGroup><PackageReference Include="Acme.Shared" Version="1.0.0" /><PackageReference Include="Newtonsoft.Json" Version="13.0.3" /></ItemGroup></Project>`},
			script: "dotnet nuget add source https://git.example.org/api/v4/groups/42/-/packages/nuget/index.json -n acme -u gitlab-ci-token -p $CI_JOB_TOKEN\ndotnet restore"},
			"nuget:acme.shared nuget:newtonsoft.json"},
		{"Gradle dependencies and the version catalog", "maven", row{
			files: map[string]string{"build.gradle": "repositories {\n  maven {\n    url \"https://git.example.org/api/v4/groups/42/-/packages/maven\"\n" +
				"    credentials(HttpHeaderCredentials) { name = 'Job-Token'; value = System.getenv('CI_JOB_TOKEN') }\n  }\n}\n" +
				"dependencies {\n  implementation 'com.acme:commons:2.3.1'\n  testImplementation(libs.junit)\n}\n",
				"gradle/libs.versions.toml": "[libraries]\njunit = { module = \"org.junit.jupiter:junit-jupiter\", version = \"5.11.0\" }\nkit = { group = \"com.acme\", name = \"http-kit\", version.ref = \"kit\" }\n"},
			script: "./gradlew build"},
			"maven:com.acme/commons maven:com.acme/http-kit maven:org.junit.jupiter/junit-jupiter"},
		{"pom.xml dependencies for a settings.xml-joined group repository", "maven", row{
			files: map[string]string{
				"ci_settings.xml": "<settings><servers><server><id>acme</id><configuration><httpHeaders><property><name>Job-Token</name><value>${CI_JOB_TOKEN}</value></property></httpHeaders></configuration></server></servers></settings>",
				"pom.xml": "<project><repositories><repository><id>acme</id><url>https://git.example.org/api/v4/groups/42/-/packages/maven</url></repository></repositories>" +
					"<dependencies><dependency><groupId>com.acme</groupId><artifactId>commons</artifactId><version>2.3.1</version></dependency>" +
					"<dependency><groupId>${project.groupId}</groupId><artifactId>self</artifactId></dependency></dependencies></project>"},
			script: "mvn -s ci_settings.xml verify"},
			"maven:com.acme/commons"},
		{"npm instance-level endpoint of a scope: the dependencies in that scope", "npm", row{
			files: map[string]string{".npmrc": "@acme:registry=https://git.example.org/api/v4/packages/npm/\n//git.example.org/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}\n",
				"package.json": `{"dependencies": {"@acme/ui": "^1.2.0", "left-pad": "1.3.0"}, "devDependencies": {"@acme/lint-config": "*"}}`},
			repo: true},
			"npm:@acme/lint-config npm:@acme/ui"},
		{"npm group endpoint: every dependency", "npm", row{
			files: map[string]string{".npmrc": "@acme:registry=https://git.example.org/api/v4/groups/42/-/packages/npm/\n//git.example.org/api/v4/groups/42/-/packages/npm/:_authToken=${CI_JOB_TOKEN}\n",
				"package.json": `{"dependencies": {"@acme/ui": "^1.2.0", "left-pad": "1.3.0"}}`},
			repo: true},
			"npm:@acme/ui npm:left-pad"},
		{"pip group index: the requirements files' project names", "pip", row{
			vars:   []ciconfig.Variable{v("PIP_EXTRA_INDEX_URL", "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/groups/20/-/packages/pypi/simple", 2)},
			files:  map[string]string{"requirements.txt": "--extra-index-url https://pypi.org/simple\nAcme_PyLib==2.3.0\npandas[excel]>=2.2 ; python_version >= \"3.10\"\n"},
			script: "pip install -r requirements.txt"},
			"pypi:acme-pylib pypi:pandas"},
		{"Terraform module source", "terraform", row{
			vars:   nil,
			files:  map[string]string{"main.tf": "module \"vpc\" {\n  source = \"git.example.org/acme-infra/vpc/aws\"\n}\n"},
			script: "export TF_TOKEN_git_example_org=$CI_JOB_TOKEN\nterraform init"},
			"terraform:vpc/aws"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := runDetectors(t, tc.r.job(), tc.det)
			if len(out.Uses) != 1 {
				t.Fatalf("uses: %+v", out.Uses)
			}
			if got := out.Uses[0].Target; got.Kind != use.Group && got.Kind != use.Instance || got.Packages != tc.want {
				t.Errorf("target %+v, want packages %q", got, tc.want)
			}
		})
	}
}
