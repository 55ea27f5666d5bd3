// Package access names the ways a CI_JOB_TOKEN reaches another project
// (access kinds) and holds the one table that maps each kind to GitLab's
// fine-grained job token policy and to the minimum role the triggering user
// needs on the target.
package access
