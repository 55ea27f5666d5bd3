// Package ciconfig turns a project's .gitlab-ci.yml into its effective
// jobs the way GitLab does: YAML with Psych's semantics (anchors, merge
// keys, YAML 1.1 scalars, last duplicate key wins), spec:inputs
// interpolation, include (local, project, component; remote and template
// noted), extends, !reference, default:, inherit: and variables, keeping
// the file:line of every script line for evidence. GitLab's limits and
// hostile input (YAML bombs, include cycles) give diagnostics, never a hang
// or a panic.
//
// Load follows Gitlab::Ci::Config#build_config
// (lib/gitlab/ci/config.rb in gitlab-org/gitlab):
//
//  1. each file is split into its header and configuration documents
//     (yaml.go), loaded into an immutable value tree (node.go) with Psych's
//     typing (scalar.go), and interpolated with its include entry's inputs
//     (inputs.go);
//  2. includes are expanded depth first and deep-merged below the file that
//     includes them (include.go);
//  3. extends (extends.go), then !reference over the merged result
//     (reference.go);
//  4. the root is split into globals, hidden entries and jobs, default: and
//     inherit: are applied, and scripts, variables and variants are read
//     (jobs.go, scripts.go, variables.go);
//  5. the child pipelines of trigger:include jobs are loaded the same way,
//     up to GitLab's two levels, and their jobs added with the trigger
//     job's variables passed down (child.go).
//
// Trees are never modified after they are built: merges share unchanged
// subtrees. That keeps aliases unexpanded in memory and lets a Cache hand
// the same parsed template to many concurrent loads.
package ciconfig
