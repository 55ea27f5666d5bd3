// Package detect finds job-token accesses in a job: one file per access
// family, each turning commands, YAML keys and repository files into uses
// with evidence, and into notes for look-alikes that are not job-token
// edges.
//
// The families (see All): git transport (git.go, with git_config.go for
// insteadOf rules and credential helpers, vcsdeps.go for git dependencies
// of pip, npm and other package managers, gomod.go for Go modules),
// submodules (submodule.go), the container registry (registry.go, with
// registry_ops.go for what each tool's subcommands read and write), image
// builds (dockerfile.go, with dockerfile_parse.go for the Dockerfile
// parser and dockerfile_run.go for RUN lines), REST API calls (api.go),
// needs:project (needs.go), npm (npm.go), pip (pip.go), Maven (maven.go,
// with gradle.go for Gradle), Helm (helm.go), Terraform state and modules
// (terraform.go) and tokens sent elsewhere (tokens.go).
//
// Every family reads the job through the same helpers: args.go (which
// command runs, its options and operands), env.go (variables a command
// sees and where the job set them), paths.go (paths a job names and the
// repository files behind them), writes.go (what commands print and which
// files they write), creds.go (how a user name and password sent to
// GitLab are judged, and the ~/.netrc a job writes), httpcmds.go (HTTP
// requests of curl, wget and HTTPie), url.go and endpoint.go (URLs and
// REST endpoints mapped to projects), python.go (python -m and pip
// requirements files), text.go and evidence.go (where a use or note is
// reported).
//
// The families whose accesses depend on what earlier commands set up (git,
// submodules, registry, image builds) share one replay of the job's
// commands (replay.go): jobstate.go keeps what the commands leave behind
// (working directory, credential files in credfiles.go, and the git and
// registry state each of those families owns), and each family keeps its
// own state for the job besides.
package detect
