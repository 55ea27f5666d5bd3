package ciconfig

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
)

// countingFiles counts reads per file, to observe the cache.
type countingFiles struct {
	memFiles
	reads sync.Map // "project:file" -> *atomic.Int64
}

func (c *countingFiles) ReadFile(project, name string) ([]byte, error) {
	v, _ := c.reads.LoadOrStore(project+":"+name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return c.memFiles.ReadFile(project, name)
}

func (c *countingFiles) count(key string) int64 {
	v, ok := c.reads.Load(key)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

const sharedTemplate = `spec:
  inputs:
    stage:
      default: test
---
.shared:
  variables:
    SHARED: "1"
    WHERE: $[[ inputs.stage ]]
shared-job:
  stage: $[[ inputs.stage ]]
  variables:
    FROM: template
  script:
    - echo shared
`

func cacheOrg(n int) *countingFiles {
	files := memFiles{"g/tpl": {"ci.yml": sharedTemplate}}
	for i := range n {
		p := fmt.Sprintf("g/p%d", i)
		files[p] = map[string]string{".gitlab-ci.yml": fmt.Sprintf(`
include:
  - project: g/tpl
    file: ci.yml
shared-job:
  variables:
    FROM: p%d
    OWN_%d: "yes"
own:
  extends: .shared
  script: [echo p%d]
`, i, i, i)}
	}
	return &countingFiles{memFiles: files}
}

// Projects that include the same file share one parse, concurrently, and
// every result equals the one loaded without a cache: no project's merge
// leaks into the cached tree.
func TestCacheSharedAcrossProjects(t *testing.T) {
	const n = 16
	files := cacheOrg(n)
	cache := NewCache()
	results := make([]*Config, n)
	var wg sync.WaitGroup
	for round := range 3 {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cfg := Load(fmt.Sprintf("g/p%d", i), ".gitlab-ci.yml", Options{Files: files, Vars: testVars, Cache: cache})
				if round == 0 {
					results[i] = cfg
				}
			}()
		}
		wg.Wait()
	}
	if got := files.count("g/tpl:ci.yml"); got != 1 {
		t.Errorf("shared template read %d times, want once", got)
	}
	for i := range n {
		p := fmt.Sprintf("g/p%d", i)
		want := Load(p, ".gitlab-ci.yml", Options{Files: files.memFiles, Vars: testVars})
		requireClean(t, want)
		if !reflect.DeepEqual(results[i], want) {
			t.Fatalf("%s: cached load differs:\n got %+v\nwant %+v", p, results[i], want)
		}
		j := jobNamed(t, results[i], "shared-job")
		equalMap(t, p, varMap(j.Variables), map[string]string{"FROM": fmt.Sprintf("p%d", i), fmt.Sprintf("OWN_%d", i): "yes"})
	}
}

// expand_vars makes a file depend on the including project's variables:
// such results are not shared.
func TestCacheExpandVarsNotShared(t *testing.T) {
	files := memFiles{"g/tpl": {"ci.yml": "spec:\n  inputs:\n    image:\n      default: $CI_PROJECT_PATH/builder\n---\nbuild:\n  image: $[[ inputs.image | expand_vars ]]\n  script: [make]\n"}}
	for _, p := range []string{"g/a", "g/b"} {
		files[p] = map[string]string{".gitlab-ci.yml": "include: {project: g/tpl, file: ci.yml}\n"}
	}
	cache := NewCache()
	for _, p := range []string{"g/a", "g/b", "g/a"} {
		vars := map[string]string{"CI_PROJECT_PATH": p}
		cfg := Load(p, ".gitlab-ci.yml", Options{Files: files, Vars: vars, Cache: cache})
		requireClean(t, cfg)
		if img := jobNamed(t, cfg, "build").Image; img == nil || img.Name != p+"/builder" {
			t.Errorf("%s: image %+v", p, img)
		}
	}
}

// The same file with different inputs is cached per input set.
func TestCachePerInputs(t *testing.T) {
	tpl := "spec:\n  inputs:\n    stage:\n---\njob:\n  script:\n    - echo $[[ inputs.stage ]]\n"
	files := memFiles{"g/tpl": {"ci.yml": tpl}}
	files["g/a"] = map[string]string{".gitlab-ci.yml": "include: {project: g/tpl, file: ci.yml, inputs: {stage: build}}\n"}
	files["g/b"] = map[string]string{".gitlab-ci.yml": "include: {project: g/tpl, file: ci.yml, inputs: {stage: deploy}}\n"}
	cache := NewCache()
	for _, tt := range []struct{ p, want string }{{"g/a", "echo build"}, {"g/b", "echo deploy"}, {"g/a", "echo build"}} {
		cfg := Load(tt.p, ".gitlab-ci.yml", Options{Files: files, Cache: cache})
		requireClean(t, cfg)
		equalStrings(t, tt.p, texts(jobNamed(t, cfg, "job").Script), []string{tt.want})
	}
}
