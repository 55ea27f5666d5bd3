// Package sim is a GitLab simulator for tests and demos: an http.Handler
// that serves an org loaded from a snapshot directory (or an inventory plus
// files) through the subset of GitLab's REST API (/api/v4) and GraphQL API
// (/api/graphql) that tokenscope uses, with GitLab's paths, JSON shapes,
// status codes, error messages, pagination headers and query limits, so
// that the official client-go decodes its answers and a request real GitLab
// would refuse is refused here too.
//
// The org state (groups, projects, job token settings and allowlists with
// fine-grained policies, authentication logs, job logs) is mutable through
// the job token REST endpoints and GraphQL mutations, safe for concurrent
// requests, and exported back as an inventory with Server.Export.
//
// GraphQL requests are parsed and validated against the schema of package
// schema (the one the client validates its queries against), narrowed to
// the simulated version by the schema's "since X.Y" notes, so a field,
// argument or enum value newer than the version is refused as that GitLab
// would. Errors use graphql-ruby's wording for the common cases (unknown
// field or argument, missing argument, selections), and GitLab's depth,
// complexity, page-size and query-size limits apply.
//
// Behaviour knobs (Options) make a test realistic and hostile: per-request
// latency, GitLab's Rack::Attack rate limiting (RateLimit-* headers, 429
// with Retry-After), fault injection (429, 500, 502, 503, slow responses,
// dropped connections) drawn from a seeded generator, and token
// authentication with a role per project or group. Version-dependent
// behaviour (self links, duplicate messages, fine-grained policies) follows
// Options.Version unless overridden. Requests are counted by route and
// GraphQL operation (Server.Stats) for benchmarks.
//
// # Snapshot layout read besides docs/design.md §4
//
// Job logs, served by GET /projects/:id/jobs/:job_id/trace, live in
//
//	DIR/_jobs/<project full path>/<job id>.log
//
// for example DIR/_jobs/apps/web/4711.log, with an optional
// DIR/_jobs/apps/web/4711.json saying what the jobs API lists of it
// (name, status, ref, created_at, ...; docs/design.md §4). GET
// /projects/:id/jobs lists them with the jobs the simulator ran itself
// (POST /-/sim/jobs, then .../finish with a status and a log). The folder
// starts with "_" so that the snapshot loader never takes it for a
// project. Only regular files are read there: a named pipe, device or
// symbolic link is skipped, so that a hostile snapshot cannot make the
// simulator block or read forever.
//
// # What is simulated and what is not
//
// Every project has one branch, its default branch, holding the files of
// its snapshot folder (hidden folders other than .gitlab are not listed);
// other refs are unknown (404). A project without files is an empty
// repository, as GitLab shows it: no default branch, no tree. Group
// visibility is not in the inventory; a group is as visible as its most
// visible project (GitLab forbids a project more visible than its group).
// Projects that an allowlist or auth log names but the inventory does not
// list are created as private projects (groups for group entries), so that
// they have IDs as they would on GitLab. Outbound job token links (removed
// in 18.0) are not kept: the GraphQL ciJobTokenScopeRemoveProject mutation
// still defaults to the outbound direction, as GitLab's does, so removing
// an inbound entry needs direction: INBOUND. Autopopulation adds the auth
// log's origins but does not compact more than 200 entries into groups.
// Introspection (__schema, __type) is not answered.
//
// The admin setting that enforces every project's allowlist
// (enforce_ci_inbound_job_token_scope_enabled) is on by default from
// 18.0, as GitLab ships it, unless the inventory or Options say
// otherwise; PUT /application/settings changes it while the simulator
// runs. A job is known only by its log, so GET /projects/:id/jobs/:job_id
// describes it as a successful job on the default branch. GET /projects
// treats an administrator as a member of every project.
//
// # Job tokens
//
// POST /-/sim/jobs (an administrator's PRIVATE-TOKEN, JSON {"project":
// PATH, "user": USERNAME}) starts a job and answers its CI_JOB_TOKEN;
// POST /-/sim/jobs/:id/finish ends it, after which the token is refused
// (docs/design.md §8). Without "user" the job runs as sim-ci, Maintainer
// on every project, so that only the allowlist decides. The token is
// accepted where GitLab accepts it: git smart HTTP (GET
// /PATH.git/info/refs?service=git-upload-pack, basic auth
// gitlab-ci-token), the registry token service (GET /jwt/auth), and the
// REST endpoints of generic, npm, PyPI and Maven packages, job artifacts,
// releases, deployments, environments, secure files and Terraform state
// (JOB-TOKEN header, job_token parameter or basic auth), and the trigger
// API (token=). Every decision is Server.authorizeJob (jobaccess.go);
// successful cross-project authorizations of private projects are added
// to the target's authentication log. Packages, artifacts, releases and
// the like are not stored: an authorized request gets placeholder
// content, so the answer shows only the decision. Registry tokens are
// signed HS256 with a key of the simulator's (GitLab: RS256), and the
// registry itself (/v2/) is not simulated.
package sim
