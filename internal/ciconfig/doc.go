// Package ciconfig turns a project's .gitlab-ci.yml into its effective
// jobs the way GitLab does: YAML with Psych's semantics (anchors, merge
// keys, YAML 1.1 scalars, last duplicate key wins), spec:inputs
// interpolation, include (local, project, component; remote and template
// noted), extends, !reference, default:, inherit: and variables, keeping
// the file:line of every script line for evidence. GitLab's limits and
// hostile input (YAML bombs, include cycles) give diagnostics, never a hang
// or a panic.
package ciconfig
