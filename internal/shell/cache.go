package shell

import (
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// The same script text is analysed many times in a scan: every job of a
// project shares its default before_script, and many projects include
// the same templates. Parsed files are kept, read-only, in a bounded
// cache shared by all Analyze calls.
const (
	maxCacheBytes = 8 << 20  // total text of the cached scripts
	maxCacheEntry = 64 << 10 // longer texts are not cached
)

type parsed struct {
	file *syntax.File
	err  error
}

var astCache = struct {
	sync.Mutex
	enabled bool
	m       map[string]parsed
	bytes   int
}{enabled: true, m: map[string]parsed{}}

// parse parses text as bash, through the cache; texts over the parser's
// limits (checkParseLimits) are refused.
func (a *analyzer) parse(text, name string) (*syntax.File, error) {
	// A cached text passed the limits when it was parsed; checking them
	// again cost more than the lookup (every job sourcing one library).
	cacheable := len(text) <= maxCacheEntry && len(text) <= a.opts.MaxScriptSize
	if cacheable {
		astCache.Lock()
		p, ok := astCache.m[text]
		enabled := astCache.enabled
		astCache.Unlock()
		if ok && enabled {
			return p.file, p.err
		}
		cacheable = enabled
	}
	if err := checkParseLimits(text, a.opts.MaxScriptSize); err != nil {
		return nil, err
	}
	f, err := a.parser.Parse(strings.NewReader(text), name)
	if cacheable {
		astCache.Lock()
		if astCache.bytes+len(text) > maxCacheBytes {
			// Start again rather than track ages: a scan's working set is
			// small, and this keeps memory bounded.
			astCache.m = map[string]parsed{}
			astCache.bytes = 0
		}
		if _, ok := astCache.m[text]; !ok {
			astCache.m[text] = parsed{f, err}
			astCache.bytes += len(text)
		}
		astCache.Unlock()
	}
	return f, err
}
