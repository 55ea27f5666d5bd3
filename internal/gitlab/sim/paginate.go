package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Offset pagination as Gitlab::Pagination::OffsetPagination does it:
// per_page defaults to 20 and is capped at 100; X-Total and X-Total-Pages
// (and the "last" link) are left out above 10,000 rows, where GitLab stops
// counting.
const (
	defaultPerPage = 20
	maxPerPage     = 100
	maxCounted     = 10_000
)

// paginate writes the pagination headers for n rows and returns the
// window [start, end) of the page asked for; ok false after a 400 for a
// parameter that is not a number, or for per_page=0.
//
// The parameters are API::PaginationParams (lib/api/concerns/
// pagination_params.rb): `optional :per_page, type: Integer, default: 20,
// except_values: [0]`, so per_page=0 is Grape's 400 "per_page has a value
// not allowed" rather than the default page size. A page past the end is
// an empty array with the headers; X-Next-Page and X-Prev-Page are
// Kaminari's next_page and prev_page, both nil when the page is
// out_of_range? (kaminari lib/kaminari/models/page_scope_methods.rb), so
// neither they nor the prev and next links point anywhere then
// (lib/gitlab/pagination/offset_pagination.rb).
func (c *rctx) paginate(n int) (start, end int, ok bool) {
	page, perPage := 1, defaultPerPage
	if raw, set := c.input["page"]; set {
		v, good := parseInt(raw)
		if !good {
			writeError(c.w, http.StatusBadRequest, "page is invalid")
			return 0, 0, false
		}
		page = max(v, 1)
	}
	if raw, set := c.input["per_page"]; set {
		v, good := parseInt(raw)
		if !good {
			writeError(c.w, http.StatusBadRequest, "per_page is invalid")
			return 0, 0, false
		}
		if v == 0 {
			writeError(c.w, http.StatusBadRequest, "per_page has a value not allowed")
			return 0, 0, false
		}
		if v > 0 {
			perPage = min(v, maxPerPage)
		}
	}
	pages := max(1, (n+perPage-1)/perPage)
	// Kaminari's total_pages is 0 for no rows, so even page 1 is out of
	// range then; GitLab still reports X-Total-Pages 1.
	outOfRange := page > (n+perPage-1)/perPage
	h := c.w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	next, prev := "", ""
	if page < pages && !outOfRange {
		next = strconv.Itoa(page + 1)
	}
	if page > 1 && !outOfRange {
		prev = strconv.Itoa(page - 1)
	}
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	counted := n <= maxCounted
	if counted {
		h.Set("X-Total", strconv.Itoa(n))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
	}
	var links []string
	link := func(p int, rel string) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", c.pageURL(p, perPage), rel))
	}
	if prev != "" {
		link(page-1, "prev")
	}
	if next != "" {
		link(page+1, "next")
	}
	link(1, "first")
	if counted {
		link(pages, "last")
	}
	h.Set("Link", strings.Join(links, ", "))
	start = min((page-1)*perPage, n)
	return start, min(start+perPage, n), true
}

// writePage answers the page of list the request asks for, each row as
// entity renders it.
func writePage[T, J any](c *rctx, list []T, entity func(T) J) {
	start, end, ok := c.paginate(len(list))
	if !ok {
		return
	}
	out := make([]J, 0, end-start)
	for _, x := range list[start:end] {
		out = append(out, entity(x))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// pageURL is the request's URL with page and per_page replaced, as the
// client sent it (scheme and host from the request).
func (c *rctx) pageURL(page, perPage int) string {
	q := c.r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	q.Del("private_token")
	u := url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path, RawPath: c.r.URL.RawPath, RawQuery: q.Encode()}
	if c.r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String()
}
