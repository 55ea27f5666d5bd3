package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
)

// Scripts in other languages a job runs. Rows are modelled on what
// public projects' CI helper scripts do (python-gitlab image checks and
// artifact fetches, requests/urllib downloads of generic packages, the
// gitlab gem in release jobs, Net::HTTP, fetch/axios/got and gitbeaker in
// node release scripts).
func TestScriptDetector(t *testing.T) {
	pyGitlab := "#!/usr/bin/env python3\nimport os\nimport gitlab\n\n" +
		"gl = gitlab.Gitlab(os.environ[\"CI_SERVER_URL\"], job_token=os.environ[\"CI_JOB_TOKEN\"])\n" +
		"project = gl.projects.get(\"platform/tools\", lazy=True)\n" +
		"with open(\"tools.zip\", \"wb\") as f:\n" +
		"    project.artifacts.download(ref_name=\"main\", job=\"build\", streamed=True, action=f.write)\n"
	runRows(t, "script", []row{
		{name: "python-gitlab job_token, lazy project, artifacts download",
			files:  map[string]string{"ci/fetch_tools.py": pyGitlab},
			script: "python3 ci/fetch_tools.py",
			uses:   []string{"ci/fetch_tools.py:8 artifacts-read path:platform/tools @job"}},
		{name: "python-gitlab: the same script run as ./x through its #! line",
			files:  map[string]string{"ci/fetch_tools.py": pyGitlab},
			script: "./ci/fetch_tools.py",
			uses:   []string{"ci/fetch_tools.py:8 artifacts-read path:platform/tools @job"}},
		{name: "python-gitlab: projects.get without lazy reads GET /projects/:id, which a job token cannot",
			files: map[string]string{"check_image.py": "import gitlab, os\n" +
				"gl = gitlab.Gitlab(url=os.environ['CI_SERVER_URL'], job_token=os.environ['CI_JOB_TOKEN'])\n" +
				"# freedesktop-sdk/images\nproject = gl.projects.get(7903120)\n" +
				"for pkg in project.packages.list(iterator=True):\n    print(pkg.name)\n"},
			script:  "python check_image.py",
			uses:    []string{"check_image.py:5 packages-read id:7903120 @job"},
			notes:   []string{"check_image.py:4 will-not-work"},
			noteHas: "GET /projects/:id"},
		{name: "python-gitlab: project ID from a job variable read through os.getenv",
			vars: []ciconfig.Variable{v("UPSTREAM_PROJECT_ID", "55", 2)},
			files: map[string]string{"release.py": "import os, gitlab\n" +
				"gl = gitlab.Gitlab(os.getenv('CI_SERVER_URL', 'https://gitlab.com'), job_token=os.getenv('CI_JOB_TOKEN'))\n" +
				"p = gl.projects.get(os.getenv('UPSTREAM_PROJECT_ID'), lazy=True)\n" +
				"p.generic_packages.download(package_name='sdk', package_version='1.2', file_name='sdk.tgz')\n"},
			script: "python3 -u release.py",
			uses:   []string{"release.py:4 packages-read id:55 @job"}},
		{name: "python-gitlab imported under another name, MR project from the environment (kernel-ark shape)",
			files: map[string]string{"scripts/ci/signoff.py": "import os\nimport sys\n\nimport gitlab as gitlab_module\n\n" +
				"gitlab = gitlab_module.Gitlab(\n    os.environ[\"CI_SERVER_URL\"], job_token=os.environ[\"CI_JOB_TOKEN\"], timeout=30\n)\n" +
				"project_id = os.environ.get(\"CI_MERGE_REQUEST_PROJECT_ID\")\n" +
				"merge_request_iid = os.environ.get(\"CI_MERGE_REQUEST_IID\")\n" +
				"project = gitlab.projects.get(project_id, lazy=True)\n" +
				"mr = project.mergerequests.get(merge_request_iid)\n"},
			script: "python3 scripts/ci/signoff.py",
			uses:   []string{"scripts/ci/signoff.py:12 api-read unknown:${CI_MERGE_REQUEST_PROJECT_ID} ? @job"}},
		{name: "python-gitlab auth() reads GET /user, which a job token cannot (freedesktop-sdk shape)",
			files: map[string]string{"check.py": "import os, gitlab\n" +
				"DOCKER_IMAGES_PROJECT = 7903120\n" +
				"gl = gitlab.Gitlab(\"https://git.example.org\", job_token=os.environ[\"CI_JOB_TOKEN\"])\n" +
				"gl.auth()\n" +
				"project = gl.projects.get(DOCKER_IMAGES_PROJECT, lazy=True)\n" +
				"refs = project.commits.get(os.environ['IMAGE_ID']).refs(type='branch')\n"},
			script:  "python check.py",
			uses:    []string{"check.py:6 repository-read id:7903120 @job"},
			notes:   []string{"check.py:4 will-not-work"},
			noteHas: "project-scoped"},
		{name: "a call inside a list comprehension and a conditional expression",
			files: map[string]string{"v.py": "import os, gitlab\n" +
				"gl = gitlab.Gitlab(os.environ['CI_SERVER_URL'], job_token=os.environ['CI_JOB_TOKEN'])\n" +
				"signing = gl.projects.get('platform/signing', lazy=True)\n" +
				"names = [f.name for f in signing.secure_files.list(get_all=True)]\n" +
				"rel = None if os.environ.get('DRY') else signing.releases.create({'tag_name': 'v1'})\n"},
			script: "python v.py",
			uses:   []string{"v.py:4 secure-files-read path:platform/signing @job", "v.py:5 releases-write path:platform/signing @job"}},
		{name: "python-gitlab private_token with the job token will not work",
			files: map[string]string{"r.py": "import os, gitlab\n" +
				"gl = gitlab.Gitlab(os.environ['CI_SERVER_URL'], private_token=os.environ['CI_JOB_TOKEN'])\n" +
				"gl.projects.get(55, lazy=True).releases.create({'tag_name': 'v1'})\n"},
			script:  "python r.py",
			notes:   []string{"r.py:3 will-not-work"},
			noteHas: "PRIVATE-TOKEN"},
		{name: "python-gitlab with a PAT is no job-token use",
			files: map[string]string{"r.py": "import os, gitlab\n" +
				"gl = gitlab.Gitlab(os.environ['CI_SERVER_URL'], private_token=os.environ['GITLAB_PAT'])\n" +
				"gl.projects.get(55, lazy=True).releases.create({'tag_name': 'v1'})\n"},
			script: "python r.py"},
		{name: "requests with a JOB-TOKEN header dict in a variable and an f-string URL",
			vars: []ciconfig.Variable{v("TOOLS_PROJECT_ID", "55", 2)},
			files: map[string]string{"scripts/get_tool.py": "import os\nimport requests\n\n" +
				"API = os.environ[\"CI_API_V4_URL\"]\n" +
				"HEADERS = {\"JOB-TOKEN\": os.environ[\"CI_JOB_TOKEN\"]}\n" +
				"pid = os.environ.get(\"TOOLS_PROJECT_ID\")\n" +
				"url = f\"{API}/projects/{pid}/packages/generic/tool/1.2.0/tool.tgz\"\n" +
				"r = requests.get(\n    url,\n    headers=HEADERS,\n    timeout=60,\n)\n"},
			script: "python3 scripts/get_tool.py",
			uses:   []string{"scripts/get_tool.py:8 packages-read id:55 @job"}},
		{name: "requests.post to the trigger API with token in data",
			files: map[string]string{"trigger.py": "import os, requests\n" +
				"requests.post(os.environ['CI_API_V4_URL'] + '/projects/77/trigger/pipeline', data={'token': os.environ['CI_JOB_TOKEN'], 'ref': 'main'})\n"},
			script: "python trigger.py",
			uses:   []string{"trigger.py:2 pipeline-trigger id:77 @job"}},
		{name: "requests.Session with headers.update, quote() of a project path",
			files: map[string]string{"dl.py": "import os\nfrom urllib.parse import quote\nimport requests\n" +
				"s = requests.Session()\ns.headers.update({'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\n" +
				"proj = quote('core/crypto', safe='')\n" +
				"s.get(f\"{os.environ['CI_API_V4_URL']}/projects/{proj}/jobs/artifacts/v1.2/download\", params={'job': 'build_wasm'})\n"},
			script: "python dl.py",
			uses:   []string{"dl.py:7 artifacts-read path:core/crypto @job"}},
		{name: "httpx with the header given inline, URL from an unknown script value stays unresolved",
			files: map[string]string{"u.py": "import os, sys, httpx\n" +
				"pid = sys.argv[1]\n" +
				"httpx.put(f\"{os.environ['CI_API_V4_URL']}/projects/{pid}/packages/generic/a/1/a.bin\", headers={\"JOB-TOKEN\": os.environ[\"CI_JOB_TOKEN\"]}, content=b'')\n"},
			script: "python u.py 55",
			uses:   []string{"u.py:3 packages-write unknown:${sys_argv} ? @job"}},
		{name: "headers dict filled item by item, and a session's headers assigned whole",
			files: map[string]string{"h.py": "import os, requests\n" +
				"headers = {}\nheaders['JOB-TOKEN'] = os.environ['CI_JOB_TOKEN']\n" +
				"requests.get(os.environ['CI_API_V4_URL'] + '/projects/55/releases', headers=headers)\n" +
				"s = requests.Session()\ns.headers = {'JOB-TOKEN': os.environ['CI_JOB_TOKEN']}\n" +
				"s.get(os.environ['CI_API_V4_URL'] + '/projects/56/deployments')\n"},
			script: "python h.py",
			uses:   []string{"h.py:4 releases-read id:55 @job", "h.py:7 deployments-read id:56 @job"}},
		{name: "urllib Request with add_header",
			files: map[string]string{"fetch.py": "import os\nimport urllib.request\n" +
				"req = urllib.request.Request(os.environ['CI_API_V4_URL'] + '/projects/55/releases')\n" +
				"req.add_header('JOB-TOKEN', os.environ['CI_JOB_TOKEN'])\n" +
				"with urllib.request.urlopen(req) as resp:\n    print(resp.read())\n"},
			script: "python3 fetch.py",
			uses:   []string{"fetch.py:4 releases-read id:55 @job"}},
		{name: "python -c inline code with the string's own quotes",
			script: `python3 -c 'import os,requests; requests.get(os.environ["CI_API_V4_URL"]+"/projects/55/packages/pypi/simple/x", headers={"JOB-TOKEN": os.environ["CI_JOB_TOKEN"]})'`,
			uses:   []string{".gitlab-ci.yml:1 packages-read id:55 @job"}},
		{name: "python here-document on stdin, expanded by the shell",
			script: "python3 - <<EOF\nimport requests\nrequests.get('$CI_API_V4_URL/projects/55/releases', headers={'JOB-TOKEN': '$CI_JOB_TOKEN'})\nEOF",
			uses:   []string{".gitlab-ci.yml:3 releases-read id:55 @job"}},
		{name: "python -m module in the repository",
			files: map[string]string{"tools/release/__main__.py": "import os, requests\n" +
				"requests.get(os.environ['CI_API_V4_URL'] + '/projects/55/releases', headers={'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\n"},
			script: "python -m tools.release",
			uses:   []string{"tools/release/__main__.py:2 releases-read id:55 @job"}},
		{name: "a commented-out call and a URL in a docstring are no use",
			files: map[string]string{"c.py": "\"\"\"Usage: requests.get(url, headers={'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\"\"\"\nimport os, requests\n" +
				"# requests.get(os.environ['CI_API_V4_URL'] + '/projects/55/releases', headers={'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\n"},
			script: "python c.py"},
		{name: "JOB_TOKEN header spelled with an underscore will not work",
			files: map[string]string{"c.py": "import os, requests\n" +
				"requests.get(os.environ['CI_API_V4_URL'] + '/projects/55/releases', headers={'JOB_TOKEN': os.environ['CI_JOB_TOKEN']})\n"},
			script:  "python c.py",
			notes:   []string{"c.py:2 will-not-work"},
			noteHas: "JOB_TOKEN"},
		{name: "the job token sent by a script to another host",
			files: map[string]string{"c.py": "import os, requests\n" +
				"requests.get('https://artifacts.other.org/x.tgz', headers={'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\n"},
			script:  "python c.py",
			notes:   []string{"c.py:2 other-host"},
			noteHas: "artifacts.other.org"},
		{name: "python script missing from the repository: nothing",
			script: "python3 ci/absent.py"},

		// Ruby.
		{name: "gitlab gem client with the job token, create_release on another project",
			files: map[string]string{"scripts/release.rb": "#!/usr/bin/env ruby\nrequire 'gitlab'\n\n" +
				"client = Gitlab.client(\n  endpoint: ENV['CI_API_V4_URL'],\n  private_token: ENV['CI_JOB_TOKEN']\n)\n" +
				"client.create_release('platform/tools', 'v1.0', name: 'v1.0')\n"},
			script: "bundle exec ruby scripts/release.rb",
			uses:   []string{"scripts/release.rb:8 releases-write path:platform/tools @job"}},
		{name: "gitlab gem configured through GITLAB_API_PRIVATE_TOKEN, call without parentheses",
			vars: []ciconfig.Variable{v("GITLAB_API_PRIVATE_TOKEN", "$CI_JOB_TOKEN", 2)},
			files: map[string]string{"notes.rb": "require 'gitlab'\n" +
				"Gitlab.file_contents 'platform/ci-config', 'versions.yml', 'main'\n"},
			script: "ruby notes.rb",
			uses:   []string{"notes.rb:2 repository-read path:platform/ci-config @job"}},
		{name: "gitlab gem Gitlab.configure block",
			files: map[string]string{"r.rb": "require 'gitlab'\nGitlab.configure do |config|\n" +
				"  config.endpoint = ENV.fetch('CI_API_V4_URL')\n  config.private_token = ENV.fetch('CI_JOB_TOKEN')\nend\n" +
				"Gitlab.job_artifacts_download(55, 'main', 'build')\n"},
			script: "ruby r.rb",
			uses:   []string{"r.rb:6 artifacts-read id:55 @job"}},
		{name: "Net::HTTP request with the JOB-TOKEN header set after creation",
			files: map[string]string{"get.rb": "require 'net/http'\n" +
				"uri = URI(\"#{ENV['CI_API_V4_URL']}/projects/55/packages/generic/a/1/a.tgz\")\n" +
				"req = Net::HTTP::Get.new(uri)\nreq['JOB-TOKEN'] = ENV['CI_JOB_TOKEN']\n" +
				"res = Net::HTTP.start(uri.hostname, uri.port, use_ssl: true) { |http| http.request(req) }\n"},
			script: "ruby get.rb",
			uses:   []string{"get.rb:4 packages-read id:55 @job"}},
		{name: "ruby -e with HTTParty",
			script: `ruby -e 'require "httparty"; HTTParty.post("#{ENV["CI_API_V4_URL"]}/projects/55/releases", headers: { "JOB-TOKEN" => ENV["CI_JOB_TOKEN"] }, body: { tag_name: "v1" })'`,
			uses:   []string{".gitlab-ci.yml:1 releases-write id:55 @job"}},

		// Node.
		{name: "fetch with the JOB-TOKEN header and a template literal",
			files: map[string]string{"scripts/publish.mjs": "const api = process.env.CI_API_V4_URL;\n" +
				"const res = await fetch(`${api}/projects/${encodeURIComponent('platform/tools')}/packages/generic/cli/2.0/cli.tgz`, {\n" +
				"  method: 'PUT',\n  headers: { 'JOB-TOKEN': process.env.CI_JOB_TOKEN },\n  body: data,\n});\n"},
			script: "node scripts/publish.mjs",
			uses:   []string{"scripts/publish.mjs:2 packages-write path:platform/tools @job"}},
		{name: "axios.create with baseURL and headers, then get",
			files: map[string]string{"r.js": "const axios = require('axios');\n" +
				"const gl = axios.create({ baseURL: process.env.CI_API_V4_URL, headers: { 'JOB-TOKEN': process.env.CI_JOB_TOKEN } });\n" +
				"// gl.get('/projects/99/releases')\n" +
				"gl.get('/projects/55/releases').then(r => console.log(r.data));\n"},
			script: "node r.js",
			uses:   []string{"r.js:4 releases-read id:55 @job"}},
		{name: "got with searchParams job_token",
			files: map[string]string{"d.js": "import got from 'got';\n" +
				"await got(process.env.CI_API_V4_URL + '/projects/55/jobs/artifacts/main/download', { searchParams: { job: 'build', job_token: process.env.CI_JOB_TOKEN } });\n"},
			script: "node d.js",
			uses:   []string{"d.js:2 artifacts-read id:55 @job"}},
		{name: "gitbeaker with jobToken",
			files: map[string]string{"release.js": "const { Gitlab } = require('@gitbeaker/rest');\n" +
				"const api = new Gitlab({ host: process.env.CI_SERVER_URL, jobToken: process.env.CI_JOB_TOKEN });\n" +
				"await api.Releases.create('platform/tools', { tag_name: 'v1' });\n"},
			script: "node release.js",
			uses:   []string{"release.js:3 releases-write path:platform/tools @job"}},
		{name: "gitbeaker with token: the job token as PRIVATE-TOKEN will not work",
			files: map[string]string{"release.js": "import { Gitlab } from '@gitbeaker/rest';\n" +
				"const api = new Gitlab({ host: process.env.CI_SERVER_URL, token: process.env.CI_JOB_TOKEN });\n" +
				"await api.JobArtifacts.downloadArchive(55, { ref: 'main', job: 'build' });\n"},
			script:  "node release.js",
			notes:   []string{"release.js:3 will-not-work"},
			noteHas: "PRIVATE-TOKEN"},
		{name: "node -e with fetch and the token from || default",
			script: `node -e 'fetch(process.env.CI_API_V4_URL + "/projects/55/releases", {headers: {"JOB-TOKEN": process.env.GL_TOKEN || process.env.CI_JOB_TOKEN}})'`,
			uses:   []string{".gitlab-ci.yml:1 releases-read id:55 @job"}},
		{name: "a JavaScript string holding // and a block comment holding a call",
			files: map[string]string{"x.js": "const u = 'https://x.example//y'; /* fetch(process.env.CI_API_V4_URL + '/projects/9/releases', {headers: {'JOB-TOKEN': process.env.CI_JOB_TOKEN}}) */\n" +
				"fetch(process.env.CI_API_V4_URL + '/projects/55/releases', {headers: {'JOB-TOKEN': process.env.CI_JOB_TOKEN}})\n"},
			script: "node x.js",
			uses:   []string{"x.js:2 releases-read id:55 @job"}},

		// Tools that use the token implicitly.
		{name: "semantic-release with GITLAB_TOKEN=$CI_JOB_TOKEN creates the release on the own project",
			vars:   []ciconfig.Variable{v("GITLAB_TOKEN", "$CI_JOB_TOKEN", 2)},
			script: "npx semantic-release",
			uses:   []string{".gitlab-ci.yml:1 releases-write id:100 @job"}},
		{name: "semantic-release with a PAT in GL_TOKEN is no job-token use",
			vars:   []ciconfig.Variable{v("GL_TOKEN", "$RELEASE_PAT", 2), v("GITLAB_TOKEN", "$CI_JOB_TOKEN", 3)},
			script: "npx --yes semantic-release@24"},
	})
}

