package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// nugetConfig is a nuget.config as GitLab's NuGet docs show it: the
// source URL on line 5, its credentials under <packageSourceCredentials>.
const nugetConfig = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="gitlab shared" value="https://git.example.org/api/v4/projects/311/packages/nuget/index.json" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceCredentials>
    <gitlab_x0020_shared>
      <add key="Username" value="gitlab-ci-token" />
      <add key="ClearTextPassword" value="%CI_JOB_TOKEN%" />
    </gitlab_x0020_shared>
  </packageSourceCredentials>
</configuration>
`

func TestNugetDetector(t *testing.T) {
	runRows(t, "nuget", []row{
		{name: "P23 committed nuget.config with %CI_JOB_TOKEN%, joined by source key (spaces as _x0020_)",
			files:  map[string]string{"nuget.config": nugetConfig},
			script: "dotnet restore\ndotnet build --no-restore",
			uses:   []string{"nuget.config:5 packages-read id:311 @job"}},
		{name: "P23 dotnet build restores implicitly; --no-restore alone reads nothing",
			files:  map[string]string{"nuget.config": nugetConfig},
			script: "dotnet build --no-restore -c Release"},
		{name: "P23 dotnet nuget add source with the job token, then push (GitLab's documented CI job)",
			script: "dotnet pack -c Release\n" +
				"dotnet nuget add source \"${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/nuget/index.json\" --name gitlab --username gitlab-ci-token --password $CI_JOB_TOKEN --store-password-in-clear-text\n" +
				"dotnet nuget push \"bin/Release/*.nupkg\" --source gitlab",
			uses: []string{".gitlab-ci.yml:2 packages-write id:100 @job"}},
		{name: "P23 group endpoint source read by restore, from a nuget.config the job writes",
			vars: []ciconfig.Variable{v("NUGET_GROUP", "acme-dotnet", 2)},
			script: "cat > nuget.config <<EOF\n<configuration><packageSources><add key=\"grp\" value=\"${CI_API_V4_URL}/groups/${NUGET_GROUP}/-/packages/nuget/index.json\" /></packageSources>\n" +
				"<packageSourceCredentials><grp><add key=\"Username\" value=\"gitlab-ci-token\" /><add key=\"ClearTextPassword\" value=\"${CI_JOB_TOKEN}\" /></grp></packageSourceCredentials></configuration>\nEOF\n" +
				"dotnet restore",
			uses: []string{".gitlab-ci.yml:1 packages-read group:acme-dotnet @job"}},
		{name: "P23 pushing to a group endpoint will not work",
			script: "dotnet nuget add source https://git.example.org/api/v4/groups/7/-/packages/nuget/index.json -n grp -u gitlab-ci-token -p $CI_JOB_TOKEN\n" +
				"dotnet nuget push pkg.nupkg -s grp",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "only to a project endpoint"},
		{name: "P23 nuget.exe sources add under mono, then nuget restore",
			script: "mono /usr/local/bin/nuget.exe sources add -Name shared -Source https://git.example.org/api/v4/projects/312/packages/nuget/index.json -UserName gitlab-ci-token -Password $CI_JOB_TOKEN\n" +
				"mono /usr/local/bin/nuget.exe restore App.sln",
			uses: []string{".gitlab-ci.yml:1 packages-read id:312 @job"}},
		{name: "P23 the job token with another user name will not work",
			script: "dotnet nuget add source https://git.example.org/api/v4/projects/311/packages/nuget/index.json -n shared -u deployer -p $CI_JOB_TOKEN\n" +
				"dotnet restore",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "user name deployer"},
		{name: "P23 a deploy token in nuget.config is no job-token use",
			vars:   []ciconfig.Variable{v("NUGET_PASSWORD", "$DEPLOY_TOKEN", 2)},
			files:  map[string]string{"nuget.config": strings.ReplaceAll(nugetConfig, "%CI_JOB_TOKEN%", "%NUGET_PASSWORD%")},
			script: "dotnet restore"},
		{name: "P23 restore --source limits the feeds to the one named",
			files:  map[string]string{"nuget.config": nugetConfig},
			script: "dotnet restore --source https://api.nuget.org/v3/index.json"},
		{name: "P23 the job overwrites the committed nuget.config: only its own sources count",
			files:  map[string]string{"nuget.config": nugetConfig},
			script: "echo '<configuration><packageSources><clear /></packageSources></configuration>' > nuget.config\ndotnet restore"},
		{name: "§3.3 job token sent to a feed on another host",
			script:  "dotnet nuget add source https://nuget.other.org/v3/index.json -n other -u gitlab-ci-token -p $CI_JOB_TOKEN\ndotnet restore",
			notes:   []string{".gitlab-ci.yml:1 other-host"},
			noteHas: "nuget.other.org"},
	})
}
