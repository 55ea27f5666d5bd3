package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/loc"
)

func need(project, job, ref string, artifacts bool, line int) ciconfig.Need {
	return ciconfig.Need{Project: project, Job: job, Ref: ref, Artifacts: artifacts, Pos: loc.Pos{Project: callerPath, File: ".gitlab-ci.yml", Line: line}}
}

func TestNeedsDetector(t *testing.T) {
	runRows(t, "needs", []row{
		{name: "P31 literal project",
			needs: []ciconfig.Need{need("platform/firmware", "build-fw", "main", true, 7)},
			uses:  []string{".gitlab-ci.yml:7 artifacts-read path:platform/firmware @job"}},
		{name: "P31 namespace-relative project (GitLab's own CI)",
			needs: []ciconfig.Need{need("${CI_PROJECT_NAMESPACE}/mirror-foss", "compile", "as-if-foss/${CI_COMMIT_REF_NAME}", true, 9)},
			uses:  []string{".gitlab-ci.yml:9 artifacts-read path:acme/mirror-foss @job"}},
		{name: "P31 project from a job variable",
			vars:  []ciconfig.Variable{v("FW_PROJECT", "platform/firmware", 3)},
			needs: []ciconfig.Need{need("$FW_PROJECT", "build-fw", "main", true, 9)},
			uses:  []string{".gitlab-ci.yml:9 artifacts-read path:platform/firmware @job"}},
		{name: "P31 project from an undefined variable stays unresolved",
			needs: []ciconfig.Need{need("$MIRROR_PROJECT", "build", "main", true, 9)},
			uses:  []string{".gitlab-ci.yml:9 artifacts-read unknown:$MIRROR_PROJECT ? @job"}},
		{name: "P31 artifacts: false downloads nothing",
			needs: []ciconfig.Need{need("platform/firmware", "build-fw", "main", false, 7)}},
		{name: "P31 own project is emitted as a target (graph turns it into a note)",
			needs: []ciconfig.Need{need("$CI_PROJECT_PATH", "build", "main", true, 5)},
			uses:  []string{".gitlab-ci.yml:5 artifacts-read path:acme/app @job"}},
	})
	if out := runDetectors(t, row{repo: true}.job(), "needs"); len(out.Uses) != 0 {
		t.Errorf("repository pass: %v", out.Uses)
	}
}
