package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Server is the simulator. It is an http.Handler; Listen serves it on a
// TCP address.
type Server struct {
	opts            Options
	beh             behaviour
	st              *state
	auth            *authenticator
	faults          *faultInjector
	limiter         *rateLimiter
	stats           *statsCounter
	rest            *router
	gql             *graphqlEndpoint
	now             func() time.Time
	slowDelay       time.Duration
	faultRetryAfter time.Duration
	closer          io.Closer // the snapshot Load opened, if any
	externalURL     string    // see baseURL
	jwtKey          []byte    // signs the registry tokens of /jwt/auth
}

// New builds a simulator for the org inv whose repository files are
// files (nil: every repository is empty). The inventory is copied; later
// changes to it do not reach the simulator.
func New(inv *inventory.Inventory, files inventory.Files, opts Options) (*Server, error) {
	return newServer(inv, files, nil, opts)
}

// Load builds a simulator for the snapshot directory dir (docs/design.md §4),
// with the job logs of dir/_jobs (see the package documentation).
func Load(dir string, opts Options) (*Server, error) {
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		return nil, err
	}
	jobs, err := loadJobLogs(filepath.Join(dir, "_jobs"))
	if err != nil {
		snap.Close()
		return nil, err
	}
	meta, err := loadJobMeta(filepath.Join(dir, "_jobs"))
	if err != nil {
		snap.Close()
		return nil, err
	}
	// The snapshot stays open until Close: files are read on demand.
	s, err := newServer(snap.Inventory, snap, jobs, opts)
	if err == nil {
		err = s.st.addJobMeta(meta)
	}
	if err != nil {
		snap.Close()
		return nil, err
	}
	s.st.jobIDs = s.st.snapshotJobIDs()
	s.closer = snap
	return s, nil
}

// Close releases the snapshot directory opened by Load.
func (s *Server) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

func newServer(inv *inventory.Inventory, files inventory.Files, jobs map[string]map[int][]byte, opts Options) (*Server, error) {
	if inv == nil {
		inv = &inventory.Inventory{Version: inventory.Version}
	}
	beh, err := resolveBehaviour(opts, inv.GitLabVersion, inv.InstanceEnforcesAllowlist)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, beh: beh, now: opts.Now, slowDelay: opts.SlowDelay, faultRetryAfter: opts.FaultRetryAfter, stats: newStats()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.slowDelay == 0 {
		s.slowDelay = 2 * time.Second
	}
	if s.faultRetryAfter == 0 {
		s.faultRetryAfter = time.Second
	}
	if s.opts.MaxQuerySize == 0 {
		s.opts.MaxQuerySize = 10_000
	}
	s.jwtKey = make([]byte, 32)
	rand.Read(s.jwtKey)
	s.externalURL = strings.TrimRight(cmpOr(opts.ExternalURL, inv.ServerURL), "/")
	if s.st, err = newState(inv, files, jobs, s.now()); err != nil {
		return nil, fmt.Errorf("simulate %s: %w", cmpOr(inv.ServerURL, "org"), err)
	}
	s.st.enforce = beh.instanceEnforce
	if s.auth, err = newAuthenticator(opts.Tokens); err != nil {
		return nil, err
	}
	if s.faults, err = newFaultInjector(opts); err != nil {
		return nil, err
	}
	if opts.RateLimit < 0 {
		return nil, fmt.Errorf("rate limit %d: want a positive number of requests, or 0 for none", opts.RateLimit)
	}
	if opts.RateLimit > 0 {
		s.limiter = newRateLimiter(opts.RateLimit, opts.RateLimitPeriod)
	}
	s.rest = newRouter(s)
	if s.gql, err = newGraphQLEndpoint(s); err != nil {
		return nil, err
	}
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// loadJobLogs reads dir/<project path>/<job id>.log files.
func loadJobLogs(dir string) (map[string]map[int][]byte, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job logs %s: %w", dir, err)
	}
	defer root.Close()
	out := map[string]map[int][]byte{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		// The snapshot may come from anyone: a named pipe or device named
		// like a log would block the simulator forever (a FIFO opens only
		// once a writer comes) or never end (/dev/zero). Only regular files
		// are read; anything else is skipped, as inventory.Load skips
		// special files in project folders.
		if !d.Type().IsRegular() {
			return nil
		}
		id, err := strconv.Atoi(strings.TrimSuffix(path.Base(p), ".log"))
		if err != nil || id <= 0 || path.Dir(p) == "." {
			return fmt.Errorf("%s: want _jobs/<project path>/<job id>.log with a numeric job id", filepath.Join(dir, p))
		}
		// ReadRegular checks again on the opened file (opened O_NONBLOCK),
		// in case the path was replaced by a FIFO after the walk listed it,
		// and bounds the size.
		data, err := inventory.ReadRegular(root, p)
		if errors.Is(err, inventory.ErrNotRegular) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, p), err)
		}
		proj := path.Dir(p)
		if out[proj] == nil {
			out[proj] = map[int][]byte{}
		}
		out[proj][id] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read job logs: %w", err)
	}
	return out, nil
}

