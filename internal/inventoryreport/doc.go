// Package inventoryreport renders the auditable inventory of allowlisted
// job-token edges (`tokenscope report`): a self-contained HTML page with
// the graph drawn as SVG, Markdown for GitLab, CSV and versioned JSON, all
// views of one plan, inventory and trust file, and writes them as one
// directory.
package inventoryreport
