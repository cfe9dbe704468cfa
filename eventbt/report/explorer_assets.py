"""The explorer's inline script and CSS (see :mod:`eventbt.report.timeline` and :mod:`eventbt.report.explorer`).

The script unpacks the step records once (gzip in base64, with the browser's ``DecompressionStream``), then
draws a rebalance's events only when one is selected. It builds every element with ``createElement`` and sets
only ``textContent`` and attributes, never HTML, so a symbol, reason or handler name is always text. When the
records are ready it sets ``data-explorer-ready="1"`` on ``<html>`` and ``data-explorer-ms`` to the time since
navigation started; errors go to ``console.error``, which the report's guard records.

Addresses: ``#rebalance-DATE`` selects a rebalance, ``#event-ID`` also opens that event and marks its causal
chain, ``#costs-SIGNAL`` shows a rebalance's cost breakdown. Keys on the timeline: arrow up and down, Home and
End move between rows; Enter or Space selects.
"""

from __future__ import annotations

__all__ = ["EXPLORER_CSS", "EXPLORER_JS"]

EXPLORER_JS = r"""
(function () {
  'use strict';
  var root = document.documentElement;
  var blob = document.getElementById('explorer-data');
  var table = document.querySelector('table[data-table="timeline"]');
  var panel = document.getElementById('explorer-tree');
  if (!blob || !table || !panel) { return; }
  var doc = null, byId = {}, children = {}, pending = null;
  var buttons = Array.prototype.slice.call(table.querySelectorAll('button.pick'));

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }
  function money(x) {
    return Number(x).toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  function shares(x) { return Number(x).toLocaleString('en-US', {maximumFractionDigits: 0}); }
  function raw(v) { return typeof v === 'string' ? v : JSON.stringify(v); }

  // A packed step as an object (eventbt/report/explorer.py: encode), with its group.
  function step(i, group) {
    var p = doc.steps[i], f = {}, S = doc.strings;
    doc.step_fields.forEach(function (name, k) { f[name] = p[k]; });
    var data = {}, keys = doc.shapes[f.shape];
    keys.forEach(function (k, j) { data[k] = f.values[j]; });
    return {index: i, group: group, seq: f.seq, id: f.id, type: S[f.type], time: S[f.time], cause: f.cause,
            by: S[f.by], data: data, to: f.to.map(function (j) { return S[j]; }), emitted: f.emitted,
            cashBefore: f.cash_before, cashAfter: f.cash_after, describe: f.describe,
            changes: f.changes.map(function (c) {
              return {symbol: S[c[0]], before: c[1], after: c[2], costBefore: c[3], costAfter: c[4]};
            })};
  }

  function index() {
    doc.groups.forEach(function (g, group) {
      for (var i = g[0]; i < g[1]; i++) {
        var id = doc.steps[i][1], cause = doc.steps[i][4];
        byId[id] = {index: i, group: group};
        if (cause !== null) { (children[cause] = children[cause] || []).push(id); }
      }
    });
  }
  function get(id) { var at = byId[id]; return at ? step(at.index, at.group) : null; }
  function link(id, text) {
    var target = get(id);
    var a = el('a', {href: '#event-' + id}, text || ('#' + id + (target ? ' ' + target.type : '')));
    if (!target) { a.setAttribute('title', 'outside the stepped rebalances'); }
    return a;
  }
  function chain(s) {
    var out = [s], seen = {}, cur = s;
    while (cur && cur.cause !== null && !seen[cur.cause]) {
      seen[cur.cause] = true;
      var next = get(cur.cause);
      if (!next) { out.push({id: cur.cause, type: null}); break; }
      out.push(next); cur = next;
    }
    return out;
  }
  function depth(s, group) {
    var d = 0, cur = s;
    while (cur && cur.cause !== null) {
      var at = byId[cur.cause];
      if (!at || at.group !== group) { break; }
      d += 1; cur = step(at.index, at.group);
    }
    return d;
  }
  function flatten(value, prefix, out) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      var keys = Object.keys(value);
      if (!keys.length) { out.push([prefix, value]); }
      keys.forEach(function (k) { flatten(value[k], prefix + '.' + k, out); });
    } else { out.push([prefix, value]); }
    return out;
  }

  function fieldsTable(s, orders) {
    var t = el('table', {'class': 'data fields'});
    add(t, add(el('thead'), add(el('tr'), el('th', {scope: 'col'}, 'field'), el('th', {scope: 'col'}, 'value'))));
    var body = el('tbody');
    Object.keys(s.data).forEach(function (key) {
      flatten(s.data[key], key, []).forEach(function (pair) {
        var row = el('tr', {'data-field': pair[0]});
        var cell = el('td', {'class': 'value', 'data-raw': raw(pair[1])}, raw(pair[1]));
        var symbol = pair[0].indexOf('weights.') === 0 ? pair[0].slice(8) : null;
        if (symbol !== null && orders[symbol] !== undefined) {
          cell.textContent = '';
          add(cell, link(orders[symbol], raw(pair[1])), ' ', el('span', {'class': 'muted'},
              '(order #' + orders[symbol] + ')'));
        }
        add(body, add(row, el('th', {scope: 'row'}, pair[0]), cell));
      });
    });
    return add(t, body);
  }

  function arithmetic(d) {
    var lines = [];
    function num(k) { return typeof d[k] === 'number'; }
    if (num('available') && num('cost') && d.cost) {
      lines.push('available / cost = ' + money(d.available) + ' / ' + money(d.cost) + ' = ' +
                 (d.available / d.cost).toFixed(6) + (num('factor') ? ' (factor ' + d.factor.toFixed(6) + ')' : ''));
    }
    if (num('wanted') && num('factor')) {
      lines.push('wanted x factor = ' + shares(d.wanted) + ' x ' + d.factor.toFixed(6) + ' = ' +
                 (d.wanted * d.factor).toFixed(2) + ', rounded down: ' + (num('quantity') ? shares(d.quantity) : '?'));
    } else if (num('wanted') && num('quantity')) {
      lines.push('wanted ' + shares(d.wanted) + ' -> ' + shares(d.quantity) +
                 ' (' + shares(d.quantity - d.wanted) + ')');
    }
    if (num('removed') && num('quantity')) {
      lines.push('after scaling ' + shares(d.quantity + d.removed) + ' - removed ' + shares(d.removed) + ' = ' +
                 shares(d.quantity));
    }
    if (num('cash')) { lines.push('cash available ' + money(d.cash)); }
    return lines;
  }

  function noticeBlock(s) {
    var box = el('div', {'class': 'notice'});
    var code = String(s.data.code);
    var meaning = Object.prototype.hasOwnProperty.call(doc.meanings, code) ? doc.meanings[code] : null;
    add(box, add(el('p'), el('code', null, code), ' ', s.data.symbol ? String(s.data.symbol) : '',
        meaning ? ': ' + meaning : ''));
    var why = doc.explain[String(s.id)];
    if (why) { add(box, el('p', {'class': 'why'}, why)); }
    var lines = arithmetic(s.data.details || {});
    if (lines.length) {
      var list = el('ul', {'class': 'arithmetic', 'aria-label': 'the arithmetic'});
      lines.forEach(function (line) { add(list, el('li', null, line)); });
      add(box, list);
    }
    return box;
  }

  function body(s, orders) {
    var box = el('div', {'class': 'event-body'});
    var meta = add(el('p', {'class': 'meta'}), 'published by ', el('code', null, s.by), ' at ' + s.time);
    if (s.cause !== null) { add(meta, ', caused by ', link(s.cause)); }
    add(box, meta);
    if (s.type === 'NoticeEvent') { add(box, noticeBlock(s)); }
    add(box, fieldsTable(s, orders));
    var to = el('table', {'class': 'data handlers'});
    add(to, add(el('thead'), add(el('tr'), el('th', {scope: 'col'}, 'delivered to'),
                                 el('th', {scope: 'col'}, 'emitted'))));
    var tb = el('tbody');
    if (!s.to.length) { add(tb, add(el('tr'), el('td', null, '(no handler)'), el('td', null, '-'))); }
    s.to.forEach(function (name, k) {
      var cell = el('td');
      if (!s.emitted[k].length) { cell.textContent = '-'; }
      s.emitted[k].forEach(function (id, j) { if (j) { add(cell, ', '); } add(cell, link(id)); });
      add(tb, add(el('tr', {'data-handler': name}), el('td', null, name), cell));
    });
    add(box, add(to, tb));
    var kids = children[s.id] || [];
    if (kids.length) {
      var caused = add(el('p', {'class': 'caused'}), 'caused: ');
      kids.forEach(function (id, j) { if (j) { add(caused, ', '); } add(caused, link(id)); });
      add(box, caused);
    }
    if (s.cashAfter !== s.cashBefore || s.changes.length) {
      var book = el('table', {'class': 'data book'});
      add(book, add(el('thead'), add(el('tr'), el('th', {scope: 'col'}, ''), el('th', {scope: 'col'}, 'before'),
                                     el('th', {scope: 'col'}, 'after'))));
      var bb = el('tbody');
      add(bb, add(el('tr', {'data-book': 'cash'}), el('th', {scope: 'row'}, 'cash'),
                  el('td', {'class': 'num'}, money(s.cashBefore)), el('td', {'class': 'num'}, money(s.cashAfter))));
      s.changes.forEach(function (c) {
        add(bb, add(el('tr', {'data-book': c.symbol}), el('th', {scope: 'row'}, c.symbol + ' shares'),
                    el('td', {'class': 'num'}, shares(c.before)), el('td', {'class': 'num'}, shares(c.after))));
        add(bb, add(el('tr'), el('th', {scope: 'row'}, c.symbol + ' average cost'),
                    el('td', {'class': 'num'}, c.costBefore.toFixed(4)),
                    el('td', {'class': 'num'}, c.costAfter.toFixed(4))));
      });
      add(box, add(book, bb));
    }
    var links = chain(s);
    if (links.length > 1) {
      var p = add(el('p', {'class': 'chain'}), 'causal chain: ');
      links.forEach(function (c, j) { if (j) { add(p, ' <- '); } add(p, link(c.id)); });
      add(box, p);
    }
    return box;
  }

  function costsBlock(steps, signal) {
    var fills = steps.filter(function (s) {
      return s.type === 'FillEvent' && chain(s).some(function (c) { return c.id === signal; });
    });
    var fees = steps.filter(function (s) { return s.type === 'FeeEvent'; });
    var box = el('div', {'class': 'costs', id: 'costs-' + signal, tabindex: '-1'});
    add(box, el('h4', null, 'Costs: the fills and fees behind the figure'));
    var t = el('table', {'class': 'data'});
    add(t, add(el('thead'), add(el('tr'), el('th', {scope: 'col'}, 'event'), el('th', {scope: 'col'}, 'what'),
                                el('th', {scope: 'col', 'class': 'num'}, 'commission'),
                                el('th', {scope: 'col', 'class': 'num'}, 'slippage'),
                                el('th', {scope: 'col', 'class': 'num'}, 'fee'))));
    var tb = el('tbody'), sums = [0, 0, 0];
    fills.forEach(function (s) {
      sums[0] += s.data.commission; sums[1] += s.data.slippage;
      add(tb, add(el('tr'), add(el('td'), link(s.id)), el('td', null, s.describe),
                  el('td', {'class': 'num'}, money(s.data.commission)),
                  el('td', {'class': 'num'}, money(s.data.slippage)),
                  el('td', {'class': 'num'}, '')));
    });
    fees.forEach(function (s) {
      sums[2] += s.data.amount;
      add(tb, add(el('tr'), add(el('td'), link(s.id)), el('td', null, s.describe), el('td'), el('td'),
                  el('td', {'class': 'num'}, money(s.data.amount))));
    });
    add(tb, add(el('tr', {'class': 'total'}), el('td', null, 'total'),
                el('td', null, money(sums[0] + sums[1] + sums[2]) + ' = commission + slippage + fees'),
                el('td', {'class': 'num'}, money(sums[0])), el('td', {'class': 'num'}, money(sums[1])),
                el('td', {'class': 'num'}, money(sums[2]))));
    return add(box, add(t, tb));
  }

  function rowFor(group) { return table.querySelector('tr[data-group="' + group + '"]'); }

  function render(row) {
    var group = Number(row.getAttribute('data-group')), signal = Number(row.getAttribute('data-signal'));
    var g = doc.groups[group], steps = [];
    for (var i = g[0]; i < g[1]; i++) { steps.push(step(i, group)); }
    var orders = {};
    steps.forEach(function (s) {
      if (s.type === 'OrderEvent' && s.cause === signal) { orders[s.data.symbol] = s.id; }
    });
    panel.textContent = '';
    var date = row.getAttribute('id').slice('rebalance-'.length);
    add(panel, el('h3', {id: 'explorer-title'}, 'Rebalance of ' + date + ': ' + steps.length +
        ' events, seq ' + steps[0].seq + ' to ' + steps[steps.length - 1].seq));
    add(panel, el('p', {'class': 'muted'}, 'cash ' + money(steps[0].cashBefore) + ' -> ' +
        money(steps[steps.length - 1].cashAfter) + '. Open an event for its fields, the handlers that took it, ' +
        'what each emitted and its causal chain; links jump to the event.'));
    add(panel, costsBlock(steps, signal));
    var list = el('ol', {'class': 'events', 'aria-labelledby': 'explorer-title'});
    steps.forEach(function (s) {
      var item = el('li', {id: 'event-' + s.id, 'data-type': s.type, 'data-id': String(s.id),
                           style: 'margin-left:' + (1.4 * depth(s, group)) + 'em'});
      var details = el('details');
      var summary = el('summary');
      add(summary, el('span', {'class': 'seq'}, 'seq ' + s.seq), ' ', el('span', {'class': 'kind'}, s.type),
          ' ', el('span', {'class': 'eid'}, '#' + s.id), ' ', el('span', {'class': 'describe'}, s.describe));
      add(details, summary);
      details.addEventListener('toggle', function () {
        if (details.open && details.childNodes.length === 1) { add(details, body(s, orders)); }
      }, {once: false});
      add(list, add(item, details));
    });
    add(panel, list);
  }

  function select(row, focus) {
    buttons.forEach(function (b) {
      var mine = b.closest('tr') === row;
      b.setAttribute('aria-pressed', mine ? 'true' : 'false');
      b.setAttribute('tabindex', mine ? '0' : '-1');
      b.closest('tr').classList.toggle('selected', mine);
    });
    render(row);
    root.setAttribute('data-selected', row.getAttribute('id'));
    if (focus) { row.querySelector('button.pick').focus(); }
  }

  function openEvent(id) {
    var at = byId[id];
    if (!at) { return false; }
    var row = rowFor(at.group);
    if (!row) { return false; }
    select(row, false);
    var marked = chain(get(id)).map(function (c) { return c.id; });
    marked.forEach(function (cid, j) {
      var item = document.getElementById('event-' + cid);
      if (!item) { return; }
      item.classList.add(j === 0 ? 'target' : 'chain');
      if (j === 0) {
        var details = item.querySelector('details');
        details.open = true;
        details.dispatchEvent(new Event('toggle'));
      }
    });
    var target = document.getElementById('event-' + id);
    target.scrollIntoView({block: 'center'});
    target.querySelector('summary').focus();
    return true;
  }

  function route() {
    if (!doc) { return; }
    var hash = decodeURIComponent(location.hash.slice(1));
    var m = /^event-(\d+)$/.exec(hash);
    if (m) { openEvent(Number(m[1])); return; }
    m = /^costs-(\d+)$/.exec(hash);
    if (m) {
      var row = table.querySelector('tr[data-signal="' + m[1] + '"][data-group]');
      if (row) { select(row, false); var box = document.getElementById('costs-' + m[1]);
                 box.scrollIntoView({block: 'center'}); box.focus(); }
      return;
    }
    m = /^rebalance-(.+)$/.exec(hash);
    if (m) {
      var r = document.getElementById('rebalance-' + m[1]);
      if (r && r.hasAttribute('data-group')) { select(r, true); r.scrollIntoView({block: 'nearest'}); }
    }
  }

  table.addEventListener('click', function (e) {
    var button = e.target.closest('button.pick');
    if (!button) { return; }
    if (!doc) { pending = button.closest('tr'); return; }
    select(button.closest('tr'), true);
  });
  table.addEventListener('keydown', function (e) {
    var button = e.target.closest('button.pick');
    if (!button) { return; }
    var at = buttons.indexOf(button), to = null;
    if (e.key === 'ArrowDown') { to = Math.min(at + 1, buttons.length - 1); }
    else if (e.key === 'ArrowUp') { to = Math.max(at - 1, 0); }
    else if (e.key === 'Home') { to = 0; }
    else if (e.key === 'End') { to = buttons.length - 1; }
    if (to === null) { return; }
    e.preventDefault();
    button.setAttribute('tabindex', '-1');
    buttons[to].setAttribute('tabindex', '0');
    buttons[to].focus();
    buttons[to].closest('tr').scrollIntoView({block: 'nearest'});
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('click', function (e) {
    var a = e.target.closest('a[href^="#"]');
    if (a && a.getAttribute('href') === location.hash) { route(); }
  });

  function ready(parsed) {
    doc = parsed;
    index();
    root.setAttribute('data-explorer-ready', '1');
    root.setAttribute('data-explorer-ms', String(Math.round(performance.now())));
    if (pending) { select(pending, true); pending = null; }
    route();
  }

  if (typeof DecompressionStream === 'undefined') {
    panel.textContent = 'This browser cannot unpack the events (it has no DecompressionStream); the timeline ' +
                        'above still lists every rebalance.';
    return;
  }
  var text = atob(blob.textContent.trim()), bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text()
    .then(function (json) { ready(JSON.parse(json)); })
    .catch(function (error) { console.error('explorer: ' + error); });
})();
"""

