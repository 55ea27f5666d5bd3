package inventoryreport

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
)

var (
	//go:embed site.html.tmpl
	pageTemplate string
	//go:embed site.css
	pageCSS string
	//go:embed site.js
	pageJS string
)

// page is parsed once. html/template escapes every value for its context:
// names and evidence in text and attributes, the document in the JSON
// script (as JSON, with <, > and & escaped, so "</script>" in a CI file
// cannot end it).
var page = template.Must(template.New("index.html").Parse(pageTemplate))

type pageData struct {
	Doc            *Document
	Data           pagePayload
	Overview       Picture
	Drills         []Drill
	Statuses       []string
	Origins        []string
	AggregateAbove int
	// CSS and JS are the page's own constant assets (embedded above), not
	// data: trusted as such.
	CSS template.CSS
	JS  template.JS
}

// HTML writes index.html: one self-contained page (inline CSS, JS and SVG;
// its Content-Security-Policy forbids any request).
func HTML(w io.Writer, doc *Document) error {
	return html(w, doc, nil)
}

// html renders the page; refs are the projects' default branches (for
// evidence links), overview and drills the pictures when already drawn.
func html(w io.Writer, doc *Document, pics *drawn) error {
	if pics == nil {
		pics = draw(doc)
	}
	overview, drills := pics.overview, pics.drills
	statuses, origins := map[string]bool{}, map[string]bool{}
	for _, e := range doc.Edges {
		statuses[e.Status] = true
		for _, o := range e.Origins {
			origins[o] = true
		}
	}
	d := pageData{Doc: doc, Data: payload(doc, pics.refs), Overview: overview, Drills: drills, Statuses: sortedKeys(statuses), Origins: sortedKeys(origins),
		AggregateAbove: AggregateAbove, CSS: template.CSS(pageCSS), JS: template.JS(pageJS)}
	slices.Sort(d.Statuses)
	return page.Execute(w, d)
}

// drawn is what the HTML and Markdown share: the pictures, drawn once.
type drawn struct {
	overview Picture
	drills   []Drill
	refs     map[string]string
}

func draw(doc *Document) *drawn {
	o, d := pictures(doc)
	return &drawn{overview: o, drills: d, refs: doc.refs}
}
