package discovery

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// prefixCI is a project whose jobs share leading script items that read
// job variables, define functions, write and run a file, pipe, and exit,
// under workflow variants that change what the shared items read: sharing
// their analysis must not change a finding.
const prefixCI = `workflow:
  rules:
    - if: $CI_COMMIT_TAG
      variables:
        TOOLS_REF: "v2"
    - if: $CI_PIPELINE_SOURCE == "schedule"
      variables:
        TARGET: group/other
    - when: always
variables:
  TARGET: group/lib
  TOOLS_REF: "v1"
.setup:
  before_script:
    - source scripts/lib.sh
    - export DL="${CI_API_V4_URL}/projects/${TARGET//\//%2F}/packages/generic/tools/${TOOLS_REF}"
    - |
      cat > fetch.sh <<EOF
      curl --header "JOB-TOKEN: \$CI_JOB_TOKEN" -o t.tgz "$DL/t.tgz"
      EOF
    - fetch_repo "$TARGET"
    - pip install -r requirements.txt
    - twine upload dist/*
    - echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin "$CI_REGISTRY"
a:
  extends: .setup
  variables:
    PIP_INDEX_URL: "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/101/packages/pypi/simple"
  script:
    - bash fetch.sh
b:
  extends: .setup
  variables:
    TARGET: group/other
  script:
    - bash fetch.sh
    - docker pull "$CI_REGISTRY/$TARGET/img:1"
c:
  extends: .setup
  variables:
    TOOLS_REF: "v9"
    PIP_INDEX_URL: "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/102/packages/pypi/simple"
  script:
    - bash fetch.sh
f:
  extends: .setup
  variables:
    PIP_INDEX_URL: "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/102/packages/pypi/simple"
    TWINE_REPOSITORY_URL: "${CI_API_V4_URL}/projects/102/packages/pypi"
    TWINE_USERNAME: gitlab-ci-token
    TWINE_PASSWORD: "${CI_JOB_TOKEN}"
  script:
    - echo other index
d:
  before_script:
    - echo start
    - '[ -n "$SKIP" ] && exit 0'
    - git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/${TARGET}.git"
  script:
    - bash fetch.sh
e:
  extends: d
  variables:
    SKIP: "yes"
    TARGET: group/other
`

const prefixLib = `fetch_repo() {
  git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$1.git" "dep-$1"
}
`

// TestPrefixSharingChangesNothing scans with and without the shared
// analysis of leading script items and wants the same graph and
// diagnostics: on a project written to trip it, the bundled example and
// two heavy generated projects.
func TestPrefixSharingChangesNothing(t *testing.T) {
	scan := func(t *testing.T, inv *inventory.Inventory, files inventory.Files) string {
		res, err := DiscoverFiles(context.Background(), inv, files, Options{})
		if err != nil {
			t.Fatal(err)
		}
		notes := append(res.Notes, DiagNotes(res.Diags)...)
		g := graph.Build(inventory.NewIndex(inv), res.Uses, notes)
		out, err := json.Marshal(struct {
			G any
			D any
		}{g, res.Diags})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	compare := func(t *testing.T, inv *inventory.Inventory, files inventory.Files) {
		t.Helper()
		defer func() { sharePrefixes = true }()
		sharePrefixes = false
		want := scan(t, inv, files)
		sharePrefixes = true
		if got := scan(t, inv, files); got != want {
			t.Errorf("with shared prefixes the scan differs:\n got %.2000s\nwant %.2000s", got, want)
		}
	}
	t.Run("crafted", func(t *testing.T) {
		inv := &inventory.Inventory{Version: inventory.Version, ServerURL: "https://gitlab.example.com", Registry: "registry.example.com"}
		for i, p := range []string{"group/app", "group/lib", "group/other"} {
			inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: 100 + i})
		}
		compare(t, inv, memFiles{"group/app": {".gitlab-ci.yml": prefixCI, "scripts/lib.sh": prefixLib, "requirements.txt": "requests==2.32.0\n"}})
	})
	for name, dir := range map[string]string{"example": filepath.Join("..", "..", "examples", "acme"), "heavy": ""} {
		t.Run(name, func(t *testing.T) {
			if dir == "" {
				dir = t.TempDir()
				if _, err := writeHeavyOrg(dir, 2, 3); err != nil {
					t.Fatal(err)
				}
			}
			snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			compare(t, snap.Inventory, snap)
		})
	}
}
