package redact

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every secret form the security review found printed or stored, masked;
// the look-alikes that are not secrets (references, numeric ids, prose,
// npm_config_* names) left as they are.
func TestStringSecretForms(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`curl -u deployer:Hunter2pw https://h/x`, `curl -u deployer:[MASKED] https://h/x`},
		{`curl --user "deployer:Hunter2pw" https://h/x`, `curl --user "deployer:[MASKED]" https://h/x`},
		{`curl --user=deployer:Hunter2pw https://h/x`, `curl --user=deployer:[MASKED] https://h/x`},
		{`curl -u "gitlab-ci-token:${CI_JOB_TOKEN}" https://h/x`, `curl -u "gitlab-ci-token:${CI_JOB_TOKEN}" https://h/x`},
		{`docker run -u 1000:1000 img`, `docker run -u 1000:1000 img`},
		{`git push -u origin main`, `git push -u origin main`},
		{`docker login -u bot -p S3cretPass registry.example.com`, `docker login -u bot -p [MASKED] registry.example.com`},
		{`docker login -u bot -p "$REGISTRY_PASSWORD" r`, `docker login -u bot -p "$REGISTRY_PASSWORD" r`},
		{`mkdir -p build/out`, `mkdir -p build/out`},
		{`helm repo add charts https://h --username bot --password S3cretPass`, `helm repo add charts https://h --username bot --password [MASKED]`},
		{`echo "$PW" | docker login --password-stdin -u bot r`, `echo "$PW" | docker login --password-stdin -u bot r`},
		{`skopeo copy --src-creds bot:S3cretPass docker://a docker://b`, `skopeo copy --src-creds bot:[MASKED] docker://a docker://b`},
		{`npm config set //h/:_authToken npm_0123456789abcdefghijABCDEFGHIJ012345`, `npm config set //h/:_authToken [MASKED]`},
		{`npm_config_cache=/tmp/npm npm ci`, `npm_config_cache=/tmp/npm npm ci`},
		{`_auth = ZGVwbG95ZXI6SHVudGVyMnB3`, `_auth = [MASKED]`},
		{`_auth=ZGVwbG95ZXI6SHVudGVyMnB3`, `_auth=[MASKED]`},
		{`//h/api/v4/packages/npm/:_password=SHVudGVyMnB3`, `//h/api/v4/packages/npm/:_password=[MASKED]`},
		{`  <password>Hunter2pw</password>`, `  <password>[MASKED]</password>`},
		{`  <password>${env.CI_JOB_TOKEN}</password>`, `  <password>${env.CI_JOB_TOKEN}</password>`},
		{`<add key="ClearTextPassword" value="Hunter2pw" />`, `<add key="ClearTextPassword" value="[MASKED]" />`},
		{`machine gitlab.example.com login bot password Hunter2pw`, `machine gitlab.example.com login bot password [MASKED]`},
		{`printf "machine %s login gitlab-ci-token password %s\n" "$H" "$CI_JOB_TOKEN" > ~/.netrc`, `printf "machine %s login gitlab-ci-token password %s\n" "$H" "$CI_JOB_TOKEN" > ~/.netrc`},
		{`echo "password is required"`, `echo "password is required"`},
		{`  password = "Hunter2pw"`, `  password = "[MASKED]"`},
		{`  token = var.gitlab_token`, `  token = var.gitlab_token`},
		{`password="Hunter2pw"`, `password="[MASKED]"`},
		{`if [ "$x" == "token=" ]; then`, `if [ "$x" == "token=" ]; then`},
		{`{"auths":{"r.example.com":{"auth":"Ym90Okh1bnRlcjJwdw=="}}}`, `{"auths":{"r.example.com":{"auth":"[MASKED]"}}}`},
		{`DOCKER_AUTH_CONFIG: "{\"auths\":{\"r\":{\"auth\":\"Ym90Okh1bnRlcjJwdw==\"}}}"`, `DOCKER_AUTH_CONFIG: "{\"auths\":{\"r\":{\"auth\":\"[MASKED]\"}}}"`},
		{`Authorization: Basic Ym90Okh1bnRlcjJwdw==`, `Authorization: Basic [MASKED]`},
		{`{"message": "token=abc\" x"}`, `{"message": "token=[MASKED]\" x"}`},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// File keeps the syntax: the masked YAML parses to the same shape (a
// string stays a string, never a list), and String of File's output is
// String of the input, so scans of a snapshot and of the repository print
// the same.
func TestFileKeepsSyntaxAndOutput(t *testing.T) {
	in := `variables:
  DEPLOY_TOKEN: glpat-abcdefghijklmnopqrst
  AUTH: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlc2ln
  NPM: npm_0123456789abcdefghijABCDEFGHIJ012345
job:
  script:
    - docker login -u bot -p S3cretPass registry.example.com
    - curl -u deployer:Hunter2pw "https://h/x?private_token=glpat-zyxwvutsrqponmlkjihg&a=1"
    - git clone https://oauth2:s3cretvalue@h/a/b.git
    - echo "machine h login bot password Hunter2pw" > ~/.netrc
`
	out := File(in)
	for _, secret := range []string{"abcdefghijklmnopqrst", "c2lnbmF0dXJlc2ln", "abcdefghijABCDEFGHIJ", "S3cretPass", "Hunter2pw", "zyxwvutsrqponmlkjihg", "s3cretvalue"} {
		if strings.Contains(out, secret) {
			t.Errorf("File left %q:\n%s", secret, out)
		}
	}
	var a, b map[string]any
	if err := yaml.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("masked file does not parse: %v\n%s", err, out)
	}
	for k, v := range a["variables"].(map[string]any) {
		if _, ok := b["variables"].(map[string]any)[k].(string); !ok {
			t.Errorf("%s was a %T, is now %T", k, v, b["variables"].(map[string]any)[k])
		}
	}
	if strings.Count(in, "\n") != strings.Count(out, "\n") {
		t.Error("line count changed")
	}
	if String(out) != String(in) {
		t.Errorf("String differs between file and masked file:\n%s\n---\n%s", String(in), String(out))
	}
	if File(out) != out {
		t.Error("File is not idempotent")
	}
}
