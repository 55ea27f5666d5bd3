package ciconfig

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// A job whose extends or !reference target is in an include that is not in
// the snapshot is analysed with what is known, with a warning naming the
// missing part and the include; so are the jobs that extend it. Without an
// unread include the name is simply unknown and GitLab rejects the
// configuration (an error, as before).
func TestMissingExtendsTarget(t *testing.T) {
	const inc = "include:\n  - project: platform/not-snapshotted\n    file: templates/base.yml\n"
	for _, tc := range []struct {
		name    string
		ci      string
		jobs    []string
		scripts map[string][]string
		warn    []string // substrings of the warnings
		err     string   // substring of an error, "" for none
	}{
		{
			name:    "extends a hidden job of an include not in the snapshot",
			ci:      inc + "build:\n  extends: .base-build\n  image: alpine\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/g/lib.git\n",
			jobs:    []string{"build"},
			scripts: map[string][]string{"build": {"git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/g/lib.git"}},
			warn:    []string{"build: extends .base-build, which is not in the files read", "include:project platform/not-snapshotted (templates/base.yml) is not in the snapshot (.gitlab-ci.yml:2)"},
		},
		{
			name:    "the job has no script of its own, and a job extends it",
			ci:      inc + ".local:\n  variables: {A: a}\nbuild:\n  extends: [.local, .base-build]\n  variables: {B: b}\ndeploy:\n  extends: build\n  script: [./deploy.sh]\n",
			jobs:    []string{"build", "deploy"},
			scripts: map[string][]string{"build": nil, "deploy": {"./deploy.sh"}},
			warn:    []string{"build: extends .base-build, which is not in the files read"},
		},
		{
			name:    "a !reference to a hidden job of an include not in the snapshot",
			ci:      inc + "test:\n  script:\n    - !reference [.setup, script]\n    - make test\n",
			jobs:    []string{"test"},
			scripts: map[string][]string{"test": {"make test"}},
			warn:    []string{`!reference [".setup", "script"] is not in the files read`, "platform/not-snapshotted"},
		},
		{
			name: "without an unread include the name is unknown",
			ci:   "build:\n  extends: .nowhere\n  script: [make]\nok:\n  script: [make]\n",
			jobs: []string{"ok"},
			err:  "build: unknown keys in `extends` (.nowhere)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadApp(t, tc.ci, nil)
			equalStrings(t, "jobs", jobNames(cfg), tc.jobs)
			for name, want := range tc.scripts {
				equalStrings(t, name+" script", texts(jobNamed(t, cfg, name).Script), want)
			}
			var warns, errs []string
			for _, d := range cfg.Diags {
				s := d.Summary + " (" + d.Detail + ")"
				if d.Severity == diag.Error {
					errs = append(errs, s)
				} else {
					warns = append(warns, s)
				}
			}
			for _, w := range tc.warn {
				if !strings.Contains(strings.Join(warns, "\n"), w) {
					t.Errorf("no warning with %q in %q", w, warns)
				}
			}
			if tc.err == "" && len(errs) > 0 || tc.err != "" && !strings.Contains(strings.Join(errs, "\n"), tc.err) {
				t.Errorf("errors %q, want one with %q", errs, tc.err)
			}
		})
	}
}

// Jobs whose every rule ends in when: never never run; rules whose outcome
// depends on run-time values keep the job.
func TestNeverRuns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules string
		never bool
	}{
		{"when: never alone", "  rules:\n    - when: never\n", true},
		{"every rule ends in when: never", "  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - if: $CI_MERGE_REQUEST_IID\n      changes: [a/**]\n      when: never\n", true},
		{"through !reference", "  rules:\n    - !reference [.never, rules]\n    - when: never\n", true},
		{"an if decides at run time", "  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - if: $CI_COMMIT_BRANCH == \"main\"\n", false},
		{"a fallback rule", "  rules:\n    - if: $SKIP\n      when: never\n    - when: on_success\n", false},
		{"a referenced rule that runs", "  rules:\n    - !reference [.sometimes, rules]\n", false},
		{"no rules", "", false},
		{"empty rules", "  rules: []\n", false},
		{"manual", "  rules:\n    - when: manual\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ci := ".never:\n  rules:\n    - if: $A\n      when: never\n.sometimes:\n  rules:\n    - if: $A\n      when: never\n    - when: always\njob:\n  script: [make]\n" + tc.rules
			cfg := loadApp(t, ci, nil)
			requireClean(t, cfg)
			j := jobNamed(t, cfg, "job")
			if j.Never != tc.never {
				t.Errorf("Never = %v, want %v", j.Never, tc.never)
			}
			noted := false
			for _, n := range cfg.Notes {
				if n.Kind == NeverRuns && n.Job == "job" {
					noted = true
				}
			}
			if noted != tc.never {
				t.Errorf("never-runs note: %v, want %v (%+v)", noted, tc.never, cfg.Notes)
			}
		})
	}
}
