package shell

import (
	"slices"
	"testing"
)

// TestWrittenScripts: scripts a job writes (heredoc, printf, echo, tee)
// and then runs are analysed with the job's variables. Shapes from real
// jobs: a deploy script generated in before_script, a helper written to
// /tmp and sourced, a script assembled line by line with echo >>.
func TestWrittenScripts(t *testing.T) {
	env := MapEnv{"CI_JOB_TOKEN": "[MASKED]", "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_DIR": "/builds/acme/app"}
	tests := []struct {
		name, src string
		want      []string // rendered commands named curl or git
	}{
		{"quoted heredoc, bash file", "cat > deploy.sh <<'EOF'\n#!/bin/bash\ncurl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/projects/42/packages/generic/x/1/x.tgz\"\nEOF\nbash deploy.sh",
			[]string{`10: curl --header "JOB-TOKEN: [MASKED]" https://gitlab.example.com/api/v4/projects/42/packages/generic/x/1/x.tgz`}},
		{"unquoted heredoc expands at write time", "P=acme/lib\ncat <<EOF > /tmp/fetch.sh\ngit clone https://gitlab-ci-token:\\${CI_JOB_TOKEN}@gitlab.example.com/$P.git\nEOF\nchmod +x /tmp/fetch.sh\n/tmp/fetch.sh",
			[]string{"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/lib.git"}},
		{"printf then sh", `printf '%s\n' 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/acme/tools.git"' > get.sh; sh get.sh`,
			[]string{"10: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/tools.git"}},
		{"echo >> lines, source", "echo 'export REPO=acme/cfg' > env.sh\necho 'git clone https://gitlab-ci-token:$CI_JOB_TOKEN@gitlab.example.com/$REPO' >> env.sh\nsource ./env.sh",
			[]string{"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/cfg"}},
		{"tee from heredoc, ./file in project dir", "tee $CI_PROJECT_DIR/run.sh <<'EOF'\ngit fetch https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/acme/x.git\nEOF\n./run.sh",
			[]string{"10: git fetch https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/x.git"}},
		{"overwritten by unknown content: forgotten", "echo 'git clone https://h/a.git' > s.sh\ncurl -o s.sh https://h/s.sh; cat \"$UNKNOWN_FILE\" > s.sh\nbash s.sh",
			[]string{"11: curl -o s.sh https://h/s.sh"}},
		{"heredoc with a branch-dependent project: each content runs", "if [ \"$CI_COMMIT_BRANCH\" = main ]; then P=acme/prod; else P=acme/dev; fi\ncat > /tmp/get.sh <<EOF\ngit clone https://gitlab-ci-token:\\${CI_JOB_TOKEN}@gitlab.example.com/$P.git\nEOF\nsh /tmp/get.sh",
			[]string{"11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/dev.git", "11: git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/prod.git"}},
		{"python script written: not shell", "cat > x <<'EOF'\n#!/usr/bin/env python3\nimport os\nEOF\n./x",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(script(tt.src), env, Options{})
			var got []string
			for _, c := range r.Commands {
				if c.Name() == "curl" || c.Name() == "git" {
					got = append(got, render(c))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q\ndiags %v", got, tt.want, r.Diags)
			}
		})
	}
}
