// The report's tables, search and filters, drawn from the JSON document in
// the page (the same as inventory.json). Text goes in through textContent
// only, and links only to http(s): the data comes from repositories.
(function () {
  "use strict";
  // The compact payload (payload.go) back into inventory.json's shape.
  var raw = JSON.parse(document.getElementById("data").textContent);
  var P = raw.p, base = /^https?:\/\//i.test(raw.b || "") ? raw.b : "";
  function seg(p) { return String(p).split("/").map(encodeURIComponent).join("/"); }
  function blob(project, file, line) {
    if (!base || !file) return "";
    var p = projectsByPath[project.toLowerCase()];
    var ref = p && p.ref ? p.ref : "HEAD";
    return base + "/" + seg(project) + "/-/blob/" + seg(ref) + "/" + seg(file) + (line ? "#L" + line : "");
  }
  var projectsByPath = {};
  var doc = { projects: P.map(function (p) {
    var o = { path: p.p, state: p.s === 2 ? "unknown" : "known", enforced: p.s === 1, allowlist_entries: p.n || 0,
      enforce: !!p.e, ref: p.r || "", inbound: p.i || 0, outbound: p.o || 0 };
    projectsByPath[p.p.toLowerCase()] = o;
    return o;
  }) };
  var edges = raw.e.map(function (e) {
    var caller = e.c >= 0 ? P[e.c].p : e.cn, callee = e.d >= 0 ? P[e.d].p : e.dn;
    return {
      caller: caller, caller_type: e.t ? "group" : "project", callee: callee, access: e.a || [], policies: e.p || [],
      default_permissions: !!e.dp, status: e.s, on_allowlist: !!(e.f & 1), approved: !!(e.f & 2), drift: !!(e.f & 4),
      origins: e.o || [], last_seen: e.ls || "", owner: e.ow || "", reason: e.r || "", expires: e.x || "",
      trust_line: e.tl || 0, note: e.n || "", more: e.m || 0,
      evidence: (e.v || []).map(function (v) {
        var project = v.pr ? P[v.pr - 1].p : v.pn || caller;
        return { origin: v.o, access: v.a || (e.a && e.a.length === 1 ? e.a[0] : ""), project: project, file: v.f || "",
          line: v.l || 0, job: v.j || "", detail: v.d || "", url: blob(project, v.f, v.l) };
      })
    };
  });
  var PAGE = 500;
  var showAll = location.hash === "#all";
  var cols = ["caller", "callee", "access", "policies", "status", "origin", "evidence", "last seen", "owner", "reason", "expires"];

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function safeURL(u) { return typeof u === "string" && /^https?:\/\//i.test(u) ? u : ""; }
  function cls(e) {
    switch (e.status) {
      case "review": return "review";
      case "remove": case "denied": case "never": case "unapproved": return "blocked";
      case "stale": return "stale";
    }
    return e.drift ? "drift" : "ok";
  }
  function place(v) {
    if (!v.file) return "";
    var p = v.file + (v.line ? ":" + v.line : "");
    if (v.project) p = v.project + ":" + p;
    if (v.job) p += " (" + v.job + ")";
    return p;
  }
  function head(table) {
    var thead = table.tHead, tr = el("tr");
    cols.forEach(function (c) { tr.appendChild(el("th", c)); });
    thead.textContent = "";
    thead.appendChild(tr);
  }
  function row(e, i) {
    var tr = el("tr", null, cls(e));
    tr.setAttribute("data-edge", String(i));
    var caller = el("td");
    if (e.caller_type === "group") caller.appendChild(el("span", "group ", "muted"));
    var a = el("a", e.caller); a.href = "#project=" + encodeURIComponent(e.caller); caller.appendChild(a);
    tr.appendChild(caller);
    var callee = el("td"); var b = el("a", e.callee); b.href = "#project=" + encodeURIComponent(e.callee); callee.appendChild(b);
    tr.appendChild(callee);
    tr.appendChild(el("td", e.access.length ? e.access.join(", ") : "(unknown)"));
    tr.appendChild(el("td", e.default_permissions ? "default" : e.policies.join(", ")));
    var st = e.status + (e.approved ? "" : e.status === "keep" || e.status === "add" || e.status === "update" ? " (not reviewed)" : "");
    tr.appendChild(el("td", st, "st"));
    tr.appendChild(el("td", e.origins.join(", ")));
    var ev = el("td");
    if (e.evidence.length) {
      var ul = el("ul", null, "ev");
      e.evidence.forEach(function (v) {
        var li = el("li"), p = place(v), u = safeURL(v.url);
        if (p) {
          var c = el("code", p);
          if (u) { var l = el("a"); l.href = u; l.rel = "noreferrer"; l.appendChild(c); li.appendChild(l); } else li.appendChild(c);
          li.appendChild(document.createTextNode(" "));
        }
        li.appendChild(el("code", (v.access ? v.access + ": " : "") + v.detail));
        ul.appendChild(li);
      });
      if (e.more) ul.appendChild(el("li", "+" + e.more + " more (inventory.json, edges.csv)", "muted"));
      ev.appendChild(ul);
    } else if (e.note) ev.appendChild(el("span", e.note, "muted"));
    tr.appendChild(ev);
    tr.appendChild(el("td", e.last_seen || ""));
    tr.appendChild(el("td", e.owner || ""));
    tr.appendChild(el("td", e.reason || (e.trust_line ? "" : e.note || "")));
    tr.appendChild(el("td", e.expires || ""));
    return tr;
  }
  function text(e) {
    var parts = [e.caller, e.callee, e.status, e.owner || "", e.reason || "", e.note || "", e.access.join(" "), e.policies.join(" ")];
    e.evidence.forEach(function (v) { parts.push(place(v), v.detail); });
    return parts.join("\n").toLowerCase();
  }
  var haystack = edges.map(text);

  var q = document.getElementById("q"), fs = document.getElementById("f-status"), fo = document.getElementById("f-origin"),
    fd = document.getElementById("f-drift"), count = document.getElementById("count"), more = document.getElementById("more");
  var table = document.getElementById("edges");
  head(table);
  function render() {
    var needle = q.value.trim().toLowerCase(), s = fs.value, o = fo.value, d = fd.checked;
    var tbody = el("tbody"), shown = 0, matched = 0;
    for (var i = 0; i < edges.length; i++) {
      var e = edges[i];
      if (s && e.status !== s) continue;
      if (o && e.origins.indexOf(o) < 0) continue;
      if (d && !e.drift) continue;
      if (needle && haystack[i].indexOf(needle) < 0) continue;
      matched++;
      if (showAll || shown < PAGE) { tbody.appendChild(row(e, i)); shown++; }
    }
    table.replaceChild(tbody, table.tBodies[0]);
    count.textContent = shown < matched ? shown + " of " + matched + " edges shown" : matched + " edges";
    more.hidden = shown >= matched;
  }
  [q, fs, fo, fd].forEach(function (x) { x.addEventListener("input", render); x.addEventListener("change", render); });
  more.addEventListener("click", function () { showAll = true; render(); });
  render();

  // Per-project view: the allowlists a project is on (as caller, also
  // through a group entry) and its own allowlist (as callee).
  var projects = projectsByPath;
  var list = document.getElementById("projects");
  var names = doc.projects.filter(function (p) { return p.inbound || p.outbound; });
  names.slice(0, 5000).forEach(function (p) { var o = el("option"); o.value = p.path; list.appendChild(o); });
  var input = document.getElementById("project"), view = document.getElementById("project-view");
  var tin = document.getElementById("pv-in"), tout = document.getElementById("pv-out");
  head(tin); head(tout);
  function under(path, group) { return path.toLowerCase().indexOf(group.toLowerCase() + "/") === 0; }
  function showProject(name) {
    var p = projects[name.toLowerCase()];
    var key = name.toLowerCase();
    var bin = el("tbody"), bout = el("tbody");
    for (var i = 0; i < edges.length; i++) {
      var e = edges[i];
      if (e.callee.toLowerCase() === key) bin.appendChild(row(e, i));
      if ((e.caller_type === "group" ? under(name, e.caller) : e.caller.toLowerCase() === key)) bout.appendChild(row(e, i));
    }
    tin.replaceChild(bin, tin.tBodies[0]);
    tout.replaceChild(bout, tout.tBodies[0]);
    document.getElementById("pv-name-in").textContent = name;
    document.getElementById("pv-name-out").textContent = name;
    var state = "";
    if (!p) state = "Not in the inventory.";
    else if (p.state === "unknown") state = "Its job token settings could not be read (Maintainer needed).";
    else state = "Allowlist " + (p.enforced ? "enforced" : "not enforced") + ", " + p.allowlist_entries + " entries today" + (p.enforce ? "; the plan turns it on" : "") + ".";
    document.getElementById("pv-state").textContent = state;
    view.hidden = false;
  }
  input.addEventListener("change", function () { if (input.value.trim()) showProject(input.value.trim()); });
  function fromHash() {
    var m = /^#project=(.*)$/.exec(location.hash);
    if (m) {
      var name = decodeURIComponent(m[1]);
      input.value = name;
      showProject(name);
      document.getElementById("lookup").scrollIntoView();
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  // Drill-down: a click on a group box opens its picture.
  document.querySelectorAll("g.node[data-drill]").forEach(function (g) {
    g.addEventListener("click", function () {
      var d = document.getElementById(g.getAttribute("data-drill").slice(1));
      if (d) { d.open = true; d.scrollIntoView(); }
    });
  });
  document.body.setAttribute("data-ready", String(edges.length));
})();
