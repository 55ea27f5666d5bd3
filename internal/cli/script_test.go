package cli_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/tokenscope/tokenscope/internal/cli"
)

// update rewrites golden files: go test ./internal/cli -run TestScript -u
var update = flag.Bool("u", false, "update testscript golden files (cmp targets in the archives)")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tokenscope": func() {
			ios := cli.System()
			ios.Now = fixedNow
			os.Exit(cli.Main(context.Background(), os.Args[1:], ios))
		},
	})
}

// fixedNow makes dates in outputs stable (expiry checks, report headers).
func fixedNow() time.Time {
	if v := os.Getenv("TOKENSCOPE_NOW"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
}

// TestScript runs the end-to-end CLI scripts in testdata/script. Each
// .txtar is one behaviour; $EXAMPLES points at the bundled examples.
func TestScript(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"gitlab-sim": simCmd, "sim-export": simExportCmd},
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(repo, "examples"))
			env.Setenv("GITLAB_TOKEN", "")
			return nil
		},
	})
}
