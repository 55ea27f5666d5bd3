package detect_test

import "testing"

// Git configuration written to any file git reads gives the job token to
// later git commands (issue 12 item 5). Shapes from public projects:
// insteadOf rewrites set with git config --global, a ~/.gitconfig or
// $GIT_CONFIG_GLOBAL written by a here-document, git config --file then
// GIT_CONFIG_GLOBAL=F, includeIf.
func TestGitConfigFiles(t *testing.T) {
	const clone = "git clone https://git.example.org/acme/lib.git"
	const tokURL = "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/"
	use := func(line string) []string {
		return []string{".gitlab-ci.yml:" + line + " repository-read path:acme/lib @job"}
	}
	runRows(t, "git", []row{
		{name: "git config --global insteadOf",
			script: "git config --global url.\"" + tokURL + "\".insteadOf \"https://git.example.org/\"\n" + clone,
			uses:   use("2")},
		{name: "git config --global credential helper",
			script: "git config --global credential.helper '!f() { echo username=gitlab-ci-token; echo \"password=$CI_JOB_TOKEN\"; }; f'\n" + clone,
			uses:   use("2")},
		{name: "~/.gitconfig written by a here-document",
			script: "cat > ~/.gitconfig <<EOF\n[url \"" + tokURL + "\"]\n    insteadOf = https://git.example.org/\nEOF\n" + clone,
			uses:   use("5")},
		{name: "~/.gitconfig appended by echo",
			script: "echo '[url \"https://gitlab-ci-token:'\"$CI_JOB_TOKEN\"'@git.example.org/\"]' >> $HOME/.gitconfig\necho '  insteadOf = https://git.example.org/' >> $HOME/.gitconfig\n" + clone,
			uses:   use("3")},
		{name: "$GIT_CONFIG_GLOBAL written by a here-document",
			script: "export GIT_CONFIG_GLOBAL=/tmp/gitconfig\ncat > \"$GIT_CONFIG_GLOBAL\" <<EOF\n[credential \"https://git.example.org\"]\n  helper = \"!f() { echo username=gitlab-ci-token; echo password=${CI_JOB_TOKEN}; }; f\"\nEOF\n" + clone,
			uses:   use("6")},
		{name: "git config --file F then GIT_CONFIG_GLOBAL=F",
			script: "git config --file /tmp/ci.gitconfig url.\"" + tokURL + "\".insteadOf https://git.example.org/\nGIT_CONFIG_GLOBAL=/tmp/ci.gitconfig " + clone,
			uses:   use("2")},
		{name: "includeIf path written by a here-document",
			script: "cat > /tmp/token.inc <<EOF\n[url \"" + tokURL + "\"]\n  insteadOf = https://git.example.org/\nEOF\ngit config --global includeIf.gitdir:/builds/.path /tmp/token.inc\n" + clone,
			uses:   use("6")},
		{name: "config file written but never read by git: no use",
			script: "cat > /tmp/unused.gitconfig <<EOF\n[url \"" + tokURL + "\"]\n  insteadOf = https://git.example.org/\nEOF\n" + clone,
			notes:  nil},
	})
}
