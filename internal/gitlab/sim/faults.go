package sim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a kind of injected failure.
type Fault string

// Fault kinds.
const (
	Fault429  Fault = "429"  // rate limited, with Retry-After
	Fault500  Fault = "500"  // Rails error
	Fault502  Fault = "502"  // Workhorse cannot reach Puma
	Fault503  Fault = "503"  // maintenance or overload at the load balancer
	FaultSlow Fault = "slow" // answered correctly, SlowDelay late
	FaultDrop Fault = "drop" // connection closed without an answer
)

// AllFaults are the kinds drawn from when Options.Faults is empty.
var AllFaults = []Fault{Fault429, Fault500, Fault502, Fault503, FaultSlow, FaultDrop}

// ParseFaults reads a comma-separated list of fault kinds.
func ParseFaults(s string) ([]Fault, error) {
	var out []Fault
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		ok := false
		for _, k := range AllFaults {
			if string(k) == f {
				out = append(out, k)
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("fault %q: want one of 429, 500, 502, 503, slow, drop", f)
		}
	}
	return out, nil
}

// faultInjector draws faults from a seeded generator: the same seed and
// the same order of requests give the same faults.
type faultInjector struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rate  float64
	kinds []Fault
}

func newFaultInjector(o Options) (*faultInjector, error) {
	if o.FailRate < 0 || o.FailRate > 1 {
		return nil, fmt.Errorf("fail rate %v: want a fraction between 0 and 1", o.FailRate)
	}
	kinds := o.Faults
	if len(kinds) == 0 {
		kinds = AllFaults
	}
	return &faultInjector{rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d)), rate: o.FailRate, kinds: kinds}, nil
}

// draw decides the fate of one request.
func (f *faultInjector) draw() (Fault, bool) {
	if f.rate == 0 {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return "", false
	}
	return f.kinds[f.rng.IntN(len(f.kinds))], true
}

// serveFault answers with the fault. It returns false for FaultSlow, whose
// request is then served normally.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f {
	case FaultSlow:
		sleep(r, s.slowDelay)
		return false
	case FaultDrop:
		dropConnection(w)
	case Fault429:
		now := s.now()
		secs := int(max(1, (s.faultRetryAfter+time.Second-1)/time.Second))
		reset := now.Add(time.Duration(secs) * time.Second)
		h := w.Header()
		h.Set("Content-Type", "text/plain")
		h.Set("RateLimit-Name", "throttle_authenticated_api")
		h.Set("RateLimit-Limit", "600")
		h.Set("RateLimit-Observed", "601")
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
		h.Set("Retry-After", strconv.Itoa(secs))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, rateLimitText)
	case Fault500:
		writeMessage(w, http.StatusInternalServerError, "500 Internal Server Error")
	case Fault502:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>GitLab is not responding (502)</title></head><body><h1>502</h1><h3>GitLab is not responding.</h3></body></html>\n")
	case Fault503:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>GitLab is unavailable (503)</title></head><body><h1>503</h1><h3>GitLab is temporarily unavailable.</h3></body></html>\n")
	}
	return true
}

// dropConnection closes the connection without a response: the client
// sees EOF or a reset, as when a load balancer or Puma worker dies.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: net/http aborts the stream.
	panic(http.ErrAbortHandler)
}

// sleep waits d or until the client goes away.
func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
