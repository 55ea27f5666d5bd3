package sim

import (
	"maps"
	"sync"
)

// Stats count the requests the simulator received.
type Stats struct {
	// Requests is every request, including faulted and throttled ones.
	Requests int
	// ByRoute counts requests by route, for example
	// "GET /api/v4/projects/:id/repository/files/:file_path" or
	// "POST /api/graphql"; unknown paths count as "GET (unmatched)".
	ByRoute map[string]int
	// GraphQLOperations counts GraphQL operations by operation name
	// ("(anonymous)" for unnamed ones); a multiplexed request counts each.
	GraphQLOperations map[string]int
	// Faults counts injected faults by kind.
	Faults map[Fault]int
	// RateLimited counts requests refused with 429 by the rate limit.
	RateLimited int
}

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *statsCounter {
	c := &statsCounter{}
	c.reset()
	return c
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{ByRoute: map[string]int{}, GraphQLOperations: map[string]int{}, Faults: map[Fault]int{}}
}

func (c *statsCounter) update(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.s)
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.ByRoute = maps.Clone(c.s.ByRoute)
	out.GraphQLOperations = maps.Clone(c.s.GraphQLOperations)
	out.Faults = maps.Clone(c.s.Faults)
	return out
}
