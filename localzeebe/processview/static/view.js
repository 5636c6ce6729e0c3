// The instance page: tables from the instance's data, the BPMN diagram drawn
// by bpmn-js with each element marked by its state and the number of times
// it ran, and a poll that keeps both current while the instance runs.
(function () {
  'use strict';
  var page = JSON.parse(document.getElementById('pv-data').textContent);
  var inst = page.I;
  var viewer = null;
  var MARKERS = ['pv-completed', 'pv-active', 'pv-incident', 'pv-terminated', 'pv-taken'];
  var marked = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function rows(id, items, cells) {
    var body = document.querySelector('#' + id + ' tbody');
    body.textContent = '';
    items.forEach(function (it) {
      var tr = cells(it);
      body.appendChild(tr);
    });
    if (items.length === 0) {
      var tr = el('tr');
      tr.appendChild(el('td', { colspan: '6', 'class': 'pv-note' }, 'none'));
      body.appendChild(tr);
    }
  }

  function row(attrs, values) {
    var tr = el('tr', attrs);
    values.forEach(function (v) {
      if (v instanceof Node) { var td = el('td'); td.appendChild(v); tr.appendChild(td); } else { tr.appendChild(el('td', {}, String(v))); }
    });
    return tr;
  }

  function seconds(ms) { return (ms / 1000).toFixed(2) + ' s'; }

  function tables(d) {
    var st = document.getElementById('pv-state');
    st.textContent = d.state;
    st.className = 'pv-state-' + d.state;
    rows('pv-incidents', d.incidents, function (i) {
      return row({ 'data-element-id': i.elementId, 'data-resolved': String(i.resolved) },
        [i.elementId, i.errorType, el('span', { 'class': 'pv-incident-message' }, i.message), i.resolved ? 'resolved' : 'open']);
    });
    rows('pv-jobs', d.jobs, function (j) {
      var hist = el('div');
      j.history.forEach(function (h) { hist.appendChild(el('div', {}, h)); });
      var tr = row({ 'data-element-id': j.elementId, 'data-job-key': String(j.key), 'class': 'pv-job' },
        [j.elementId, j.function || ('(' + j.type + ')'), (j.outcome + (j.detail ? ': ' + j.detail : '')), seconds(j.durationMs), j.retries, hist]);
      var frag = document.createDocumentFragment();
      frag.appendChild(tr);
      if (j.function) {
        var logs = el('tr', { 'class': 'pv-logs', 'data-job-key': String(j.key) });
        var td = el('td', { colspan: '6' });
        if (j.logsError) { td.appendChild(el('div', { 'class': 'pv-note' }, 'log lines unavailable: ' + j.logsError)); }
        var pre = el('pre', { 'class': 'pv-log-lines' });
        j.logs.forEach(function (l) { pre.appendChild(el('div', { 'class': 'pv-log-line' }, l.message)); });
        if (j.logs.length === 0 && !j.logsError) { pre.appendChild(el('div', { 'class': 'pv-note' }, 'no log lines for this job')); }
        td.appendChild(pre);
        logs.appendChild(td);
        frag.appendChild(logs);
      }
      return frag;
    });
    rows('pv-variables', d.variables, function (v) {
      return row({ 'data-variable': v.name }, [v.name, el('code', {}, v.value)]);
    });
    rows('pv-elements', d.elements, function (e) {
      return row({ 'data-element-id': e.id, 'data-state': e.state, 'data-runs': String(e.runs) },
        [e.id, e.type, e.state + (e.ended ? ' (' + e.ended + ')' : ''), e.runs]);
    });
  }

  // boxes lists where each marked shape is on the screen, so a test can
  // check a screenshot's pixels against the states.
  function boxes(d) {
    var list = document.getElementById('pv-boxes');
    list.textContent = '';
    var reg = viewer.get('elementRegistry');
    d.elements.forEach(function (e) {
      var gfx = reg.getGraphics(e.id);
      var shape = gfx && gfx.querySelector('.djs-visual > :first-child');
      if (!shape) { return; }
      var r = shape.getBoundingClientRect();
      list.appendChild(el('li', { 'data-element-id': e.id, 'data-state': e.state,
        'data-box': [r.left, r.top, r.width, r.height].map(Math.round).join(',') }));
    });
  }

  function mark(d) {
    if (!viewer) { return; }
    var canvas = viewer.get('canvas');
    var overlays = viewer.get('overlays');
    var reg = viewer.get('elementRegistry');
    marked.forEach(function (id) { MARKERS.forEach(function (m) { canvas.removeMarker(id, m); }); });
    marked = [];
    overlays.remove({ type: 'pv-count' });
    d.elements.forEach(function (e) {
      if (!reg.get(e.id)) { return; }
      canvas.addMarker(e.id, 'pv-' + e.state);
      marked.push(e.id);
      if (e.runs > 0) {
        overlays.add(e.id, 'pv-count', { position: { bottom: 8, right: 8 },
          html: el('div', { 'class': 'pv-count', 'data-element-id': e.id, title: 'times it ran' }, String(e.runs)) });
      }
    });
    d.flows.forEach(function (id) {
      if (!reg.get(id)) { return; }
      canvas.addMarker(id, 'pv-taken');
      marked.push(id);
    });
    boxes(d);
    document.body.setAttribute('data-marked', 'true');
  }

  function draw() {
    if (!window.BpmnJS) { return Promise.resolve(); }
    viewer = new window.BpmnJS({ container: '#pv-canvas' });
    return viewer.importXML(page.XML).then(function () {
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      mark(inst);
    }).catch(function (err) {
      viewer = null;
      var c = document.getElementById('pv-canvas');
      c.textContent = '';
      c.appendChild(el('p', { 'class': 'pv-note' }, 'the diagram could not be drawn: ' + err.message));
    });
  }

  function poll() {
    if (inst.ended) { return; } // a finished instance no longer changes
    setTimeout(function () {
      fetch('/api/instances/' + inst.key, { cache: 'no-store' }).then(function (r) {
        if (!r.ok) { throw new Error(r.status + ' ' + r.statusText); }
        return r.json();
      }).then(function (d) {
        inst = d;
        tables(d);
        mark(d);
      }).catch(function () { /* the engine restarted or stopped: try again */ }).then(poll);
    }, 1500);
  }

  tables(inst);
  draw().then(poll);
}());
