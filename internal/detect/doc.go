// Package detect finds job-token accesses in a job: one file per access
// family (git transport, submodules, container registry, REST API calls,
// needs:project, package managers, Terraform state), each turning commands,
// YAML keys and repository files into uses with evidence, and into notes
// for look-alikes that are not job-token edges.
package detect
