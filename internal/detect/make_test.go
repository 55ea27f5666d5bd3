package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
)

// make TARGET follows the project's Makefile (issue 12 item 5): the use is
// found in the recipe, at its Makefile line.
func TestMakeRecipes(t *testing.T) {
	runRows(t, "api", []row{
		{name: "make deps downloads from another project's generic packages",
			script: "make deps",
			files:  map[string]string{"Makefile": "DEPS_PROJECT ?= 55\n\ndeps:\n\tcurl --header \"JOB-TOKEN: $$CI_JOB_TOKEN\" -o d.tgz \"$(CI_API_V4_URL)/projects/$(DEPS_PROJECT)/packages/generic/d/1/d.tgz\"\n"},
			uses:   []string{"Makefile:4 packages-read id:55 @job"}},
	})
	if !detect.IsRepoFile("Makefile") || !detect.IsRepoFile("tools/GNUmakefile") || !detect.IsRepoFile("build/ci.mk") {
		t.Error("Makefiles are not declared as repository files the detectors read")
	}
}