func TestScriptDetectorReleaseCLIOtherServer(t *testing.T) {
	runRows(t, "api", []row{
		{name: "release-cli --server-url on another host sends the token there",
			script:  "release-cli --server-url https://gitlab.other.org create --name v1 --tag-name v1",
			notes:   []string{".gitlab-ci.yml:1 other-host"},
			noteHas: "gitlab.other.org"},
		{name: "release-cli --server-url on this server, --project-id another project",
			script: "release-cli --server-url \"$CI_SERVER_URL\" --project-id 55 create --tag-name v1",
			uses:   []string{".gitlab-ci.yml:1 releases-write id:55 @job"}},
	})
}

// Hostile scripts: unterminated strings, deep nesting, huge input and
// binary bytes end without a panic or a hang, and find nothing false.
func TestScriptDetectorHostile(t *testing.T) {
	srcs := map[string]string{
		"a.py": "x = '" + strings.Repeat("(", 5000),
		"b.py": strings.Repeat("f(", 20000) + "\n" + strings.Repeat("{", 20000),
		"c.rb": "=begin\n" + strings.Repeat("x", 1000),
		"d.js": "`${`${`${" + strings.Repeat("`${", 3000),
		"e.py": "f'{" + strings.Repeat("f'{", 2000) + "\n\x00\xff",
		"f.py": strings.Repeat("a = a + a\n", 30) + "requests.get(a, headers={'JOB-TOKEN': a})\n",
	}
	for name, src := range srcs {
		interp := map[string]string{"py": "python", "rb": "ruby", "js": "node"}[name[len(name)-2:]]
		out := runDetectors(t, job{caller: testCaller, script: interp + " " + name, scriptLine: 1, files: map[string]string{name: src}}, "script")
		if len(out.Uses)+len(out.Notes) != 0 {
			t.Errorf("%s: %v %v", name, out.Uses, out.Notes)
		}
	}
}

