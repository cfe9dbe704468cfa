"""The report's inline CSS and JavaScript, kept as strings so they ship inside the package with no data files."""

from __future__ import annotations

__all__ = ["CSS", "GUARD_JS", "REPORT_JS"]

# Runs first, in <head>: records any later script error on the <html> element, where a test can read it.
GUARD_JS = """
(function () {
  var root = document.documentElement, errors = [];
  function record(text) {
    errors.push(String(text));
    root.setAttribute('data-report-errors', errors.join(' | '));
  }
  window.addEventListener('error', function (e) { record(e.message || 'error'); });
  window.addEventListener('unhandledrejection', function (e) { record(e.reason || 'rejection'); });
  var original = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
"""

# Runs last: the linear/log switch, sortable tables, opening the rebalance an address names; marks the page
# ready when done.
REPORT_JS = """
(function () {
  'use strict';
  document.querySelectorAll('.scale-switch button').forEach(function (button) {
    button.addEventListener('click', function () {
      var section = button.closest('section');
      section.querySelector('figure.scaled').setAttribute('data-scale', button.dataset.scale);
      section.querySelectorAll('.scale-switch button').forEach(function (b) {
        b.classList.toggle('active', b === button);
      });
    });
  });

  function key(cell) {
    var raw = cell.getAttribute('data-sort');
    var number = parseFloat(raw);
    return raw !== '' && !isNaN(number) && isFinite(raw) ? number : (raw || cell.textContent);
  }

  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th, column) {
      th.classList.add('sort');
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          var order = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (row) { fragment.appendChild(row); });
        body.appendChild(fragment);
      });
    });
  });

  // Without the explorer a rebalance is a <details>: an address naming it (#rebalance-DATE) opens it.
  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === 'DETAILS') { target.open = true; }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  var charts = document.querySelectorAll('svg.chart path').length;
  var rows = document.querySelectorAll('table[data-table="trades"] tbody tr').length;
  document.documentElement.setAttribute('data-charts', String(charts));
  document.documentElement.setAttribute('data-trade-rows', String(rows));
  document.documentElement.setAttribute('data-report-ready', '1');
})();
"""

CSS = """
:root { --ink: #1c2128; --muted: #59636e; --line: #d8dee4; --panel: #f6f8fa; --accent: #1f6feb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: var(--ink);
       background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 12px 0 6px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--panel); padding: 1px 4px;
       border-radius: 3px; }
.muted { color: var(--muted); }
.badge { font-size: 12px; margin-left: 10px; padding: 2px 8px; border-radius: 10px; vertical-align: middle; }
.badge.bad { background: #ffe3e3; color: #c92a2a; }
.stopped { color: #c92a2a; margin: 4px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; margin-top: 14px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card-value { font-size: 20px; font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .xgrid { stroke: #f3f5f7; stroke-width: 1; }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
svg.chart .empty-frame { stroke: var(--line); stroke-dasharray: 4 4; }
svg.chart .empty-note { font-size: 14px; fill: var(--muted); }
figure.scaled { margin: 0; }
figure.scaled[data-scale="linear"] .scale-log, figure.scaled[data-scale="log"] .scale-linear { display: none; }
.scale-switch { float: right; margin-top: -44px; }
.scale-switch button { border: 1px solid var(--line); background: #fff; padding: 3px 10px; cursor: pointer;
                       font-size: 12px; }
.scale-switch button:first-child { border-radius: 4px 0 0 4px; }
.scale-switch button:last-child { border-radius: 0 4px 4px 0; border-left: 0; }
.scale-switch button.active { background: var(--accent); color: #fff; border-color: var(--accent); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 6px 0 0 70px; }
.swatch i { display: inline-block; width: 10px; height: 10px; margin-right: 5px; border-radius: 2px; }
table.data, table.heatmap { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
table.data th, table.data td { padding: 3px 8px; border-bottom: 1px solid #eaeef2; text-align: left; }
table.data thead th { background: var(--panel); position: sticky; top: 0; font-weight: 600; }
th.sort { cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: ' \\25B2'; font-size: 9px; }
th[aria-sort="descending"]::after { content: ' \\25BC'; font-size: 9px; }
.num { text-align: right !important; }
.metric-groups { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 24px; }
table.metrics { width: 100%; align-self: start; }
table.metrics caption { text-align: left; font-weight: 600; padding: 6px 0 2px; color: var(--muted); }
table.metrics th { font-weight: normal; }
table.heatmap th, table.heatmap td { padding: 2px 6px; min-width: 46px; font-size: 12px; }
table.heatmap td.year { font-weight: 600; border-left: 2px solid #fff; }
table.heatmap tbody th { text-align: right; color: var(--muted); font-weight: normal; }
.attribution-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
.attribution:first-child { grid-row: span 2; max-height: 560px; overflow: auto; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
.scroll table { width: 100%; }
.rebalances { max-height: 620px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
.rebalance-head, details.rebalance > summary {
  display: grid; grid-template-columns: 90px 1fr 70px 60px 70px 110px 75px 95px; gap: 8px; padding: 4px 10px;
  font-variant-numeric: tabular-nums; font-size: 13px; }
.rebalance-head { background: var(--panel); font-weight: 600; position: sticky; top: 0; z-index: 1; }
details.rebalance { border-top: 1px solid #eaeef2; }
details.rebalance > summary { cursor: pointer; list-style: none; }
details.rebalance > summary::-webkit-details-marker { display: none; }
details.rebalance > summary:hover, details.rebalance[open] > summary { background: #eef4ff; }
details.rebalance .r-targets { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; color: var(--muted); }
details.rebalance > table, details.rebalance > ul, details.rebalance > p { margin: 6px 10px 10px 30px; }
ul.notices { font-size: 12px; padding-left: 16px; }
"""
