package detect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// render turns uses and notes into compact lines for comparison:
// "repository-read path=platform/x .gitlab-ci.yml:3" and
// "will-not-work .gitlab-ci.yml:4".
func render(out *Output) (uses, notes []string) {
	for _, u := range out.Uses {
		s := string(u.Access) + " " + string(u.Target.Kind) + "=" + u.Target.Value + " " + u.Evidence.File + ":" + itoa(u.Evidence.Line)
		if u.Target.Reason != "" {
			s += " (unresolved)"
		}
		uses = append(uses, s)
	}
	for _, n := range out.Notes {
		notes = append(notes, string(n.Kind)+" "+n.File+":"+itoa(n.Line))
	}
	return uses, notes
}

func TestDetectorsOnBuiltCommands(t *testing.T) {
	clone := func(line int, url string, value string) *shell.Command {
		c := cmdAt(line, "git", "clone")
		c.Args = append(c.Args, wd(url, value))
		return c
	}
	tokURL := func(user, hostPath string) string { return "https://" + user + ":" + tok + "@" + hostPath }
	for _, tc := range []struct {
		name        string
		det         Detector
		cmds        []*shell.Command
		uses, notes []string
	}{
		{"P01 literal token URL", gitDetector{},
			[]*shell.Command{clone(3, `https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git`, tokURL("gitlab-ci-token", "git.example.org/acme/tools/helpers.git"))},
			[]string{"repository-read path=acme/tools/helpers .gitlab-ci.yml:3"}, nil},
		{"P03 own project is a use the graph turns into a note", gitDetector{},
			[]*shell.Command{clone(3, `x`, tokURL("gitlab-ci-token", "git.example.org/apps/web.git"))},
			[]string{"repository-read path=apps/web .gitlab-ci.yml:3"}, nil},
		{"trap oauth2 user", gitDetector{},
			[]*shell.Command{clone(4, `x`, tokURL("oauth2", "git.example.org/apps/api.git"))},
			nil, []string{"will-not-work .gitlab-ci.yml:4"}},
		{"trap token to github.com", gitDetector{},
			[]*shell.Command{clone(5, `x`, tokURL("x-access-token", "github.com/acme/public-data.git"))},
			nil, []string{"other-host .gitlab-ci.yml:5"}},
		{"trap deploy token", gitDetector{},
			[]*shell.Command{clone(6, `x`, "https://deployer:gldt-secret@git.example.org/infra/charts.git")},
			nil, []string{"not-a-job-token-edge .gitlab-ci.yml:6"}},
		{"unknown path is unresolved", gitDetector{},
			[]*shell.Command{clone(7, `x`, tokURL("gitlab-ci-token", "git.example.org/${FIXTURES_REPO}.git"))},
			[]string{"repository-read path=${FIXTURES_REPO} .gitlab-ci.yml:7 (unresolved)"}, nil},
		{"P11 push to another project", gitDetector{},
			[]*shell.Command{{Args: []shell.Word{wd("git"), wd("push"), wd("x", tokURL("gitlab-ci-token", "git.example.org/releases/bin-drop.git")), wd("HEAD:main")},
				Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 8}}},
			[]string{"repository-write path=releases/bin-drop .gitlab-ci.yml:8"}, []string{"will-not-work .gitlab-ci.yml:8"}},
		{"P06 netrc then plain clone", gitDetector{},
			[]*shell.Command{
				{Args: []shell.Word{wd("echo"), wd("x", "machine git.example.org login gitlab-ci-token password "+tok)},
					Redirects: []shell.Redirect{{Op: ">", Target: wd("~/.netrc")}}, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 2}},
				clone(3, "https://git.example.org/acme/lib.git", "https://git.example.org/acme/lib.git"),
				{Args: []shell.Word{wd("rm"), wd("-f"), wd("~/.netrc")}, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 4}},
				clone(5, "https://git.example.org/acme/other.git", "https://git.example.org/acme/other.git")},
			[]string{"repository-read path=acme/lib .gitlab-ci.yml:3"}, nil},
		{"P12 image from another project, services from Docker Hub", registryDetector{}, nil,
			[]string{"container-read image=platform/ci-images/builder .gitlab-ci.yml:1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(tc.cmds...)
			if tc.name[:3] == "P12" {
				in.Job.Image = &ciconfig.Image{Name: "registry.example.org/platform/ci-images/builder:1.4", Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 1}}
				in.Job.Services = []ciconfig.Image{{Name: "docker:27-dind", Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 2}}}
			}
			out := &Output{}
			tc.det.Detect(in, out)
			uses, notes := render(out)
			if !reflect.DeepEqual(uses, tc.uses) || !reflect.DeepEqual(notes, tc.notes) {
				t.Errorf("uses = %q\nnotes = %q\nwant uses %q\nnotes %q", uses, notes, tc.uses, tc.notes)
			}
			for _, u := range out.Uses {
				if strings.Contains(u.Evidence.Detail, tok) || strings.Contains(u.Target.Reference, tok) {
					t.Errorf("marker leaked in %+v", u)
				}
			}
			for _, n := range out.Notes {
				if strings.Contains(n.Detail, tok) {
					t.Errorf("marker leaked in %+v", n)
				}
			}
		})
	}
}

