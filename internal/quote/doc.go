// Package quote writes text from repositories and GitLab (names,
// evidence, reasons) safely into each output language tokenscope writes
// in more than one package: one line of a comment, table or terminal
// (OneLine), a Markdown code span (MarkdownCode), a Mermaid label
// (MermaidLabel) and a CSV cell (CSVCell). Language-specific quoting used
// by one renderer only (bash words, HCL strings) stays with it.
package quote