EXPLORER_CSS = """
main > section { content-visibility: auto; contain-intrinsic-size: auto 700px; }
.timeline-wrap { max-height: 360px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
table.timeline { width: 100%; }
table.timeline tbody th { font-weight: normal; white-space: nowrap; }
table.timeline tr.selected { background: #eef4ff; }
table.timeline tr[data-differs] { background: #fff4e6; }
table.timeline tr.selected[data-differs] { background: #ffe8cc; }
table.timeline td.notes { font-size: 12px; color: var(--muted); }
button.pick { font: inherit; background: none; border: 0; padding: 0; color: var(--accent); cursor: pointer;
              text-decoration: underline; }
button.pick:focus-visible, .tree-panel a:focus-visible, .tree-panel summary:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 2px; }
button.pick[aria-pressed="true"] { font-weight: 600; color: var(--ink); }
.differs { margin-left: 6px; font-size: 11px; padding: 0 5px; border-radius: 8px; background: #ffd8a8; }
.tree-panel { margin-top: 14px; border: 1px solid var(--line); border-radius: 4px; padding: 6px 12px 12px;
              min-height: 60px; }
.tree-panel h3 { margin-top: 8px; }
.tree-panel h4 { font-size: 13px; margin: 10px 0 4px; }
ol.events { list-style: none; padding: 0; margin: 10px 0 0; font-size: 13px; }
ol.events li { border-left: 2px solid var(--line); padding-left: 8px; margin-bottom: 2px; }
ol.events li[data-type="MarketEvent"], ol.events li[data-type="BarOpenEvent"],
ol.events li[data-type="BarEndEvent"] { border-left-color: #868e96; }
ol.events li[data-type="SignalEvent"] { border-left-color: #1f6feb; }
ol.events li[data-type="NoticeEvent"] { border-left-color: #f08c00; }
ol.events li[data-type="OrderEvent"] { border-left-color: #7048e8; }
ol.events li[data-type="FillEvent"] { border-left-color: #2b8a3e; }
ol.events li[data-type="SnapshotEvent"] { border-left-color: #0b7285; }
ol.events li.target > details > summary { background: #fff3bf; }
ol.events li.chain > details > summary { background: #fff9db; }
ol.events summary { cursor: pointer; padding: 2px 4px; font-variant-numeric: tabular-nums; }
ol.events summary .seq { color: var(--muted); display: inline-block; min-width: 70px; }
ol.events summary .kind { font-weight: 600; }
ol.events summary .eid { color: var(--muted); }
.event-body { margin: 4px 0 8px 18px; }
.event-body p { margin: 4px 0; }
.event-body table { margin: 4px 0; }
table.fields td.value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.notice { background: #fff9db; border-radius: 4px; padding: 4px 8px; }
.notice ul.arithmetic { margin: 4px 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.costs table { font-size: 12px; }
.costs tr.total td { font-weight: 600; border-top: 1px solid var(--line); }
.compare .sides { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.compare tr.changed td { background: #ffe3e3; }
.compare table.data td.changed, .compare table.data th.changed { background: #ffe3e3; }
"""
