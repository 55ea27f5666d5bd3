// Package capability holds tokenscope's model of the CI_JOB_TOKEN access
// controls by GitLab version: one versioned table of features (inbound
// allowlist, group entries, authentication log, instance enforcement,
// autopopulation, fine-grained policies, job-token push, removal of the
// outbound scope) and the names the settings UI used over time. Plan asks
// it what a given GitLab can do; report prints it for `tokenscope explain`.
package capability
