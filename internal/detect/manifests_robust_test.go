package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
)

// Manifests that parse badly or oddly, for the families of issue 12 item
// 7: no panic, no token in evidence, whatever the scripts do.
var oddManifests = map[string]string{
	"nuget.config":       "<configuration><packageSources><add key=\"\" value=\"%\"/><clear/><add key=\"a\" value=\"%CI_JOB_TOKEN%\"/><packageSourceCredentials><a><add key=\"ClearTextPassword\" value=\"%CI_JOB_TOKEN%\"",
	"src/App.csproj":     "<Project><ItemGroup><PackageReference Include=",
	"composer.json":      `{"repositories": {"a": {"type": "composer", "url": 7}, "packagist.org": false}, "require": []}`,
	"auth.json":          `{"gitlab-token": {"git.example.org": {"username": 1}}, "http-basic": []}`,
	"build.gradle.kts":   "maven { url = uri(providers.environmentVariable(\"X\").get()) { credentials(HttpHeaderCredentials::class) { name = \"Job-Token\"; value = System.env[",
	"main.tf":            "terraform { backend \"http\" { address = var.x }\nmodule \"m\" { source = \"${var.s}\" }\ndata \"terraform_remote_state\" \"r\" { backend = \"http\"\n config = { (var.k) = 1, password = var.p } }\n",
	"go.mod":             "module\nrequire (\nreplace => v1\n",
	"pyproject.toml":     "dependencies = [\"x @ git+\", git = ]\n",
	"Pipfile":            "[packages]\nx = {git = \"\"}\n",
	"Dockerfile":         "FROM alpine\nARG CI_JOB_TOKEN\nRUN curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" && dotnet nuget add source && composer config\n",
	"package.json":       `{"name": 5, "dependencies": {"x": "git+ssh://"}}`,
	"infra/backend.conf": "address = \nbogus",
}

var oddManifestScripts = []string{
	"dotnet", "dotnet nuget", "dotnet nuget add source", "dotnet nuget add source -n", "dotnet nuget push -s", "dotnet restore -s",
	"dotnet nuget add source https://git.example.org/api/v4/projects/1/packages/nuget/index.json -n a -u gitlab-ci-token -p $CI_JOB_TOKEN\ndotnet nuget push x -s a\ndotnet build",
	"nuget", "nuget sources add -Name", "mono", "mono nuget.exe restore", "cat > nuget.config", "echo '<configuration>' > NuGet.Config\ndotnet restore",
	"composer", "composer config", "composer config repositories.x", "composer config repositories.x '{'", "composer config gitlab-token.", "composer install -d",
	"php composer.phar", "echo '{' > auth.json\ncomposer install", "COMPOSER_AUTH='{' composer install",
	"gradle", "./gradlew -p", "./gradlew publish", "terraform init -backend-config=infra/backend.conf", "terraform plan",
	"go mod download", "go build", "pip install .", "pip install -e", "poetry install", "pipenv install", "uv sync", "npm ci",
	"docker build --build-arg CI_JOB_TOKEN=$CI_JOB_TOKEN .",
}

func TestManifestFamiliesSurviveOddInput(t *testing.T) {
	for _, s := range oddManifestScripts {
		j := row{script: s, files: oddManifests}.job()
		j.lenient = true
		in := j.input(t)
		out := &detect.Output{}
		for _, d := range detect.All() {
			d.Detect(in, out)
		}
		assertClean(t, out, true)
		for _, u := range out.Uses {
			if strings.Contains(u.Evidence.Detail, "\x00") {
				t.Errorf("%q: control character in evidence", s)
			}
		}
	}
}
