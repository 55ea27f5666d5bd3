package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Tools that send the job token without naming it on their command line.
// release-cli, glab with a job-token login and download-secure-files are
// read in api.go; this file holds what they share with the tools below.

// semanticRelease handles semantic-release with @semantic-release/gitlab:
// the plugin takes its token from GL_TOKEN or GITLAB_TOKEN (lib/resolve-config.js)
// and sends it as JOB-TOKEN when it has the job token's glcbt- prefix,
// else as PRIVATE-TOKEN (lib/get-token-header.js), to the releases API of
// the project its repository URL names: the job's own project unless
// the configuration says otherwise
// (https://github.com/semantic-release/gitlab#using-a-ci-job-token;
// https://docs.gitlab.com/ci/jobs/ci_job_token/#the-semantic-release-tool-and-job-tokens).
func (in *Input) semanticRelease(c *shell.Command, out *Output) {
	ws := argv(c)
	if !runsSemanticRelease(ws) {
		return
	}
	for _, name := range []string{"GL_TOKEN", "GITLAB_TOKEN"} {
		v, ok := in.getenv(c, name)
		if !ok {
			continue
		}
		if !HasJobToken(v) {
			return // GL_TOKEN wins over GITLAB_TOKEN
		}
		id, _ := in.getenv(c, "CI_PROJECT_ID")
		out.Uses = append(out.Uses, in.UseAt(c, access.ReleasesWrite, projectRef(id),
			CommandText(c)+" (semantic-release's GitLab plugin creates the release with "+name+"; the token goes as JOB-TOKEN only with the glcbt- prefix)"))
		return
	}
}

// runsSemanticRelease: semantic-release, npx semantic-release,
// npx --yes semantic-release@24, yarn semantic-release, pnpm exec ...
func runsSemanticRelease(ws []shell.Word) bool {
	isSR := func(v string) bool {
		return v == "semantic-release" || strings.HasPrefix(v, "semantic-release@")
	}
	name := cmdBase(ws[0].Value)
	if isSR(name) {
		return true
	}
	switch name {
	case "npx", "yarn", "pnpm", "bunx", "npm":
	default:
		return false
	}
	for _, w := range ws[1:] {
		switch v := w.Value; {
		case isSR(v):
			return true
		case strings.HasPrefix(v, "-"), v == "exec", v == "dlx", v == "run":
		default:
			if !strings.HasPrefix(v, "--package") {
				return false
			}
		}
	}
	return false
}

// releaseCLIOtherServer reports (and notes) a release-cli call whose
// --server-url points at another host: the token goes there, not to this
// server. release-cli reads --server-url (default $CI_SERVER_URL),
// --job-token ($CI_JOB_TOKEN) and --project-id ($CI_PROJECT_ID)
// (https://gitlab.com/gitlab-org/release-cli/-/blob/master/docs/index.md).
func (in *Input) releaseCLIOtherServer(c *shell.Command, p parsed, out *Output) bool {
	s, ok := p.last("--server-url")
	if !ok || !s.Known() {
		return false
	}
	u, ok := ParseURL(s.Value)
	if !ok || OnServer(in.Server, u.Host) {
		return false
	}
	out.Notes = append(out.Notes, in.NoteAt(c, use.OtherHost, "release-cli sends the job token to "+u.Host+", which is not this GitLab server: "+CommandText(c)))
	return true
}
