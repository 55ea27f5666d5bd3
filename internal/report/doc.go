// Package report renders tokenscope's models for people and machines: one
// model, many renderers (table, JSON, Markdown with Mermaid, CSV, DOT). A
// renderer computes no domain facts; machine formats are versioned
// contracts with their own wire structs.
package report
