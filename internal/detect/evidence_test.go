package detect

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// A note about a command of a template apps/web includes from
// platform/ci-templates names the template's file in its own project,
// with apps/web as the pipeline that runs it, as the use evidence does;
// a note about apps/web's own file has no Caller.
func TestNoteInIncludedTemplate(t *testing.T) {
	in := inputFor(appsWeb)
	src := func(project, file string) shell.Source {
		return shell.Source{Text: "git push https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/libs/jslib.git HEAD:main",
			Pos: loc.Pos{Project: project, File: file, Line: 7}, LineStep: 1, Section: "script"}
	}
	res := shell.Analyze([]shell.Source{src("platform/ci-templates", "templates/release.yml"), src("apps/web", ".gitlab-ci.yml")}, in.Env, shell.Options{})
	in.Commands = res.Commands
	out := &Output{}
	for _, d := range All() {
		d.Detect(in, out)
	}
	if len(out.Notes) != 2 {
		t.Fatalf("notes = %+v", out.Notes)
	}
	tpl, own := out.Notes[0], out.Notes[1]
	if tpl.Project != "platform/ci-templates" || tpl.File != "templates/release.yml" || tpl.Caller != "apps/web" {
		t.Errorf("template note = %+v", tpl)
	}
	if own.Project != "apps/web" || own.File != ".gitlab-ci.yml" || own.Caller != "" {
		t.Errorf("own note = %+v", own)
	}
}
