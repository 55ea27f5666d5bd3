// Package rollout predicts, per rollout wave and per callee project, which
// job-token requests GitLab would refuse once the wave's allowlists (the
// current ones, or those of a saved plan) are enforced: the pre-flight of
// `tokenscope rollout status`. It is pure: it reads the inventory, the
// discovered edges, trust.yaml and a plan document, and returns a Status
// that package report renders.
package rollout
