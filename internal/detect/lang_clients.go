package detect

import (
	"strings"
)

// The clients the script scanner knows: plain HTTP libraries (requests,
// httpx, urllib; Net::HTTP, HTTParty, RestClient; fetch, axios, got) and
// the GitLab SDKs (python-gitlab, the gitlab gem, gitbeaker). Each call
// becomes a request (method, URL, headers, fields) that the REST family's
// carrier and endpoint rules judge (api.go, endpoint.go), so a script's
// request is judged exactly as the same curl command would be.

type objKind uint8

const (
	objLib     objKind = iota + 1 // a module: require("axios")
	objSession                    // requests.Session(), axios.create(), got.extend()
	objHeaders                    // session.headers
	objRequest                    // urllib Request, Net::HTTP::Get.new
	objGitlab                     // an SDK client
	objManager                    // python-gitlab manager, gitbeaker resource
	objProject                    // python-gitlab project object
	objJob                        // python-gitlab job object
)

// sobj is an object a library returned.
type sobj struct {
	kind objKind
	lib  string // objLib: the module; objGitlab: the SDK
	// base is the URL requests are relative to (a client's API URL).
	base    sval
	hasBase bool
	headers []kv
	fields  []kv
	owner   *sobj // objHeaders, objManager, objProject, objJob
	name    string
	ref     sval // objProject: the project ID or path; objJob: the job ID
	// objRequest:
	url     sval
	method  string
	emitted bool
}

func objVal(o *sobj) sval { return sval{obj: o, set: true} }

