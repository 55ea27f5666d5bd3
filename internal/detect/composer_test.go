package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// composerJSON requires a package from the group endpoint (Composer's
// singular /group/ spelling) on line 5, beside a VCS repository.
const composerJSON = `{
  "name": "acme/app",
  "repositories": [
    {"type": "vcs", "url": "https://github.com/acme/fork"},
    {"type": "composer", "url": "https://git.example.org/api/v4/group/42/-/packages/composer/packages.json"}
  ],
  "require": {"acme/billing": "^2.1"}
}
`

func TestComposerDetector(t *testing.T) {
	files := map[string]string{"composer.json": composerJSON}
	runRows(t, "composer", []row{
		{name: "P24 composer config gitlab-token.<host> gitlab-ci-token $CI_JOB_TOKEN, group repository in composer.json",
			files:  files,
			script: "composer config -- gitlab-token.git.example.org gitlab-ci-token \"${CI_JOB_TOKEN}\"\ncomposer install --no-progress",
			uses:   []string{"composer.json:5 packages-read group:42 @job"}},
		{name: "P24 the bare-token form (seen in public configs) is reported too",
			files:  files,
			script: "composer config --global gitlab-token.git.example.org $CI_JOB_TOKEN\nphp composer.phar install",
			uses:   []string{"composer.json:5 packages-read group:42 @job"}},
		{name: "P24 COMPOSER_AUTH as GitLab's Composer template sets it (gitlab-oauth)",
			vars:   []ciconfig.Variable{v("COMPOSER_AUTH", `{"gitlab-oauth":{"$CI_SERVER_HOST":"$CI_JOB_TOKEN"}}`, 2)},
			files:  files,
			script: "composer install",
			uses:   []string{"composer.json:5 packages-read group:42 @job"}},
		{name: "P24 auth.json written by the job with http-basic; repository added on the command line",
			script: "composer config repositories.shared composer ${CI_API_V4_URL}/projects/55/packages/composer/packages.json\n" +
				"echo \"{\\\"http-basic\\\": {\\\"git.example.org\\\": {\\\"username\\\": \\\"gitlab-ci-token\\\", \\\"password\\\": \\\"${CI_JOB_TOKEN}\\\"}}}\" > auth.json\n" +
				"composer update",
			uses: []string{".gitlab-ci.yml:1 packages-read id:55 @job"}},
		{name: "P24 http-basic with another user name will not work",
			files:   files,
			script:  "composer config http-basic.git.example.org ci $CI_JOB_TOKEN\ncomposer install",
			notes:   []string{"composer.json:5 will-not-work"},
			noteHas: "user name ci"},
		{name: "P24 no download command: config alone reads nothing",
			files:  files,
			script: "composer config gitlab-token.git.example.org gitlab-ci-token $CI_JOB_TOKEN\ncomposer validate"},
		{name: "P24 a deploy token is no job-token use",
			files:  files,
			script: "composer config gitlab-token.git.example.org deployer $COMPOSER_DEPLOY_TOKEN\ncomposer install"},
		{name: "P24 the job writes auth.json over a committed placeholder one",
			files:  map[string]string{"composer.json": composerJSON, "auth.json": `{"gitlab-token": {"git.example.org": {"username": "gitlab-ci-token", "token": "REPLACE_ME"}}}`},
			script: "echo \"{\\\"gitlab-token\\\": {\\\"git.example.org\\\": {\\\"username\\\": \\\"gitlab-ci-token\\\", \\\"token\\\": \\\"$CI_JOB_TOKEN\\\"}}}\" > auth.json\ncomposer install",
			uses:   []string{"composer.json:5 packages-read group:42 @job"}},
		{name: "P24 a committed auth.json is read literally: no variable expansion",
			files:  map[string]string{"composer.json": composerJSON, "auth.json": `{"gitlab-token": {"git.example.org": "$CI_JOB_TOKEN"}}`},
			script: "composer install"},
	})
}
