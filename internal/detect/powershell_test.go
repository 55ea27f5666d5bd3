package detect_test

import "testing"

// PowerShell jobs (issue 12 item 5): web requests with job-token headers
// and git URLs are found; the job is read with a warning, not an error.
// Shapes from public projects' Windows jobs (generic package uploads and
// downloads, release calls, clones of sibling repositories).
func TestPowerShellJobs(t *testing.T) {
	runRows(t, "", []row{
		{name: "Invoke-RestMethod upload to another project's generic packages",
			det:    "api",
			script: `Invoke-RestMethod -Headers @{ "JOB-TOKEN" = $env:CI_JOB_TOKEN } -InFile "build\app.zip" -Uri "${env:CI_API_V4_URL}/projects/55/packages/generic/app/1.0/app.zip" -Method Put`,
			uses:   []string{".gitlab-ci.yml:1 packages-write id:55 @job"}},
		{name: "Invoke-WebRequest download with a headers variable",
			det:    "api",
			script: "$headers = @{ 'JOB-TOKEN' = $env:CI_JOB_TOKEN }\nInvoke-WebRequest -Uri \"$env:CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=build\" -Headers $headers -OutFile a.zip",
			uses:   []string{".gitlab-ci.yml:2 artifacts-read id:55 @job"}},
		{name: "a personal access token in the headers is noted, not a job-token edge",
			det:     "tokens",
			script:  "$token = $env:GITLAB_PAT\nif (-not $token) { Write-Host 'No token'; exit 2 }\ntry {\n    $resp = Invoke-RestMethod -Uri \"$env:CI_API_V4_URL/projects/55?statistics=true\" -Headers @{ 'PRIVATE-TOKEN' = $token } -ErrorAction Stop\n    $resp | ConvertTo-Json -Depth 5 | Out-File -FilePath .\\logs\\r.json\n}\ncatch {\n    Write-Host \"Error invoking API\"\n}",
			notes:   []string{".gitlab-ci.yml:4 not-a-job-token-edge"},
			noteHas: "PRIVATE-TOKEN"},
		{name: "git clone with the token in a subexpression",
			det:    "git",
			script: "git clone \"https://gitlab-ci-token:$($env:CI_JOB_TOKEN)@$($env:CI_SERVER_HOST)/acme/lib.git\"\nWrite-Host done",
			uses:   []string{".gitlab-ci.yml:1 repository-read path:acme/lib @job"}},
	})
}

// Shell idioms of issue 12 item 5 seen by the detectors: every branch's
// value yields its use, scripts written then run, the set -u safe array
// form.
func TestShellIdiomsUses(t *testing.T) {
	runRows(t, "", []row{
		{name: "case on the branch picks the config project: each is a use",
			det:    "git",
			script: "case \"$CI_COMMIT_REF_NAME\" in\n  main) CFG=acme/prod-config ;;\n  *) CFG=acme/dev-config ;;\nesac\ngit clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CFG}.git\"",
			uses:   []string{".gitlab-ci.yml:5 repository-read path:acme/prod-config @job", ".gitlab-ci.yml:5 repository-read path:acme/dev-config @job"}},
		{name: "if/elif/else on the environment picks the package project",
			det:    "api",
			script: "if [ \"$DEPLOY_ENV\" = prod ]; then PID=61; elif [ \"$DEPLOY_ENV\" = staging ]; then PID=62; else PID=63; fi\ncurl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" -O \"$CI_API_V4_URL/projects/$PID/packages/generic/cfg/1/cfg.tgz\"",
			uses:   []string{".gitlab-ci.yml:2 packages-read id:61 @job", ".gitlab-ci.yml:2 packages-read id:62 @job", ".gitlab-ci.yml:2 packages-read id:63 @job"}},
		{name: "script written by a quoted here-document and run",
			det:    "api",
			script: "cat > fetch.sh <<'EOF'\n#!/bin/sh\ncurl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" -O \"$CI_API_V4_URL/projects/55/packages/generic/x/1/x.tgz\"\nEOF\nchmod +x fetch.sh\n./fetch.sh",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:55 @job"}},
		{name: "set -u safe array carries the header",
			det:    "api",
			script: "set -u\nHDR=(-H \"JOB-TOKEN: $CI_JOB_TOKEN\")\ncurl \"${HDR[@]+\"${HDR[@]}\"}\" -O \"$CI_API_V4_URL/projects/55/packages/generic/x/1/x.tgz\"",
			uses:   []string{".gitlab-ci.yml:3 packages-read id:55 @job"}},
	})
}
