package ciconfig

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// memFiles is an in-memory inventory.Files for tests: project path ->
// file path -> content.
type memFiles map[string]map[string]string

func (m memFiles) HasFiles(project string) bool {
	_, ok := m[project]
	return ok
}

func (m memFiles) ReadFile(project, name string) ([]byte, error) {
	files, ok := m[project]
	if !ok {
		return nil, fmt.Errorf("%s: %w", project, inventory.ErrNoProject)
	}
	s, ok := files[strings.TrimPrefix(name, "/")]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return []byte(s), nil
}

func (m memFiles) Glob(project, pattern string) ([]string, error) {
	files, ok := m[project]
	if !ok {
		return nil, fmt.Errorf("%s: %w", project, inventory.ErrNoProject)
	}
	var out []string
	for name := range files {
		if inventory.MatchDoubleStar(strings.TrimPrefix(pattern, "/"), name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
