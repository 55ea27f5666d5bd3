// Package detect finds job-token accesses in a job: one file per access
// family (git transport, submodules, container registry, REST API calls,
// needs:project, package managers, Terraform state), each turning commands,
// YAML keys and repository files into uses with evidence, and into notes
// for look-alikes that are not job-token edges.
//
// Every family reads the job through the same helpers: args.go (which
// command runs, its options and operands), env.go (variables a command
// sees and where the job set them), paths.go (paths a job names and the
// repository files behind them), writes.go (what commands print and which
// files they write), creds.go (how a user name and password sent to
// GitLab are judged, and the ~/.netrc a job writes), python.go (python -m
// and pip requirements files) and evidence.go (where a use or note is
// reported). jobstate.go replays a job command by command for the
// families whose accesses depend on what earlier commands set up (git
// configuration and credentials, clones, registry logins).
package detect
