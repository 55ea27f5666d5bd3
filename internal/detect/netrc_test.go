package detect_test

import "testing"

// The ~/.netrc a job writes is read by both families (git transport, and
// curl -n, wget and pip for the API): a problem with an entry is noted
// once, where it is written, whichever tools later send it.
func TestNetrcAcrossFamilies(t *testing.T) {
	const api = `"$CI_API_V4_URL/projects/55/packages/generic/a/1/a"`
	// Detectors run in detect.All() order: the git family first.
	runRows(t, "", []row{
		{name: "wrong user name: one note at the write, none at curl, wget, pip or git",
			script: "echo \"machine git.example.org login oauth2 password ${CI_JOB_TOKEN}\" > ~/.netrc\ncurl -n -O " + api + "\nwget -q " + api +
				"\npip install --index-url https://git.example.org/api/v4/projects/4/packages/pypi/simple x\ngit clone https://git.example.org/acme/lib.git",
			notes: []string{".gitlab-ci.yml:1 will-not-work"}},
		{name: "token for another host: one note at the write, none at curl",
			script: "echo \"machine github.com login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\ncurl -n -O https://github.com/x",
			notes:  []string{".gitlab-ci.yml:1 other-host"}},
		{name: "default entry with the wrong user name is noted; curl and git send it",
			script: "echo \"default login oauth2 password ${CI_JOB_TOKEN}\" > ~/.netrc\ncurl -n -O " + api + "\ngit clone https://git.example.org/acme/lib.git",
			notes:  []string{".gitlab-ci.yml:1 will-not-work"}},
		{name: "default entry as gitlab-ci-token is a use for curl and git",
			script: "echo \"default login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\ncurl -n -O " + api + "\ngit clone https://git.example.org/acme/lib.git",
			uses:   []string{".gitlab-ci.yml:3 repository-read path:acme/lib @job", ".gitlab-ci.yml:2 packages-read id:55 @job"}},
		{name: "a .netrc copied from the repository serves curl and git",
			files:  map[string]string{"ci/netrc": "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}\n"},
			script: "envsubst < ci/netrc > ~/.netrc\ncurl -n -O " + api + "\ngit clone https://git.example.org/acme/lib.git",
			uses:   []string{".gitlab-ci.yml:3 repository-read path:acme/lib @job", ".gitlab-ci.yml:2 packages-read id:55 @job"}},
		{name: "rm and an overwrite of unknown content end the .netrc for curl and wget",
			script: "echo \"machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\nvault read -field=netrc secret/ci > ~/.netrc\ncurl -n -O " + api +
				"\necho \"machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\nrm -f ~/.netrc\nwget -q " + api},
		{name: "the job token as the user name will not work",
			script: "curl -u \"$CI_JOB_TOKEN:x\" -O " + api,
			notes:  []string{".gitlab-ci.yml:1 will-not-work"}},
	})
}