func TestScriptDetectorIsListed(t *testing.T) {
	found := false
	for _, d := range detect.All() {
		found = found || d.Name() == "script"
	}
	if !found {
		t.Fatal("the script detector is not in detect.All()")
	}
}

// Evidence shows the script's line as written (a here-document before
// the shell expanded it) and the command that ran it.
func TestScriptDetectorEvidence(t *testing.T) {
	out := runDetectors(t, row{script: "python3 - <<EOF\nimport requests\nrequests.get('$CI_API_V4_URL/projects/55/releases', headers={'JOB-TOKEN': '$CI_JOB_TOKEN'})\nEOF"}.job(), "script")
	if len(out.Uses) != 1 {
		t.Fatalf("uses: %v", out.Uses)
	}
	d := out.Uses[0].Evidence.Detail
	for _, want := range []string{"requests.get('$CI_API_V4_URL/projects/55/releases'", "'JOB-TOKEN': '$CI_JOB_TOKEN'", "requests, python3 -"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail %q lacks %q", d, want)
		}
	}
	files := map[string]string{"ci/r.py": "import os, requests\nrequests.get(os.environ['CI_API_V4_URL'] + '/projects/55/releases', headers={'JOB-TOKEN': os.environ['CI_JOB_TOKEN']})\n"}
	out = runDetectors(t, row{script: "echo start\npython3 ci/r.py", files: files}.job(), "script")
	if len(out.Uses) != 1 || !strings.Contains(out.Uses[0].Evidence.Detail, "run by python3 ci/r.py at .gitlab-ci.yml:2") {
		t.Errorf("uses: %+v", out.Uses)
	}
}
