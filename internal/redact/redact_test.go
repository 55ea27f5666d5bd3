package redact

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/a/b.git",
			"git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/a/b.git"},
		{"git clone https://gitlab-ci-token:" + JobToken + "@h/a/b.git",
			"git clone https://gitlab-ci-token:[MASKED]@h/a/b.git"},
		{"git clone https://oauth2:s3cretvalue@h/a/b.git", "git clone https://oauth2:[MASKED]@h/a/b.git"},
		{`curl -H "PRIVATE-TOKEN: glpat-abcdefghijklmnopqrst" https://h/api/v4/projects/1`,
			`curl -H "PRIVATE-TOKEN: [MASKED]" https://h/api/v4/projects/1`},
		{`curl -H "JOB-TOKEN: $CI_JOB_TOKEN" x`, `curl -H "JOB-TOKEN: $CI_JOB_TOKEN" x`},
		{`curl --header "Authorization: Bearer abc.def-ghi" x`, `curl --header "Authorization: Bearer [MASKED]" x`},
		{`curl -F token=glptt-0123456789abcdef0123 -F ref=main u`, `curl -F token=[MASKED] -F ref=main u`},
		{`curl -F token=$TRIGGER_TOKEN u`, `curl -F token=$TRIGGER_TOKEN u`},
		{`wget "https://h/x?job_token=abcdef123456&job=build"`, `wget "https://h/x?job_token=[MASKED]&job=build"`},
		{`remote: token=glcbt-66_Xy7zAbCdEfGhIjKl`, `remote: token=[MASKED]`},
		{"//h/api/v4/projects/1/packages/npm/:_authToken=${CI_JOB_TOKEN}", "//h/api/v4/projects/1/packages/npm/:_authToken=${CI_JOB_TOKEN}"},
		{"//h/api/v4/packages/npm/:_authToken=npm_literal123", "//h/api/v4/packages/npm/:_authToken=[MASKED]"},
		{"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlc2ln", "Authorization: Bearer [MASKED]"},
		{"set %CI_JOB_TOKEN% https://u:%CI_JOB_TOKEN%@h/x", "set %CI_JOB_TOKEN% https://u:%CI_JOB_TOKEN%@h/x"},
		// Environment reads in scripts are code, not credentials.
		{`gitlab.Gitlab(url, job_token=os.environ["CI_JOB_TOKEN"])`, `gitlab.Gitlab(url, job_token=os.environ["CI_JOB_TOKEN"])`},
		{`requests.get(u, headers={"JOB-TOKEN": os.environ["CI_JOB_TOKEN"]})`, `requests.get(u, headers={"JOB-TOKEN": os.environ["CI_JOB_TOKEN"]})`},
		{`headers: { 'JOB-TOKEN': process.env.CI_JOB_TOKEN }`, `headers: { 'JOB-TOKEN': process.env.CI_JOB_TOKEN }`},
		{`job_token=os_environ_lookalike123`, `job_token=[MASKED]`},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestStringNeverLeaksMarker(t *testing.T) {
	s := String("x " + JobToken + " y " + JobToken)
	if strings.Contains(s, JobToken) {
		t.Fatalf("marker leaked: %q", s)
	}
}

func BenchmarkString(b *testing.B) {
	in := `git clone --depth 1 "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/build-scripts.git" /tmp/build-scripts`
	for b.Loop() {
		String(in)
	}
}

func BenchmarkStringPlain(b *testing.B) {
	in := `docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA" .`
	for b.Loop() {
		String(in)
	}
}

func TestStringMore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a glpat-short b", "a glpat-short b"}, // too short to be a token
		{"xglpat-abcdefghijkl", "xglpat-abcdefghijkl"},
		{"glpat-abcdefghijkl,glptt-0123456789ab", "[MASKED],[MASKED]"},
		{"https://u:p@h/x https://v:$P@h/y", "https://u:[MASKED]@h/x https://v:$P@h/y"},
		{"Job-Token: abc123", "Job-Token: [MASKED]"},
		{"password=hunter22&user=x", "password=[MASKED]&user=x"},
		{"İstanbul PRIVATE-TOKEN: sekret", "İstanbul PRIVATE-TOKEN: [MASKED]"},
		{"no secrets here, x=1", "no secrets here, x=1"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"https://a:b@c/d", "PRIVATE-TOKEN: x", "token=glpat-aaaaaaaaaaaa", "eyJaaaaaaaaaaa.eyJbbbbbbbbbbbb.cccccccccc", "İ" + JobToken} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if strings.Contains(out, JobToken) {
			t.Fatalf("marker leaked: %q", out)
		}
		if String(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, String(out))
		}
	})
}
