package sim

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimitText is Gitlab::Throttle::DEFAULT_RATE_LIMITING_RESPONSE_TEXT
// plus the newline rate_limiting_response_text adds (lib/gitlab/throttle.rb).
const rateLimitText = "Retry later\n"

// rateLimiter is Rack::Attack's fixed-window throttle as GitLab configures
// it: windows aligned on the epoch, one counter per client.
type rateLimiter struct {
	mu     sync.Mutex
	limit  int
	period time.Duration
	window int64
	counts map[string]int
}

func newRateLimiter(limit int, period time.Duration) *rateLimiter {
	if period <= 0 {
		period = time.Second
	}
	return &rateLimiter{limit: limit, period: period, counts: map[string]int{}}
}

// hit counts one request of client at now and returns the count in the
// current window.
func (l *rateLimiter) hit(client string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := now.UnixNano() / int64(l.period)
	if w != l.window {
		l.window = w
		clear(l.counts)
	}
	l.counts[client]++
	return l.counts[client]
}

// headers are Gitlab::RackAttack.throttled_response_headers: the limit is
// scaled to a 60-second window (what clients such as client-go assume),
// Retry-After is the time left in the current window.
func (l *rateLimiter) headers(h http.Header, observed int, now time.Time) {
	windowEnd := time.Unix(0, (now.UnixNano()/int64(l.period)+1)*int64(l.period))
	retry := int(math.Ceil(windowEnd.Sub(now).Seconds()))
	retry = max(retry, 1)
	reset := now.Add(time.Duration(retry) * time.Second)
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Limit", strconv.Itoa(int(math.Ceil(float64(l.limit)*float64(time.Minute)/float64(l.period)))))
	h.Set("RateLimit-Observed", strconv.Itoa(observed))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(l.limit-observed, 0)))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	h.Set("Retry-After", strconv.Itoa(retry))
}

// clientKey identifies the client as Rack::Attack does: the user for
// authenticated requests (a hash of the token here), else the IP address.
func clientKey(r *http.Request) string {
	if t := tokenFrom(r); t != "" {
		return fmt.Sprintf("token:%x", sha256.Sum256([]byte(t)))
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// throttle applies the rate limit; it answers 429 and returns true when
// the client is over its limit.
func (s *Server) throttle(w http.ResponseWriter, r *http.Request) bool {
	if s.limiter == nil {
		return false
	}
	now := s.now()
	n := s.limiter.hit(clientKey(r), now)
	if n <= s.limiter.limit {
		if s.opts.RateLimitHeadersAlways {
			s.limiter.headers(w.Header(), n, now)
			w.Header().Del("Retry-After")
		}
		return false
	}
	s.limiter.headers(w.Header(), n, now)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, rateLimitText)
	return true
}
