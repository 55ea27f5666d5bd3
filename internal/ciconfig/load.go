package ciconfig

import "sync"

// Cache shares parsed files between projects. Safe for concurrent use.
type Cache struct {
	mu sync.Mutex
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{} }

// Load reads the CI configuration of project, starting at file (its
// .gitlab-ci.yml or configured CI path), and returns its effective jobs.
// It never panics on bad input: problems are diagnostics in the result.
func Load(project, file string, opts Options) *Config {
	// TODO(ciconfig): implemented by the ciconfig work package.
	return &Config{Project: project, File: file}
}