// ServeHTTP implements http.Handler: count, delay, maybe fail, throttle,
// then answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := s.routeName(r)
	s.stats.update(func(st *Stats) { st.Requests++; st.ByRoute[route]++ })
	sleep(r, s.opts.Latency)
	if f, ok := s.faults.draw(); ok {
		s.stats.update(func(st *Stats) { st.Faults[f]++ })
		if s.serveFault(w, r, f) {
			return
		}
	}
	if s.throttle(w, r) {
		s.stats.update(func(st *Stats) { st.RateLimited++ })
		return
	}
	switch p := r.URL.EscapedPath(); {
	case p == "/api/graphql":
		s.gql.serve(w, r)
	case strings.HasPrefix(p, "/api/v4/"):
		s.rest.serve(w, r)
	case p == "/-/sim/jobs" || strings.HasPrefix(p, "/-/sim/jobs/"):
		s.serveSimJobs(w, r)
	case p == "/jwt/auth":
		s.serveRegistryAuth(w, r)
	case strings.HasSuffix(p, ".git/info/refs"):
		s.serveGitInfoRefs(w, r)
	default:
		writeError(w, http.StatusNotFound, "404 Not Found")
	}
}

func (s *Server) routeName(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "/api/graphql" {
		return r.Method + " /api/graphql"
	}
	if rt, _, _ := s.rest.match(r.Method, p); rt != nil {
		return rt.name
	}
	switch {
	case p == "/-/sim/jobs":
		return r.Method + " /-/sim/jobs"
	case strings.HasPrefix(p, "/-/sim/jobs/"):
		return r.Method + " /-/sim/jobs/:id/finish"
	case p == "/jwt/auth":
		return r.Method + " /jwt/auth"
	case strings.HasSuffix(p, ".git/info/refs"):
		return r.Method + " /:path.git/info/refs"
	}
	return r.Method + " (unmatched)"
}

// Stats returns the request counts so far.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats sets the request counts back to zero.
func (s *Server) ResetStats() { s.stats.reset() }

// Export returns the org as it is now (after any writes), canonical, with
// every project's job token scope, as a snapshot of it would record it.
func (s *Server) Export() *inventory.Inventory { return s.st.export(s.beh) }

// Version is the simulated GitLab version text.
func (s *Server) Version() string { return s.beh.versionText }

// AddJobLog stores (or replaces) the log of job jobID of project, served by
// GET /projects/:id/jobs/:job_id/trace.
func (s *Server) AddJobLog(project string, jobID int, log string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p := s.st.project(project)
	if p == nil {
		return fmt.Errorf("job log: no project %s", project)
	}
	if p.jobs == nil {
		p.jobs = map[int][]byte{}
	}
	p.jobs[jobID] = []byte(log)
	// Simulated jobs skip the id, as they skip the snapshot's (joblist.go).
	if s.st.jobIDs == nil {
		s.st.jobIDs = map[int]bool{}
	}
	s.st.jobIDs[jobID] = true
	return nil
}

// Running is a simulator serving on a TCP address.
type Running struct {
	// URL is the base URL, for example http://127.0.0.1:41234; the REST
	// API is under URL+"/api/v4".
	URL string
	srv *http.Server
	ln  net.Listener
	err chan error
}

// Listen serves s on addr (host:port; port 0 picks a free one) until
// Close.
func (s *Server) Listen(addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	rn := &Running{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
		ln:  ln,
		err: make(chan error, 1),
	}
	go func() { rn.err <- rn.srv.Serve(ln) }()
	return rn, nil
}

// Close stops serving and waits for the server to return; requests in
// flight are cut off.
func (r *Running) Close() error {
	err := r.srv.Close()
	if serr := <-r.err; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Shutdown stops serving after the requests in flight finish or ctx ends.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if serr := <-r.err; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