// TestHugeAndHostileCommands runs every detector on commands with huge
// words, many appends to credential files and unknown parts: no panic,
// bounded time.
func TestHugeAndHostileCommands(t *testing.T) {
	huge := strings.Repeat("a/", 8000) + ".git" // 16 kB words; evidence is redacted in full, then bounded
	var cmds []*shell.Command
	for i := 0; i < 1000; i++ { // 56 kB of appends, past the 16 kB bound
		c := cmdAt(i+1, "echo", "machine git.example.org login gitlab-ci-token password x")
		c.Redirects = []shell.Redirect{{Op: ">>", Target: wd("~/.netrc")}}
		cmds = append(cmds, c)
	}
	cmds = append(cmds,
		cmdAt(1, "git", "clone", "https://gitlab-ci-token:"+tok+"@git.example.org/"+huge),
		cmdAt(2, "git", "-c", "url."+huge+".insteadOf="+huge, "clone", huge),
		cmdAt(3, "docker", "pull", "registry.example.org/"+huge),
		cmdAt(4, "docker", "build", "-f", huge, huge),
		cmdAt(5, "pip", "install", "git+https://"+huge),
		cmdAt(6, "git", "submodule", "update", "--init", huge),
		cmdAt(7, "go", "get", "git.example.org/"+huge),
		cmdAt(8, "git", "clone", "https://gitlab-ci-token:"+tok+"@${HOST}/$(cat x)/${P}.git"),
	)
	in := testInput(cmds...)
	in.Env = shell.MapEnv{"GIT_SUBMODULE_STRATEGY": "recursive", "CI_REPOSITORY_URL": "https://gitlab-ci-token:" + tok + "@git.example.org/apps/web.git"}
	in.Files = nil
	out := &Output{}
	for _, d := range All() {
		d.Detect(in, out)
	}
	for _, u := range out.Uses {
		if len(u.Evidence.Detail) > maxDetail {
			t.Errorf("detail not bounded: %d bytes", len(u.Evidence.Detail))
		}
	}
	// Nil job (repository-level input) and a trigger job: nothing, no panic.
	for _, in := range []*Input{{Caller: in.Caller, Server: testServer}, {Caller: in.Caller, Server: testServer, Job: &ciconfig.Job{Trigger: &ciconfig.Trigger{Project: "x/y"}}, Commands: cmds}} {
		o := &Output{}
		for _, d := range All() {
			d.Detect(in, o)
		}
		if len(o.Uses)+len(o.Notes) != 0 {
			t.Errorf("output for a job without scripts: %+v", o)
		}
	}
}
