package shell

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// TestPowerShell: PowerShell jobs (Windows runners, pwsh images) are read
// for web requests with job-token headers and git URLs. The cases follow
// what public projects' Windows jobs do: generic package uploads with
// Invoke-RestMethod, downloads with Invoke-WebRequest, splatted
// parameters, and git clones with the token in the URL.
func TestPowerShell(t *testing.T) {
	env := MapEnv{"CI_JOB_TOKEN": "[MASKED]", "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "7", "CI_SERVER_HOST": "gitlab.example.com"}
	tests := []struct {
		name string
		src  []string
		want []string
	}{
		{"upload with inline headers", []string{
			`Invoke-RestMethod -Headers @{ "JOB-TOKEN" = $env:CI_JOB_TOKEN } -InFile "dist\app.zip" -Uri "${env:CI_API_V4_URL}/projects/${env:CI_PROJECT_ID}/packages/generic/app/1.0/app.zip" -Method Put`},
			[]string{`10: curl -X PUT -H "JOB-TOKEN: [MASKED]" -T dist\app.zip https://gitlab.example.com/api/v4/projects/7/packages/generic/app/1.0/app.zip`}},
		{"download, headers variable, multi-line hashtable", []string{
			"$headers = @{\n  \"JOB-TOKEN\" = \"$env:CI_JOB_TOKEN\"\n  Accept = 'application/json'\n}\n$url = \"$env:CI_API_V4_URL/projects/42/packages/generic/tools/2.1/tools.zip\"\nInvoke-WebRequest -Uri $url -Headers $headers -OutFile tools.zip"},
			[]string{`15: curl -H "JOB-TOKEN: [MASKED]" -H "Accept: application/json" -o tools.zip https://gitlab.example.com/api/v4/projects/42/packages/generic/tools/2.1/tools.zip`}},
		{"splatted parameters", []string{
			"$params = @{\n  Uri = $env:CI_API_V4_URL + '/projects/9/releases'\n  Method = 'Post'\n  Headers = @{ 'JOB-TOKEN' = $env:CI_JOB_TOKEN }\n}\n$r = Invoke-RestMethod @params"},
			[]string{`15: curl -X POST -H "JOB-TOKEN: [MASKED]" https://gitlab.example.com/api/v4/projects/9/releases`}},
		{"git clone with subexpression, in a try block", []string{
			"try {\n  git clone \"https://gitlab-ci-token:$($env:CI_JOB_TOKEN)@$($env:CI_SERVER_HOST)/acme/lib.git\" lib\n} catch {\n  Write-Host \"clone failed\"\n  exit 1\n}"},
			[]string{"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/lib.git lib"}},
		{"positional uri, alias, backtick continuation", []string{
			"irm `\n  \"$env:CI_API_V4_URL/projects/3/jobs/artifacts/main/download?job=build\" `\n  -Headers @{\"JOB-TOKEN\"=$env:CI_JOB_TOKEN} -OutFile a.zip"},
			[]string{`10: curl -H "JOB-TOKEN: [MASKED]" -o a.zip https://gitlab.example.com/api/v4/projects/3/jobs/artifacts/main/download?job=build`}},
		{"foreach over a literal list", []string{
			"foreach ($repo in @('acme/lib-a', 'acme/lib-b')) {\n  git clone \"https://gitlab-ci-token:${env:CI_JOB_TOKEN}@gitlab.example.com/$repo.git\"\n}\nWrite-Host done"},
			[]string{"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/lib-a.git",
				"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/lib-b.git"}},
		{"unknown variable stays unknown", []string{
			`Invoke-RestMethod -Uri "$env:CI_API_V4_URL/projects/$($env:TARGET_ID)/variables" -Headers @{ "JOB-TOKEN" = $env:CI_JOB_TOKEN }`},
			[]string{`10: curl -H "JOB-TOKEN: [MASKED]" https://gitlab.example.com/api/v4/projects/${TARGET_ID}/variables?{TARGET_ID}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []Source
			for i, s := range tt.src {
				srcs = append(srcs, Source{Text: s, Pos: loc.Pos{Project: "acme/win", File: ".gitlab-ci.yml", Line: 10 + 10*i}, LineStep: 1, Section: "script"})
			}
			r := Analyze(srcs, env, Options{})
			var got []string
			for _, c := range r.Commands {
				if c.Name() == "curl" || c.Name() == "git" {
					got = append(got, render(c))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if len(r.Diags) != 1 || r.Diags[0].Severity != "warning" || !strings.Contains(r.Diags[0].Summary, "PowerShell") {
				t.Errorf("diags = %v, want one warning that the script was read as PowerShell", r.Diags)
			}
		})
	}
}

// TestPowerShellFromShell: pwsh -Command and pwsh -File run from a shell
// job, and .ps1 files of the repository.
func TestPowerShellFromShell(t *testing.T) {
	env := MapEnv{"CI_JOB_TOKEN": "[MASKED]", "CI_API_V4_URL": "https://gitlab.example.com/api/v4"}
	files := map[string]string{
		"ci/publish.ps1": "param([string]$Version = '1.0')\n$h = @{ 'JOB-TOKEN' = $env:CI_JOB_TOKEN }\nInvoke-RestMethod -Method Put -Headers $h -InFile pkg.nupkg -Uri \"$env:CI_API_V4_URL/projects/5/packages/nuget/\"\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct{ src, want string }{
		{`pwsh -Command 'Invoke-WebRequest -Uri "$env:CI_API_V4_URL/projects/8/packages/generic/x/1/x.bin" -Headers @{ "JOB-TOKEN" = $env:CI_JOB_TOKEN } -OutFile x.bin'`,
			`10: curl -H "JOB-TOKEN: [MASKED]" -o x.bin https://gitlab.example.com/api/v4/projects/8/packages/generic/x/1/x.bin`},
		{`pwsh -NoProfile -File ci/publish.ps1`,
			`3: curl -X PUT -H "JOB-TOKEN: [MASKED]" -T pkg.nupkg https://gitlab.example.com/api/v4/projects/5/packages/nuget/`},
	}
	for _, tt := range tests {
		r := Analyze(script(tt.src), env, Options{ReadFile: read})
		var got []string
		for _, c := range r.Commands {
			if c.Name() == "curl" {
				got = append(got, render(c))
			}
		}
		if !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s:\n got  %q\n want %q (diags %v)", tt.src, got, tt.want, r.Diags)
		}
	}
	// A shell job is not taken for PowerShell because it runs pwsh.
	r := Analyze(script("echo start\npwsh -c 'Write-Host $env:CI_JOB_NAME'"), env, Options{})
	if len(r.Diags) > 0 || len(r.Commands) < 2 {
		t.Errorf("shell job with pwsh -c: %v %v", renderAll(r.Commands), r.Diags)
	}
}
