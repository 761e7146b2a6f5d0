/* The graph explorer (explorer/templates/explore.html.j2): starts from one entity and grows on
   demand from the JSON routes (neighbours, impact, dependencies, paths). Data never goes through
   innerHTML: every text is set with textContent, so hostile names stay text. */
(function () {
  "use strict";
  var started = performance.now();  // the layout budget counts from here, not from navigation
  var BUDGET_MS = 2500;
  var GAP = "#d32f2f";
  var root = document.getElementById("explorer");
  var scenario = root.getAttribute("data-scenario");
  var focus = root.getAttribute("data-focus");
  var asOf = root.getAttribute("data-as-of");
  var at = root.getAttribute("data-at");
  var legend = JSON.parse(root.getAttribute("data-legend"));
  var relTypes = root.getAttribute("data-rel-types").split(",");
  var groupOver = parseInt(root.getAttribute("data-group-over"), 10);
  var styles = {};
  legend.forEach(function (s) { styles[s.kind] = s; });
  // vis-network draws labels inside these shapes, which makes long names into huge nodes: use
  // shapes with the label underneath instead (the colour still tells the kind).
  var OUTSIDE = { database: "triangleDown", ellipse: "dot", box: "square", text: "dot", circle: "dot" };

  var filters = { hiddenKinds: {}, hiddenRels: {}, onlyFindings: false };
  var expanded = {};
  var highlighted = null;
  var nodes = new vis.DataSet();
  var edges = new vis.DataSet();
  var container = document.getElementById("network");
  var options = {
    autoResize: true,
    nodes: { size: 16, font: { size: 13, face: "system-ui, sans-serif", strokeWidth: 3, strokeColor: "#ffffff" } },
    edges: {
      arrows: { to: { enabled: true, scaleFactor: 0.5 } },
      color: { color: "#9e9e9e", highlight: "#212121", hover: "#424242" },
      font: { size: 9, color: "#616161", align: "middle", strokeWidth: 2 },
      smooth: false
    },
    interaction: { hover: true, tooltipDelay: 200, hideEdgesOnDrag: true },
    layout: { improvedLayout: false, randomSeed: 7 },
    physics: {
      enabled: false,
      solver: "barnesHut",
      barnesHut: { gravitationalConstant: -5000, centralGravity: 0.25, springLength: 120, springConstant: 0.04,
        damping: 0.45, avoidOverlap: 0.1 },
      stabilization: { enabled: false },
      minVelocity: 1
    }
  };
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, options);
  var api = {
    nodes: nodes, edges: edges, network: network, filters: filters, ready: false, busy: 0,
    lastLayout: null, lastExpand: null, errors: []
  };
  window.tomgraphExplorer = api;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function kindLabel(kind) { return styles[kind] ? styles[kind].label : kind; }
  function setStatus(text) { document.getElementById("status").textContent = text; }
  function apiUrl(path, params) {
    var q = [];
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "" && v !== false) { q.push(encodeURIComponent(k) + "=" + encodeURIComponent(v)); }
    });
    if (asOf && path.indexOf("/neighbours") >= 0) { q.push("as_of=" + encodeURIComponent(asOf)); }
    if (at) { q.push("at=" + encodeURIComponent(at)); }
    return "/scenarios/" + encodeURIComponent(scenario) + path + (q.length ? "?" + q.join("&") : "");
  }
  function pageUrl(id) {
    var q = [];
    if (asOf) { q.push("as_of=" + encodeURIComponent(asOf)); }
    if (at) { q.push("at=" + encodeURIComponent(at)); }
    return "/ui/scenarios/" + encodeURIComponent(scenario) + "/entities/" + encodeURIComponent(id) + (q.length ? "?" + q.join("&") : "");
  }
  function getJson(url) {
    api.busy += 1;
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (body) {
            throw new Error(body.detail || ("HTTP " + r.status));
          });
        }
        return r.json();
      })
      .finally(function () { api.busy -= 1; });
  }
  function fail(what) {
    return function (err) { api.errors.push(String(err.message)); setStatus(what + ": " + err.message); };
  }

  function tooltip(n) {
    var box = el("div");
    box.appendChild(el("div", "tt-name", n.name || n.id));
    box.appendChild(el("div", null, kindLabel(n.kind) + (n.group ? "" : " \u00b7 " + n.id)));
    if (n.open) { box.appendChild(el("div", "tt-gap", n.open + " open finding" + (n.open > 1 ? "s" : ""))); }
    return box;
  }
  function entityNode(n) {
    var s = styles[n.kind] || { colour: "#9e9e9e", shape: "dot" };
    var node = {
      id: n.id, kind: n.kind, name: n.name, label: n.name || n.id, open: n.open || 0,
      shape: OUTSIDE[s.shape] || s.shape,
      color: { background: s.colour, border: n.open ? GAP : s.colour, highlight: { background: s.colour, border: "#212121" } },
      borderWidth: n.open ? 4 : 1
    };
    node.title = tooltip(node);
    return node;
  }
  function groupNode(centre, g) {
    var s = styles[g.kind] || { colour: "#9e9e9e" };
    var node = {
      id: "group:" + centre + ":" + g.kind, group_of: centre, kind: g.kind, count: g.count, open: g.open, isGroup: true,
      name: kindLabel(g.kind) + ": " + g.count,
      label: kindLabel(g.kind) + " \u00d7" + g.count + (g.open ? "\n" + g.open + " with open findings" : ""),
      shape: "box", margin: 10,
      color: { background: "#ffffff", border: g.open ? GAP : s.colour, highlight: { background: "#f5f5f5", border: "#212121" } },
      borderWidth: 3, shapeProperties: { borderDashes: [5, 3] }, font: { size: 14, color: "#263238" }
    };
    node.title = tooltip(node);
    return node;
  }
  function relEdge(centre, n, r) {
    var from = r.outgoing ? centre : n.id, to = r.outgoing ? n.id : centre;
    return { id: from + "|" + r.type + "|" + to, from: from, to: to, type: r.type, label: r.type };
  }

  function visible(n) {
    if (n.id === focus) { return true; }
    if (filters.hiddenKinds[n.kind]) { return false; }
    if (filters.onlyFindings && !n.isGroup && !n.open) { return false; }
    return true;
  }
  function applyFilters() {
    nodes.update(nodes.get().map(function (n) { return { id: n.id, hidden: !visible(n) }; }));
    edges.update(edges.get().map(function (e) { return { id: e.id, hidden: !!filters.hiddenRels[e.type] }; }));
  }
  api.visibleIds = function () {
    return nodes.get({ filter: function (n) { return !n.hidden; } }).map(function (n) { return n.id; }).sort();
  };

  function iterationsFor(count) { return Math.round(Math.max(80, Math.min(400, 60000 / Math.max(count, 1)))); }
  // Lay out with physics, then freeze. With `keep`, nodes already placed stay where they are and
  // only the new ones move: the drawing a person has learnt does not jump.
  function layout(keep, onDone) {
    var t0 = performance.now();
    var movable = keep ? keep : null;
    if (movable) {
      nodes.update(nodes.get().map(function (n) { return { id: n.id, fixed: movable[n.id] ? false : { x: true, y: true } }; }));
    }
    var count = nodes.get({ filter: function (n) { return !n.hidden; } }).length;
    network.setOptions({ physics: { enabled: true, barnesHut: { theta: count > 300 ? 0.9 : 0.5, avoidOverlap: count > 300 ? 0 : 0.1 } } });
    var done = false;
    var capped = false;
    function finish() {
      if (done) { return; }
      done = true;
      network.setOptions({ physics: { enabled: false } });
      if (movable) { nodes.update(nodes.get().map(function (n) { return { id: n.id, fixed: false }; })); }
      api.lastLayout = { ms: performance.now() - t0, nodes: count, at: performance.now(), capped: capped };
      if (onDone) { onDone(); }
    }
    network.once("stabilized", finish);
    network.once("stabilizationIterationsDone", finish);
    network.stabilize(iterationsFor(count));
    // the budget: a big layout is frozen as it stands rather than keep the browser busy
    setTimeout(function () { if (!done) { capped = true; network.stopSimulation(); finish(); } }, Math.max(500, BUDGET_MS - (api.ready ? 0 : performance.now() - started)));
  }
  api.relayout = function (onDone) { layout(null, function () { network.fit({ animation: false }); if (onDone) { onDone(); } }); };

  function placeAround(centreId, items) {
    var at0 = nodes.get(centreId) ? network.getPosition(centreId) : { x: 0, y: 0 };
    var radius = 90 + 6 * Math.min(items.length, 60);
    items.forEach(function (n, i) {
      var angle = (2 * Math.PI * i) / Math.max(items.length, 1);
      n.x = at0.x + radius * Math.cos(angle);
      n.y = at0.y + radius * Math.sin(angle);
    });
  }

  function neighboursParams(extra) {
    var kinds = legend.map(function (s) { return s.kind; }).filter(function (k) { return !filters.hiddenKinds[k]; });
    var rels = relTypes.filter(function (t) { return !filters.hiddenRels[t]; });
    var p = { limit: groupOver, open_only: filters.onlyFindings ? "true" : null };
    if (kinds.length < legend.length) { p.kinds = kinds.join(","); }
    if (rels.length < relTypes.length) { p.rels = rels.join(","); }
    return Object.assign(p, extra || {});
  }

  // Add the answer of /neighbours around `id`; returns the ids added.
  function addNeighbours(id, answer) {
    var addedNodes = [], addedEdges = [];
    answer.groups.forEach(function (g) {
      if (g.collapsed) {
        var gn = groupNode(id, g);
        if (!nodes.get(gn.id)) { addedNodes.push(gn); }
        addedEdges.push({ id: id + "|group|" + g.kind, from: id, to: gn.id, dashes: true, label: g.count + " " + kindLabel(g.kind) });
        return;
      }
      g.items.forEach(function (n) {
        if (!nodes.get(n.id) && !addedNodes.some(function (a) { return a.id === n.id; })) { addedNodes.push(entityNode(n)); }
        n.relationships.forEach(function (r) { addedEdges.push(relEdge(id, n, r)); });
      });
    });
    placeAround(id, addedNodes);
    addedNodes.forEach(function (n) { n.hidden = !visible(n); });
    nodes.add(addedNodes);
    var fresh = addedEdges.filter(function (e) { return !edges.get(e.id); });
    fresh.forEach(function (e) { e.hidden = !!filters.hiddenRels[e.type]; });
    edges.add(fresh);
    return addedNodes.map(function (n) { return n.id; });
  }

  function expand(id, onDone) {
    if (String(id).indexOf("group:") === 0) { openGroup(id); return; }
    var t0 = performance.now();
    setStatus("Expanding " + id + "\u2026");
    getJson(apiUrl("/entities/" + encodeURIComponent(id) + "/neighbours", neighboursParams()))
      .then(function (answer) {
        expanded[id] = true;
        var centre = nodes.get(id);
        if (centre) { nodes.update({ id: id, findings: answer.findings }); }
        var added = addNeighbours(id, answer);
        var keep = {};
        added.forEach(function (a) { keep[a] = true; });
        var finished = function () {
          api.lastExpand = { id: id, added: added.length, ms: performance.now() - t0 };
          setStatus("Added " + added.length + " of " + answer.total + " neighbours of " + (answer.name || id) + ".");
          if (onDone) { onDone(added); }
        };
        if (added.length) { layout(keep, finished); } else { finished(); }
      })
      .catch(function (err) { fail("Could not expand " + id)(err); if (onDone) { onDone([]); } });
  }
  api.expand = expand;

  // ---- details panel ----
  var details = document.getElementById("details");
  function button(text, id, onClick) {
    var b = el("button", null, text);
    b.type = "button";
    if (id) { b.id = id; }
    b.addEventListener("click", onClick);
    return b;
  }
  function showFindings(n, list) {
    var box = el("div");
    box.id = "details-findings";
    box.appendChild(el("h3", null, "Findings (" + list.length + ")"));
    var ul = el("ul", "findings");
    list.forEach(function (f) {
      var li = el("li", "finding sev-" + f.severity + (f.waived ? " waived" : ""));
      li.setAttribute("data-check", f.check);
      li.appendChild(el("span", "sev", f.severity));
      li.appendChild(el("code", "check", " " + f.check));
      li.appendChild(el("div", "msg", f.message));
      li.appendChild(el("div", "fix", "Remediation: " + f.remediation));
      if (f.waived) { li.appendChild(el("div", "waiver", "Waived by " + f.waived.accepted_by + " until " + f.waived.expires)); }
      li.appendChild(button("Highlight its subjects", null, function () { highlightIds(f.subjects, "subjects of " + f.check, true); }));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }
  function showDetails(id) {
    var n = nodes.get(id);
    if (!n) { return; }
    if (n.isGroup) { openGroup(id); return; }
    details.textContent = "";
    details.appendChild(el("div", "kind", kindLabel(n.kind)));
    var h = el("h2", null, n.name || n.id);
    h.id = "details-name";
    details.appendChild(h);
    details.appendChild(el("code", null, n.id));
    if (n.open) { details.appendChild(el("p", "badge open", n.open + " open findings")); }
    var actions = el("div", "actions");
    actions.appendChild(button(expanded[id] ? "Expand again" : "Expand neighbours", "btn-expand", function () { expand(id); }));
    actions.appendChild(button("What breaks if it fails", "btn-impact", function () { highlightReach(id, "impact"); }));
    actions.appendChild(button("What it depends on", "btn-deps", function () { highlightReach(id, "upstream"); }));
    if (n.kind === "models" || n.kind === "access") {
      actions.appendChild(button("Who can decide: paths", "btn-authority", function () { showAuthority(id); }));
    }
    var link = el("a", "button", "Open its page");
    link.href = pageUrl(id);
    link.id = "details-link";
    actions.appendChild(link);
    details.appendChild(actions);
    if (n.findings) {
      details.appendChild(showFindings(n, n.findings));
    } else {
      getJson(apiUrl("/entities/" + encodeURIComponent(id) + "/neighbours", { limit: 0 }))
        .then(function (answer) {
          nodes.update({ id: id, findings: answer.findings });
          var current = document.getElementById("details-name");
          if (current && current.textContent === (n.name || n.id)) { details.appendChild(showFindings(n, answer.findings)); }
        })
        .catch(fail("Could not read the findings of " + id));
    }
  }
  api.showDetails = showDetails;

  function openGroup(groupId) {
    var g = nodes.get(groupId);
    if (!g) { return; }
    details.textContent = "";
    details.appendChild(el("div", "kind", "group"));
    var h = el("h2", null, g.name);
    h.id = "details-name";
    details.appendChild(h);
    details.appendChild(el("p", "muted", "Neighbours of " + g.group_of + ". Add one to the graph, or open its page."));
    var search = el("input");
    search.type = "search";
    search.id = "group-filter";
    search.placeholder = "filter by id or name";
    details.appendChild(search);
    var ul = el("ul", "group-list");
    ul.id = "group-list";
    details.appendChild(ul);
    setStatus("Listing " + g.name + "\u2026");
    getJson(apiUrl("/entities/" + encodeURIComponent(g.group_of) + "/neighbours",
      neighboursParams({ kinds: g.kind, limit: 5000 })))
      .then(function (answer) {
        var items = [];
        answer.groups.forEach(function (x) { items = items.concat(x.items); });
        function draw() {
          var q = search.value.trim().toLowerCase();
          ul.textContent = "";
          items.filter(function (n) {
            return !q || n.id.toLowerCase().indexOf(q) >= 0 || String(n.name || "").toLowerCase().indexOf(q) >= 0;
          }).slice(0, 500).forEach(function (n) {
            var li = el("li");
            li.setAttribute("data-id", n.id);
            var a = el("a", null, n.name || n.id);
            a.href = pageUrl(n.id);
            li.appendChild(a);
            if (n.open) { li.appendChild(el("span", "badge open", String(n.open))); }
            li.appendChild(button("Add", null, function () { addFromGroup(g, n); }));
            ul.appendChild(li);
          });
        }
        search.addEventListener("input", draw);
        draw();
        setStatus(g.name + ": " + items.length + " listed" + (answer.total > items.length ? " of " + answer.total : "") + ".");
      })
      .catch(fail("Could not list " + g.name));
  }
  api.openGroup = openGroup;

  function addFromGroup(g, n) {
    if (!nodes.get(n.id)) {
      var node = entityNode(n);
      placeAround(g.id, [node]);
      node.hidden = !visible(node);
      nodes.add(node);
    }
    edges.add(n.relationships.map(function (r) { return relEdge(g.group_of, n, r); }).filter(function (e) { return !edges.get(e.id); }));
    var keep = {};
    keep[n.id] = true;
    layout(keep, function () { network.selectNodes([n.id]); showDetails(n.id); });
  }

  // ---- highlights: an impact set, a dependency set, a path, a finding's subjects ----
  function highlightIds(ids, what, addMissing) {
    var wanted = {};
    ids.forEach(function (i) { wanted[i] = true; });
    var missing = ids.filter(function (i) { return !nodes.get(i); });
    var finish = function () {
      highlighted = wanted;
      nodes.update(nodes.get().map(function (n) {
        return { id: n.id, opacity: wanted[n.id] ? 1 : 0.2, borderWidth: wanted[n.id] ? 5 : (n.open ? 4 : 1) };
      }));
      api.highlighted = Object.keys(wanted).sort();
      setStatus("Highlighted " + ids.length + " (" + what + ").");
    };
    if (addMissing && missing.length && missing.length <= 200) {
      Promise.all(missing.map(function (i) {
        return getJson(apiUrl("/entities/" + encodeURIComponent(i))).then(function (e) {
          return entityNode({ id: e.id, kind: e.kind, name: e.name, open: 0 });
        });
      })).then(function (added) {
        placeAround(focus, added);
        nodes.add(added);
        var keep = {};
        added.forEach(function (a) { keep[a.id] = true; });
        layout(keep, finish);
      }).catch(fail("Could not add " + what));
    } else {
      finish();
    }
  }
  api.highlightIds = highlightIds;
  function clearHighlight() {
    highlighted = null;
    api.highlighted = null;
    api.highlightedEdges = null;
    nodes.update(nodes.get().map(function (n) { return { id: n.id, opacity: 1, borderWidth: n.isGroup ? 3 : (n.open ? 4 : 1) }; }));
    edges.update(edges.get().map(function (e) { return { id: e.id, width: 1, color: e.baseColor || null }; }));
    setStatus("");
  }
  api.clearHighlight = clearHighlight;

  function addPathEdges(hits, direction) {
    var add = [];
    hits.forEach(function (h) {
      for (var i = 0; i + 1 < h.path.length; i++) {
        var a = h.path[i], b = h.path[i + 1];
        var from = direction === "upstream" ? a : b, to = direction === "upstream" ? b : a;
        var id = from + "|depends on|" + to;
        if (!edges.get(id) && !add.some(function (e) { return e.id === id; })) {
          add.push({ id: id, from: from, to: to, type: "depends on", label: "depends on", dashes: [2, 4], color: { color: "#6d4c41" }, baseColor: { color: "#6d4c41" } });
        }
      }
    });
    return add;
  }
  function highlightReach(id, which) {
    var url = which === "impact"
      ? apiUrl("/impact/" + encodeURIComponent(id), { limit: 1000 })
      : apiUrl("/entities/" + encodeURIComponent(id) + "/dependencies", { direction: "upstream", depth: 5, limit: 1000 });
    setStatus("Reading " + (which === "impact" ? "what breaks if " + id + " fails" : "what " + id + " depends on") + "\u2026");
    getJson(url).then(function (answer) {
      var hits = which === "impact" ? [].concat.apply([], Object.keys(answer.by_kind).map(function (k) { return answer.by_kind[k]; })) : answer.items;
      var ids = [id].concat(hits.map(function (h) { return h.id; }));
      var what = which === "impact" ? answer.total + " affected if " + id + " fails" : answer.total + " that " + id + " depends on";
      if (hits.length <= 200) {
        var newNodes = hits.filter(function (h) { return !nodes.get(h.id); }).map(function (h) { return entityNode(h); });
        placeAround(id, newNodes);
        nodes.add(newNodes);
        edges.add(addPathEdges(hits, which === "impact" ? "downstream" : "upstream"));
        var keep = {};
        newNodes.forEach(function (n) { keep[n.id] = true; });
        if (newNodes.length) { layout(keep, function () { highlightIds(ids, what, false); }); } else { highlightIds(ids, what, false); }
      } else {
        highlightIds(ids.filter(function (i) { return nodes.get(i); }), what + "; only those already drawn are marked", false);
      }
    }).catch(fail("Could not read " + which));
  }
  api.highlightReach = highlightReach;

  function showPath(from, to) {
    getJson(apiUrl("/paths", { from: from, to: to, max: 6 })).then(function (answer) {
      if (!answer.paths.length) { setStatus("No path of 6 steps or fewer from " + from + " to " + to + "."); return; }
      var p = answer.paths[0];
      var newNodes = p.nodes.filter(function (n) { return !nodes.get(n.id); }).map(function (n) { return entityNode(n); });
      placeAround(from, newNodes);
      nodes.add(newNodes);
      edges.add(p.relationships.map(function (r) {
        return { id: r.start + "|" + r.type + "|" + r.end, from: r.start, to: r.end, type: r.type, label: r.type };
      }).filter(function (e) { return !edges.get(e.id); }));
      var keep = {};
      newNodes.forEach(function (n) { keep[n.id] = true; });
      var ids = p.nodes.map(function (n) { return n.id; });
      var done = function () { highlightIds(ids, "a path of " + p.length + " steps", false); };
      if (newNodes.length) { layout(keep, done); } else { done(); }
    }).catch(fail("Could not find a path"));
  }
  api.showPath = showPath;

  // ---- authority: every path by which a person reaches a decision right on a model ----
  var AUTHORITY = "#6a1b9a";
  function markEdges(edgeIds) {
    edges.update(edges.get().map(function (e) {
      return edgeIds[e.id] ? { id: e.id, width: 4, color: { color: AUTHORITY, highlight: AUTHORITY } } : { id: e.id, width: 1, color: { color: "#e0e0e0", highlight: "#bdbdbd", hover: "#bdbdbd" } };
    }));
    api.highlightedEdges = Object.keys(edgeIds).sort();
  }
  function highlightPaths(centre, paths, what) {
    var ids = {}, edgeIds = {}, newNodes = [], newEdges = [];
    paths.forEach(function (p) {
      p.nodes.forEach(function (n) {
        ids[n.id] = true;
        if (!nodes.get(n.id) && !newNodes.some(function (a) { return a.id === n.id; })) {
          newNodes.push(entityNode({ id: n.id, kind: n.kind, name: n.name, open: 0 }));
        }
      });
      p.relationships.forEach(function (r) {
        var id = r.start + "|" + r.type + "|" + r.end;
        edgeIds[id] = true;
        if (!edges.get(id) && !newEdges.some(function (e) { return e.id === id; })) {
          newEdges.push({ id: id, from: r.start, to: r.end, type: r.type, label: r.type });
        }
      });
    });
    placeAround(centre, newNodes);
    nodes.add(newNodes);
    edges.add(newEdges);
    var keep = {};
    newNodes.forEach(function (n) { keep[n.id] = true; });
    var done = function () { highlightIds(Object.keys(ids), what, false); markEdges(edgeIds); };
    if (newNodes.length) { layout(keep, done); } else { done(); }
  }
  api.highlightPaths = highlightPaths;
  function showAuthority(id) {
    var params = asOf ? { as_of: asOf } : {};
    setStatus("Reading who can decide on " + id + "\u2026");
    getJson(apiUrl("/entities/" + encodeURIComponent(id) + "/authority", params)).then(function (answer) {
      var old = document.getElementById("details-authority");
      if (old) { old.parentNode.removeChild(old); }
      var box = el("div");
      box.id = "details-authority";
      var count = answer.people.reduce(function (t, p) { return t + p.paths.length; }, 0);
      box.appendChild(el("h3", null, "Who can decide (" + answer.people.length + " people, " + count + " paths, as of " + answer.as_of + ")"));
      if (!answer.people.length) { box.appendChild(el("p", "muted", "Nobody holds a decision right on it.")); }
      var all = [];
      answer.people.forEach(function (p) { all = all.concat(p.paths); });
      if (all.length) {
        box.appendChild(button("Highlight every path", "btn-authority-all", function () {
          highlightPaths(id, all, count + " paths to decision rights on " + (answer.name || id));
        }));
      }
      var ul = el("ul", "authority");
      ul.id = "authority-list";
      answer.people.forEach(function (p) {
        var li = el("li");
        li.setAttribute("data-person", p.id);
        var a = el("a", null, p.name || p.id);
        a.href = pageUrl(p.id);
        li.appendChild(a);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(button("Highlight", null, function () {
          highlightPaths(id, p.paths, p.paths.length + " path" + (p.paths.length > 1 ? "s" : "") + " of " + (p.name || p.id));
        }));
        var sub = el("ul");
        p.paths.forEach(function (x) {
          var item = el("li", "how-" + x.how, x.text);
          item.setAttribute("data-how", x.how);
          item.setAttribute("data-right", x.right);
          sub.appendChild(item);
        });
        li.appendChild(sub);
        ul.appendChild(li);
      });
      box.appendChild(ul);
      var current = document.getElementById("details-name");
      if (current && nodes.get(id) && current.textContent === (nodes.get(id).name || id)) {
        var findingsBox = document.getElementById("details-findings");
        if (findingsBox) { details.insertBefore(box, findingsBox); } else { details.appendChild(box); }
      }
      api.authority = answer;
      setStatus(answer.people.length + " people can decide on " + (answer.name || id) + ".");
    }).catch(fail("Could not read who can decide on " + id));
  }
  api.showAuthority = showAuthority;

  // ---- controls ----
  var kindBox = document.getElementById("kind-filters");
  legend.forEach(function (s) {
    var label = el("label", "check");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.setAttribute("data-kind", s.kind);
    box.addEventListener("change", function () { filters.hiddenKinds[s.kind] = !box.checked; refilter(); });
    var sym = el("span", "swatch");
    sym.style.background = s.colour;
    label.appendChild(box);
    label.appendChild(sym);
    label.appendChild(el("span", null, s.label));
    kindBox.appendChild(label);
  });
  var relBox = document.getElementById("rel-filters");
  relTypes.forEach(function (t) {
    var label = el("label", "check");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.setAttribute("data-rel", t);
    box.addEventListener("change", function () { filters.hiddenRels[t] = !box.checked; refilter(); });
    label.appendChild(box);
    label.appendChild(el("span", null, t));
    relBox.appendChild(label);
  });
  var only = document.getElementById("only-findings");
  only.addEventListener("change", function () { filters.onlyFindings = only.checked; refilter(); });
  function refilter() {
    applyFilters();
    if (highlighted) { highlightIds(Object.keys(highlighted), "as before", false); }
    api.relayout();
  }
  api.refilter = refilter;
  document.getElementById("relayout").addEventListener("click", function () { api.relayout(); });
  document.getElementById("clear-highlight").addEventListener("click", clearHighlight);
  document.getElementById("path-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var target = document.getElementById("path-target").value.trim();
    var selected = network.getSelectedNodes().filter(function (i) { return String(i).indexOf("group:") !== 0; });
    if (target) { showPath(selected[0] || focus, target); }
  });

  network.on("click", function (p) { if (p.nodes.length) { showDetails(p.nodes[0]); } });
  network.on("doubleClick", function (p) { if (p.nodes.length) { expand(p.nodes[0]); } });

  // ---- start: the focus and its neighbours ----
  getJson(apiUrl("/entities/" + encodeURIComponent(focus) + "/neighbours", neighboursParams()))
    .then(function (answer) {
      var centre = entityNode({ id: answer.id, kind: answer.kind, name: answer.name, open: answer.open });
      centre.x = 0;
      centre.y = 0;
      centre.size = 28;
      centre.findings = answer.findings;
      nodes.add(centre);
      expanded[focus] = true;
      var added = addNeighbours(focus, answer);
      setStatus(answer.total + " neighbours of " + (answer.name || focus) + ".");
      layout(null, function () {
        network.fit({ animation: false });
        network.selectNodes([focus]);
        showDetails(focus);
        api.ready = true;
        api.readyAt = performance.now();
        api.startedAt = started;
        api.initialAdded = added.length;
        document.body.setAttribute("data-state", "ready");
      });
    })
    .catch(function (err) {
      fail("Could not start from " + focus)(err);
      document.body.setAttribute("data-state", "failed");
    });
})();
