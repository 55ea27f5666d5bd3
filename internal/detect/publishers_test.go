package detect_test

import (
	"slices"
	"strings"
	"testing"

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
		},
	}
	files := detect.MemFiles{
		"acme/app:composer.json":                `{"name": "acme/app", "require": {"acme/billing": "^2.1"}}`,
		"acme/billing:composer.json":            `{"name": "Acme/Billing", "type": "library"}`,
		"acme/billing-fork:README.md":           "a fork that publishes nothing\n",
		"acme/dotnet/shared:src/Shared.csproj":  `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><PackageId>Acme.Shared</PackageId></PropertyGroup></Project>`,
		"acme/docs:package.json":                `{"name": "@acme/docs-site"}`,
		"acme-infra/modules/vpc:.gitlab-ci.yml": "include:\n  - template: Terraform-Module.gitlab-ci.yml\nvariables:\n  TERRAFORM_MODULE_SYSTEM: aws\n",
		"acme-infra/modules/vpc:main.tf":        "variable \"cidr\" {}\n",
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
		{"a package published outside the group is not resolved",
			groupUse("acme-infra", "composer:acme/billing"), []string{"group:acme-infra"}},
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
			if got := out.Uses[0].Target; got.Kind != use.Group || got.Packages != tc.want {
				t.Errorf("target %+v, want packages %q", got, tc.want)
			}
		})
	}
}