// httpVerbs are the request methods of requests, httpx, axios, got,
// HTTParty and RestClient.
var httpVerbs = map[string]string{"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "head": "HEAD", "options": "OPTIONS"}

// lastSeg is the last segment of a dotted path.
func lastSeg(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func headSeg(p string) string {
	h, _, _ := strings.Cut(p, ".")
	return h
}

// httpLibs are the module names whose verb functions send requests.
var httpLibs = map[string]string{
	"requests": "requests", "httpx": "httpx", "HTTParty": "HTTParty", "RestClient": "RestClient",
	"axios": "axios", "got": "got", "node-fetch": "fetch", "superagent": "superagent",
}

// libObject is a library path used as a value (const api = axios).
func (e *evaluator) libObject(path string) sval {
	if lib, ok := httpLibs[path]; ok {
		return objVal(&sobj{kind: objLib, lib: lib})
	}
	return sval{}
}

// rubyCallable reports whether a Ruby path names a call worth reading
// without parentheses.
func rubyCallable(path string) bool {
	return strings.HasPrefix(path, "Gitlab.") || strings.HasPrefix(path, "HTTParty.") || strings.HasPrefix(path, "RestClient.") ||
		path == "ENV.fetch" || strings.HasPrefix(path, "Net.HTTP")
}

// call evaluates a call of a library path: path(args).
func (e *evaluator) call(path string, a args) sval {
	last := lastSeg(path)
	if last == "Gitlab" && e.d == langPython {
		return e.pythonGitlab(a)
	}
	if last == "Gitlab" && e.d == langNode {
		return e.gitbeaker(a)
	}
	switch path {
	case "os.environ.get", "environ.get", "os.getenv", "getenv", "ENV.fetch":
		name, _ := a.arg(0, "key")
		v := e.envVal(name.s)
		if !v.set {
			if d, ok := a.arg(1, "default"); ok {
				return d
			}
			return unsetAsRef(v, name.s)
		}
		return v
	case "quote", "urllib.parse.quote", "parse.quote", "quote_plus", "urllib.parse.quote_plus", "encodeURIComponent",
		"CGI.escape", "ERB.Util.url_encode", "URI.encode_www_form_component", "URI.encode_uri_component", "escape":
		v, _ := a.arg(0)
		return urlEncode(v)
	case "str", "String", "URI", "URI.parse", "URL", "Integer", "int", "String.raw", "URI.join", "os.path.expandvars":
		if path == "URI.join" && len(a.pos) == 2 {
			return urlJoin(a.pos[0], a.pos[1])
		}
		v, _ := a.arg(0)
		return v
	case "urljoin", "urllib.parse.urljoin", "parse.urljoin":
		b, _ := a.arg(0)
		r, _ := a.arg(1)
		return urlJoin(b, r)
	case "require":
		m, _ := a.arg(0)
		if lib, ok := httpLibs[m.s]; ok {
			return objVal(&sobj{kind: objLib, lib: lib})
		}
		if strings.HasPrefix(m.s, "@gitbeaker/") {
			return objVal(&sobj{kind: objLib, lib: "gitbeaker"})
		}
		return unknownVal("require")
	case "fetch":
		return e.fetchCall(a, "fetch")
	case "got", "axios", "superagent":
		return e.libCall(&sobj{kind: objLib, lib: path}, a)
	case "urlopen", "urllib.request.urlopen", "request.urlopen", "urllib2.urlopen":
		if v, ok := a.arg(0, "url"); ok && v.obj != nil && v.obj.kind == objRequest {
			e.emitRequest(v.obj)
		}
		return unknownVal("response")
	case "Request", "urllib.request.Request", "request.Request", "urllib2.Request":
		u, _ := a.arg(0, "url")
		o := &sobj{kind: objRequest, url: u, method: "GET", lib: "urllib"}
		if d, ok := a.arg(1, "data"); ok && d.set && d.s != "none" {
			o.method = "POST"
			o.fields = append(o.fields, d.dict...)
		}
		if m, ok := a.arg(-1, "method"); ok {
			o.method = strings.ToUpper(m.s)
		}
		if h, ok := a.arg(2, "headers"); ok {
			o.headers = append(o.headers, h.dict...)
		}
		e.maybeEmit(o)
		return objVal(o)
	case "requests.Session", "requests.session", "Session", "httpx.Client", "httpx.AsyncClient", "Client", "AsyncClient":
		o := &sobj{kind: objSession, lib: headSeg(path)}
		if h, ok := a.arg(-1, "headers"); ok {
			o.headers = append(o.headers, h.dict...)
		}
		if b, ok := a.arg(-1, "base_url"); ok {
			o.base, o.hasBase = b, true
		}
		return objVal(o)
	case "gitlab.Gitlab", "Gitlab", "gitlab.client.Gitlab":
		if e.d == langNode {
			return e.gitbeaker(a)
		}
		if e.d == langPython {
			return e.pythonGitlab(a)
		}
	case "Gitlab.client", "Gitlab.new", "Gitlab.Client.new":
		return e.rubyGitlab(a)
	case "Gitlab.configure":
		return e.rubyGitlabModule()
	}
	// Net::HTTP::Get.new(uri, headers), Net::HTTP.get(uri, headers).
	if m, ok := strings.CutPrefix(path, "Net.HTTP."); ok {
		if cls, ok := strings.CutSuffix(m, ".new"); ok && httpVerbs[strings.ToLower(cls)] != "" {
			u, _ := a.arg(0)
			o := &sobj{kind: objRequest, url: u, method: httpVerbs[strings.ToLower(cls)], lib: "Net::HTTP"}
			if h, ok := a.arg(1, "initheader"); ok {
				o.headers = append(o.headers, h.dict...)
			}
			e.maybeEmit(o)
			return objVal(o)
		}
		if m == "get" || m == "get_response" {
			u, _ := a.arg(0)
			h, _ := a.arg(1)
			e.emit(scriptReq{method: "GET", url: u, headers: h.dict, how: "Net::HTTP"})
			return unknownVal("response")
		}
	}
	if path == "RestClient.Request.execute" {
		o := &sobj{kind: objLib, lib: "RestClient"}
		m, _ := a.arg(-1, "method")
		u, _ := a.arg(-1, "url")
		h, _ := a.arg(-1, "headers")
		e.emit(scriptReq{method: strings.ToUpper(m.s), url: u, headers: h.dict, how: o.lib})
		return unknownVal("response")
	}
	// requests.get(...), httpx.post(...), axios.get(...), got.post(...),
	// HTTParty.get(...), RestClient.get(...).
	head := strings.TrimSuffix(path, "."+last)
	if lib, ok := httpLibs[head]; ok {
		return e.method(objVal(&sobj{kind: objLib, lib: lib}), last, a)
	}
	// from requests import get; get(url, headers=...).
	return unknownVal(path)
}

// callValue evaluates a call of a value: got(url) where got =
// require("got").
func (e *evaluator) callValue(v sval, a args) sval {
	if v.obj != nil && (v.obj.kind == objLib || v.obj.kind == objSession) {
		if v.obj.lib == "fetch" {
			return e.fetchCall(a, "fetch")
		}
		return e.libCall(v.obj, a)
	}
	return unknownVal("call")
}

// libCall is a module or client called as a function: axios(config),
// axios(url, config), got(url, options), a client from axios.create.
func (e *evaluator) libCall(o *sobj, a args) sval {
	r := scriptReq{method: "GET", how: o.lib}
	cfg := sval{}
	if u, ok := a.arg(0); ok && !u.isMap {
		r.url = u
		cfg, _ = a.arg(1)
	} else {
		cfg = u
		r.url, _ = cfg.get("url")
	}
	e.applyConfig(&r, o, cfg)
	e.emitWith(o, r)
	return unknownVal("response")
}

// fetchCall is fetch(url, {method, headers, body}).
func (e *evaluator) fetchCall(a args, how string) sval {
	u, _ := a.arg(0)
	opts, _ := a.arg(1)
	r := scriptReq{method: "GET", url: u, how: how}
	e.applyConfig(&r, nil, opts)
	e.emit(r)
	return unknownVal("response")
}

// applyConfig reads an options object: method, headers, query
// parameters and form fields, and the client's base URL.
func (e *evaluator) applyConfig(r *scriptReq, o *sobj, cfg sval) {
	if m, ok := cfg.get("method"); ok && m.s != "" {
		r.method = strings.ToUpper(m.s)
	}
	for _, k := range []string{"headers", "header"} {
		if h, ok := cfg.get(k); ok {
			r.headers = append(r.headers, h.dict...)
		}
	}
	for _, k := range []string{"params", "searchParams", "query"} {
		if q, ok := cfg.get(k); ok {
			r.url = withQuery(r.url, q)
		}
	}
	for _, k := range []string{"data", "form", "json", "body", "files"} {
		if f, ok := cfg.get(k); ok {
			r.fields = append(r.fields, f.dict...)
		}
	}
	if o != nil && !o.hasBase {
		for _, k := range []string{"baseURL", "prefixUrl", "base_url"} {
			if b, ok := cfg.get(k); ok {
				r.url = urlJoin(b, r.url)
			}
		}
	}
}

// withQuery adds query parameters to a URL.
func withQuery(u, q sval) sval {
	if !q.isMap {
		return u
	}
	for _, p := range q.dict {
		sep := "?"
		if strings.Contains(u.s, "?") {
			sep = "&"
		}
		u = u.concat(strVal(sep + p.k + "=")).concat(p.v)
	}
	return u
}

// urlJoin resolves a path against a base URL the way the libraries'
// base-URL options do (a leading "/" path is relative to the base too:
// axios and got join rather than resolve).
func urlJoin(b, r sval) sval {
	switch {
	case !b.set:
		return r
	case !r.set:
		return b
	case strings.Contains(r.s, "://"):
		return r
	}
	return sval{s: strings.TrimSuffix(b.s, "/") + "/" + strings.TrimPrefix(r.s, "/"), unk: append(append([]string(nil), b.unk...), r.unk...), set: true}
}

// method evaluates obj.m(args).
func (e *evaluator) method(v sval, m string, a args) sval {
	o := v.obj
	if o == nil {
		if v.set && !v.isMap {
			if s, ok := stringMethod(v, m, a); ok {
				return s
			}
		}
		return unknownVal(m)
	}
	switch o.kind {
	case objLib, objSession:
		return e.sessionMethod(o, m, a)
	case objHeaders:
		switch m {
		case "update", "merge!", "set":
			if h, ok := a.arg(0); ok {
				o.owner.headers = append(o.owner.headers, h.dict...)
			}
			if len(a.pos) == 2 {
				o.owner.headers = append(o.owner.headers, kv{k: a.pos[0].s, v: a.pos[1]})
			}
		}
		return v
	case objRequest:
		switch m {
		case "add_header", "add_field", "__setitem__", "set_header", "[]=":
			if len(a.pos) == 2 {
				o.headers = append(o.headers, kv{k: a.pos[0].s, v: a.pos[1]})
				e.maybeEmit(o)
			}
		case "initialize_http_header":
			if h, ok := a.arg(0); ok {
				o.headers = append(o.headers, h.dict...)
				e.maybeEmit(o)
			}
		case "set_form_data", "form_data=":
			if f, ok := a.arg(0); ok {
				o.fields = append(o.fields, f.dict...)
			}
		}
		return v
	case objGitlab, objManager, objProject, objJob:
		return e.sdkMethod(o, m, a)
	}
	return unknownVal(m)
}

// sessionMethod is a verb of a library or session: requests.get(url,
// headers=...), axios.post(url, data, config), session.request("GET", u).
func (e *evaluator) sessionMethod(o *sobj, m string, a args) sval {
	switch m {
	case "create", "extend", "defaults":
		// axios.create({baseURL, headers}), got.extend({prefixUrl, headers}).
		cfg, _ := a.arg(0)
		s := &sobj{kind: objSession, lib: o.lib, headers: append([]kv(nil), o.headers...)}
		if h, ok := cfg.get("headers"); ok {
			s.headers = append(s.headers, h.dict...)
		}
		for _, k := range []string{"baseURL", "prefixUrl"} {
			if b, ok := cfg.get(k); ok {
				s.base, s.hasBase = b, true
			}
		}
		return objVal(s)
	case "request", "fetch":
		if o.lib == "axios" || o.lib == "got" {
			return e.libCall(o, a)
		}
		meth, _ := a.arg(0, "method")
		u, _ := a.arg(1, "url")
		r := scriptReq{method: strings.ToUpper(meth.s), url: u, how: o.lib}
		e.pyKwargs(&r, a)
		e.emitWith(o, r)
		return unknownVal("response")
	case "mount", "close", "auth":
		return objVal(o)
	case "Session", "session", "Client", "AsyncClient":
		// requests.Session(), httpx.Client(headers=, base_url=).
		s := &sobj{kind: objSession, lib: o.lib}
		if h, ok := a.arg(-1, "headers"); ok {
			s.headers = append(s.headers, h.dict...)
		}
		if b, ok := a.arg(-1, "base_url"); ok {
			s.base, s.hasBase = b, true
		}
		return objVal(s)
	}
	verb, ok := httpVerbs[strings.ToLower(m)]
	if !ok {
		return unknownVal(m)
	}
	u, _ := a.arg(0, "url")
	r := scriptReq{method: verb, url: u, how: o.lib}
	switch o.lib {
	case "axios":
		// axios.get(url, config); axios.post(url, data, config).
		cfgAt := 1
		if verb == "POST" || verb == "PUT" || verb == "PATCH" {
			if d, ok := a.arg(1); ok {
				r.fields = append(r.fields, d.dict...)
			}
			cfgAt = 2
		}
		cfg, _ := a.arg(cfgAt)
		e.applyConfig(&r, o, cfg)
	case "got", "superagent":
		cfg, _ := a.arg(1)
		e.applyConfig(&r, o, cfg)
	case "RestClient":
		// RestClient.get(url, headers); RestClient.post(url, payload, headers).
		hAt := 1
		if verb == "POST" || verb == "PUT" || verb == "PATCH" {
			if d, ok := a.arg(1); ok {
				r.fields = append(r.fields, d.dict...)
			}
			hAt = 2
		}
		h, _ := a.arg(hAt)
		for _, p := range h.dict {
			if p.k == "params" {
				r.url = withQuery(r.url, p.v)
				continue
			}
			r.headers = append(r.headers, p)
		}
		r.headers = append(r.headers, headersKw(a)...)
	default:
		// requests, httpx, HTTParty: keyword arguments.
		e.pyKwargs(&r, a)
	}
	e.emitWith(o, r)
	return unknownVal("response")
}

func headersKw(a args) []kv {
	var out []kv
	for _, p := range a.kw {
		if p.k != "params" && p.k != "payload" {
			out = append(out, p)
		}
	}
	return out
}

// pyKwargs reads requests/httpx/HTTParty keyword arguments: headers,
// params/query, data/json/body/files.
func (e *evaluator) pyKwargs(r *scriptReq, a args) {
	for _, p := range a.kw {
		switch p.k {
		case "headers":
			r.headers = append(r.headers, p.v.dict...)
		case "params", "query":
			r.url = withQuery(r.url, p.v)
		case "data", "json", "body", "files":
			r.fields = append(r.fields, p.v.dict...)
		}
	}
}

// objAttr evaluates obj.a (no call).
func (e *evaluator) objAttr(o *sobj, a string) sval {
	switch o.kind {
	case objSession, objLib:
		switch a {
		case "headers":
			return objVal(&sobj{kind: objHeaders, owner: o})
		case "defaults":
			return objVal(o)
		}
	case objHeaders:
		// axios's defaults.headers.common.
		return objVal(o)
	case objGitlab, objProject, objJob, objManager:
		return e.sdkAttr(o, a)
	}
	return sval{}
}

// setOnObject handles obj.attr = v and obj[key] = v.
func (e *evaluator) setOnObject(o *sobj, attr []string, key *sval, v sval) {
	if n := len(attr); n > 0 && attr[n-1] == "headers" && key == nil && v.isMap {
		// session.headers = {...}: the headers of what attr[:n-1] names.
		for _, a := range attr[:n-1] {
			if next := e.objAttr(o, a); next.obj != nil {
				o = next.obj
			}
		}
		if o.kind == objSession || o.kind == objLib || o.kind == objRequest {
			o.headers = append(o.headers, v.dict...)
		}
		return
	}
	for _, a := range attr {
		if o.kind == objGitlab && len(attr) == 1 {
			e.setClient(o, a, v)
			return
		}
		next := e.objAttr(o, a)
		if next.obj == nil {
			return
		}
		o = next.obj
	}
	if key == nil {
		return
	}
	switch o.kind {
	case objHeaders:
		o.owner.headers = append(o.owner.headers, kv{k: key.s, v: v})
	case objRequest:
		o.headers = append(o.headers, kv{k: key.s, v: v})
		e.maybeEmit(o)
	}
}

// maybeEmit reports a request object once it carries the job token.
func (e *evaluator) maybeEmit(o *sobj) {
	if o.emitted {
		return
	}
	for _, h := range o.headers {
		if HasJobToken(h.v.s) {
			e.emitRequest(o)
			return
		}
	}
}

func (e *evaluator) emitRequest(o *sobj) {
	if o.emitted {
		return
	}
	o.emitted = true
	e.emit(scriptReq{method: o.method, url: o.url, headers: o.headers, fields: o.fields, how: o.lib})
}

// emitWith adds a session's base URL and headers to a request.
func (e *evaluator) emitWith(o *sobj, r scriptReq) {
	if o != nil {
		r.headers = append(append([]kv(nil), o.headers...), r.headers...)
		if o.hasBase {
			r.url = urlJoin(o.base, r.url)
		}
	}
	e.emit(r)
}

// maxScriptRequests bounds the requests one script reports.
const maxScriptRequests = 1000

func (e *evaluator) emit(r scriptReq) {
	if len(e.reqs) >= maxScriptRequests || !r.url.set {
		return
	}
	if r.line == 0 {
		r.line = e.line
	}
	if r.method == "" {
		r.method = "GET"
	}
	e.reqs = append(e.reqs, r)
}
