/**
 * The collector's browser page: one self-contained HTML document (inline CSS and JS, no
 * network but its own `/api/traces`), listing traces and drawing the selected one as a
 * waterfall. Every span field is inserted with `textContent`, never as HTML: span names
 * and attributes come from whoever sent them.
 */
import { SERVICE_PALETTE } from './waterfall.js'

const CSS = `
:root {
  --bg: #f5f6f8; --panel: #ffffff; --text: #1b1f24; --muted: #687282; --faint: #9aa3af;
  --line: #e6e8ec; --hover: #f3f5f8; --sel: #e9f1ff; --accent: #2f6fec; --err: #e5484d;
  --err-soft: #fdecec; --warn: #b7791f; --warn-soft: #fdf4e3;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --namecol: 42%;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1014; --panel: #15181e; --text: #e5e8ec; --muted: #98a2b3; --faint: #6b7483;
    --line: #252a33; --hover: #1b2028; --sel: #1a2740; --accent: #5b8def; --err-soft: #3a1d20;
    --warn-soft: #3a2f1a;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  background: var(--bg); color: var(--text); display: flex; flex-direction: column;
}
button { font: inherit; color: inherit; }
header {
  display: flex; align-items: center; gap: 14px; padding: 0 16px; height: 48px; flex: none;
  background: var(--panel); border-bottom: 1px solid var(--line);
}
.logo { font-weight: 700; font-size: 15px; letter-spacing: -0.01em; display: flex; align-items: center; gap: 8px; }
.logo-mark { width: 18px; height: 18px; border-radius: 5px; background: linear-gradient(135deg, #2f6fec, #12a150); }
.logo small { font-weight: 500; color: var(--muted); font-size: 13px; }
.endpoint { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.spacer { flex: 1; }
.live { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.live i { width: 8px; height: 8px; border-radius: 50%; background: #12a150; box-shadow: 0 0 0 3px rgba(18,161,80,.15); }
.live.off i { background: var(--err); box-shadow: 0 0 0 3px rgba(229,72,77,.15); }
.btn {
  border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 4px 10px;
  cursor: pointer; font-size: 12px;
}
.btn:hover { background: var(--hover); }
main { flex: 1; display: grid; grid-template-columns: 300px minmax(0, 1fr); min-height: 0; }
main.with-details { grid-template-columns: 280px minmax(0, 1fr) 360px; }
#list { border-right: 1px solid var(--line); overflow: auto; background: var(--panel); display: flex; flex-direction: column; }
.search { padding: 10px 12px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--panel); z-index: 1; }
.search input {
  width: 100%; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--text); font: inherit; outline: none;
}
.search input:focus { border-color: var(--accent); }
.trace-item { padding: 10px 14px; border-bottom: 1px solid var(--line); cursor: pointer; }
.trace-item:hover { background: var(--hover); }
.trace-item.selected { background: var(--sel); box-shadow: inset 3px 0 0 var(--accent); }
.ti-top { display: flex; align-items: baseline; gap: 8px; }
.ti-name { font-weight: 600; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ti-dur { font-variant-numeric: tabular-nums; color: var(--muted); font-size: 12px; }
.ti-meta { display: flex; align-items: center; gap: 10px; margin-top: 4px; color: var(--muted); font-size: 12px; }
.ti-dots { display: flex; gap: 3px; }
.dot { width: 8px; height: 8px; border-radius: 50%; display: inline-block; flex: none; }
.ti-err { color: var(--err); font-weight: 600; }
.ti-open { color: var(--warn); animation: pulse 1.6s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: .35; } }
.ti-when { margin-left: auto; }
.empty-list { padding: 24px 16px; color: var(--muted); }
.evicted { padding: 8px 14px; border-bottom: 1px solid var(--line); background: var(--warn-soft); color: var(--warn); font-size: 12px; }
#view { overflow: auto; min-width: 0; }
.placeholder { max-width: 640px; margin: 56px auto; padding: 0 24px; color: var(--muted); }
.placeholder h2 { color: var(--text); font-size: 18px; margin: 0 0 6px; }
.placeholder pre {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  font-family: var(--mono); font-size: 12px; color: var(--text); overflow: auto;
}
.trace-head { padding: 18px 24px 12px; }
.trace-title { font-size: 18px; font-weight: 650; display: flex; align-items: center; gap: 10px; word-break: break-word; }
.trace-sub { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-top: 6px; color: var(--muted); font-size: 12.5px; }
.trace-sub b { color: var(--text); font-weight: 600; }
.mono { font-family: var(--mono); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 12px; }
.chip {
  display: inline-flex; align-items: center; gap: 6px; padding: 2px 9px 2px 7px; border-radius: 999px;
  background: var(--panel); border: 1px solid var(--line); font-size: 12px;
}
.badge { display: inline-flex; align-items: center; gap: 4px; padding: 1px 8px; border-radius: 999px; font-size: 11.5px; font-weight: 600; }
.badge.err { background: var(--err-soft); color: var(--err); }
.badge.warn { background: var(--warn-soft); color: var(--warn); }
.wf { position: relative; margin: 0 24px 28px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.wf-axis, .wf-row { display: grid; grid-template-columns: var(--namecol) minmax(0, 1fr); }
.wf-axis { height: 30px; border-bottom: 1px solid var(--line); color: var(--faint); font-size: 11px; background: var(--panel); }
.wf-axis .wf-name { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
.wf-row { min-height: 30px; border-bottom: 1px solid var(--line); cursor: pointer; }
.wf-row:last-child { border-bottom: 0; }
.wf-row:hover { background: var(--hover); }
.wf-row.selected { background: var(--sel); }
.wf-row.hidden { display: none; }
.wf-name { display: flex; align-items: center; gap: 5px; padding: 0 10px 0 6px; min-width: 0; border-right: 1px solid var(--line); white-space: nowrap; }
.wf-time { position: relative; margin: 0 56px 0 12px; }
.indent { align-self: stretch; width: 13px; flex: none; border-left: 1px solid var(--line); margin-left: 4px; }
.caret { width: 16px; flex: none; text-align: center; color: var(--faint); font-size: 10px; user-select: none; }
.caret.has:hover { color: var(--text); }
.svc { color: var(--muted); font-size: 11.5px; flex: none; }
.nm { overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.wf-row.error .nm { color: var(--err); font-weight: 600; }
.x { color: var(--err); font-weight: 700; flex: none; }
.tag-orphan { flex: none; font-size: 10.5px; font-weight: 600; color: var(--warn); background: var(--warn-soft); border-radius: 4px; padding: 0 5px; }
.tag-run { flex: none; font-size: 10.5px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; }
.bar { position: absolute; top: 8px; height: 14px; border-radius: 3px; min-width: 2px; }
.bar.error { background: repeating-linear-gradient(135deg, var(--err) 0 5px, #f28b8e 5px 9px) !important; }
.dur { position: absolute; top: 6px; font-size: 11.5px; color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.wf-row.error .dur { color: var(--err); }
.dur.inside, .wf-row.error .dur.inside { color: #fff; font-weight: 600; text-shadow: 0 0 2px rgba(0,0,0,.35); }
/* Over the time column: the name column, then .wf-time's margins. */
.grid { position: absolute; top: 0; bottom: 0; left: calc(var(--namecol) + 12px); right: 56px; pointer-events: none; }
.grid i { position: absolute; top: 0; bottom: 0; border-left: 1px dashed var(--line); }
.tick { position: absolute; top: 8px; transform: translateX(-50%); white-space: nowrap; font-variant-numeric: tabular-nums; }
.tick:first-child { transform: none; }
#details { border-left: 1px solid var(--line); background: var(--panel); overflow: auto; }
.d-head { display: flex; align-items: flex-start; gap: 8px; padding: 16px 16px 8px; }
.d-title { font-size: 15px; font-weight: 650; flex: 1; word-break: break-word; }
.d-close { border: 0; background: none; cursor: pointer; color: var(--muted); font-size: 18px; line-height: 1; padding: 2px 4px; }
.d-sub { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 16px 12px; border-bottom: 1px solid var(--line); }
.d-sec { padding: 12px 16px; border-bottom: 1px solid var(--line); }
.d-sec h4 { margin: 0 0 8px; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.d-error { color: var(--err); background: var(--err-soft); border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; word-break: break-word; }
table.kv { width: 100%; border-collapse: collapse; font-size: 12px; table-layout: fixed; }
table.kv td { padding: 4px 0; vertical-align: top; border-top: 1px solid var(--line); }
table.kv tr:first-child td { border-top: 0; }
table.kv td.k { width: 42%; color: var(--muted); padding-right: 10px; font-family: var(--mono); overflow-wrap: anywhere; }
table.kv td.v { font-family: var(--mono); word-break: break-word; white-space: pre-wrap; }
table.kv pre { margin: 0; font: inherit; white-space: pre-wrap; }
.ev { padding: 6px 0; border-top: 1px solid var(--line); }
.ev:first-of-type { border-top: 0; }
.ev-head { display: flex; gap: 8px; font-weight: 600; }
.ev-head span { color: var(--muted); font-weight: 400; font-variant-numeric: tabular-nums; }
.none { color: var(--faint); font-style: italic; }
@media (max-width: 1100px) {
  main.with-details { grid-template-columns: 260px minmax(0, 1fr); }
  main.with-details #details { position: fixed; right: 0; top: 48px; bottom: 0; width: min(420px, 90vw); box-shadow: -8px 0 24px rgba(0,0,0,.15); }
}
`

// The page script: plain ES2020, no template literals, so it can sit in String.raw.
const SCRIPT = String.raw`
'use strict';
var PALETTE = __PALETTE__;
var state = { version: -1, traces: [], selectedId: null, trace: null, spanId: null, collapsed: {}, filter: '', first: true };
var $ = function (sel) { return document.querySelector(sel); };
function h(tag, props) {
  var node = document.createElement(tag);
  if (props) for (var k in props) {
    var v = props[k];
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'cls') node.className = v;
    else if (k === 'style') node.setAttribute('style', v);
    else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) c.forEach(function (x) { if (x) node.appendChild(x); });
    else node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}
function hashName(name) {
  var hsh = 0x811c9dc5;
  for (var i = 0; i < name.length; i++) { hsh ^= name.charCodeAt(i); hsh = Math.imul(hsh, 0x01000193); }
  return hsh >>> 0;
}
// Same rule as the terminal (cli/waterfall.ts assignColors): hash slot, then probe.
function assignColors(services) {
  var n = PALETTE.length, taken = {}, used = 0, out = {};
  services.forEach(function (s) {
    if (out[s] !== undefined) return;
    var slot = hashName(s) % n;
    if (used < n) while (taken[slot]) slot = (slot + 1) % n;
    if (!taken[slot]) used++;
    taken[slot] = true; out[s] = PALETTE[slot];
  });
  return out;
}
function fmt(ms) {
  if (!(ms >= 0)) return '?';
  if (ms < 1) return Math.round(ms * 1000) + ' µs';
  if (ms < 10) return ms.toFixed(2) + ' ms';
  if (ms < 100) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  var m = Math.floor(ms / 60000);
  return m + 'm ' + String(Math.round((ms - m * 60000) / 1000)).padStart(2, '0') + 's';
}
// Axis ticks: as few digits as the step needs (0, 500 ms, 1 s, 1.5 s).
function tickLabel(ms, step) {
  if (ms === 0) return '0';
  var digits = function (x, unitStep) { return String(Number(x.toFixed(Math.max(0, -Math.floor(Math.log10(unitStep) + 1e-9))))); };
  if (step >= 1000 || ms >= 1000) return digits(ms / 1000, step / 1000) + ' s';
  if (step >= 1) return digits(ms, step) + ' ms';
  return digits(ms * 1000, step * 1000) + ' µs';
}
function ago(t) {
  var s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  return new Date(t).toLocaleTimeString();
}
function niceStep(total, target) {
  var raw = total / target, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
function readHash() {
  var out = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var i = kv.indexOf('=');
    if (i > 0) out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  });
  return out;
}
function writeHash() {
  var s = state.selectedId ? '#trace=' + state.selectedId + (state.spanId ? '&span=' + state.spanId : '') : '';
  if (location.hash !== s) history.replaceState(null, '', s || location.pathname);
}

// ---- trace list --------------------------------------------------------------------
function matches(t, f) {
  if (!f) return true;
  f = f.toLowerCase();
  return t.name.toLowerCase().indexOf(f) >= 0 || t.traceId.indexOf(f) >= 0 ||
    t.services.some(function (s) { return s.toLowerCase().indexOf(f) >= 0; });
}
function renderList() {
  var box = $('#items');
  box.textContent = '';
  var shown = state.traces.filter(function (t) { return matches(t, state.filter); });
  $('#count').textContent = state.traces.length + (state.traces.length === 1 ? ' trace' : ' traces');
  if (shown.length === 0) {
    box.appendChild(h('div', { cls: 'empty-list', text: state.traces.length ? 'No trace matches.' : 'No traces yet.' }));
    return;
  }
  shown.forEach(function (t) {
    var colors = assignColors(t.services);
    box.appendChild(h('div', {
      cls: 'trace-item' + (t.traceId === state.selectedId ? ' selected' : ''),
      'data-trace-id': t.traceId, 'data-errors': String(t.errors),
      title: t.traceId,
      onclick: function () { select(t.traceId, null); }
    },
      h('div', { cls: 'ti-top' },
        h('span', { cls: 'ti-name', text: t.name || '(unnamed)' }),
        t.errors ? h('span', { cls: 'ti-err', title: t.errors + ' error(s)', text: '✗ ' + t.errors }) : null,
        h('span', { cls: 'ti-dur', text: fmt(t.duration) })),
      h('div', { cls: 'ti-meta' },
        h('span', { cls: 'ti-dots' }, t.services.map(function (s) {
          return h('i', { cls: 'dot', title: s, style: 'background:' + colors[s] });
        })),
        h('span', { text: t.services.length + (t.services.length === 1 ? ' service' : ' services') }),
        h('span', { text: t.spanCount + (t.spanCount === 1 ? ' span' : ' spans') }),
        t.finished ? null : h('span', { cls: 'ti-open', title: 'spans still arriving', text: '●' }),
        h('span', { cls: 'ti-when', text: ago(t.firstSeen) }))));
  });
}

// The collector evicts the oldest traces beyond its limits: say so, with the count.
function renderEvicted(ev, limits) {
  var box = $('#evicted');
  if (!ev || !ev.traces) { box.hidden = true; return; }
  var mib = limits ? Math.round(limits.maxStoredBytes / 1048576 * 10) / 10 : 0;
  box.hidden = false;
  box.setAttribute('data-evicted-traces', String(ev.traces));
  box.textContent = ev.traces + (ev.traces === 1 ? ' older trace' : ' older traces') + ' (' + ev.spans +
    (ev.spans === 1 ? ' span' : ' spans') + ') evicted to keep memory bounded' +
    (limits ? ' (limits: ' + limits.maxTraces + ' traces, ' + mib + ' MiB; tracehop dev --help)' : '') + '.';
}

// ---- waterfall ---------------------------------------------------------------------
function treeRows(trace) {
  var byId = {}, kids = {}, tops = [], rows = [], seen = {};
  trace.spans.forEach(function (s) { byId[s.spanId] = s; });
  trace.spans.forEach(function (s) {
    var p = s.parentSpanId;
    if (!p || !byId[p] || p === s.spanId) tops.push(s);
    else (kids[p] = kids[p] || []).push(s);
  });
  function visit(top, orphan) {
    var stack = [{ s: top, d: 0, hidden: false }];
    while (stack.length) {
      var it = stack.pop();
      if (seen[it.s.spanId]) continue;
      seen[it.s.spanId] = true;
      var children = kids[it.s.spanId] || [];
      var parent = it.s.parentSpanId ? byId[it.s.parentSpanId] : null;
      rows.push({ s: it.s, depth: it.d, orphan: it.d === 0 && orphan, hidden: it.hidden,
        children: children.length, hop: !!parent && parent.service !== it.s.service });
      var hide = it.hidden || !!state.collapsed[it.s.spanId];
      for (var i = children.length - 1; i >= 0; i--) stack.push({ s: children[i], d: it.d + 1, hidden: hide });
    }
  }
  tops.forEach(function (s) { visit(s, !!s.parentSpanId); });
  trace.spans.forEach(function (s) { if (!seen[s.spanId]) visit(s, true); });
  return rows;
}
function renderTrace() {
  var view = $('#view');
  var t = state.trace;
  view.textContent = '';
  if (!t) { view.appendChild(placeholder()); renderDetails(); return; }
  var colors = assignColors(t.services);
  var total = t.duration > 0 ? t.duration : 1;
  var pct = function (ms) { return Math.max(0, Math.min(100, (ms / total) * 100)); };
  var head = h('div', { cls: 'trace-head' },
    h('div', { cls: 'trace-title' }, h('span', { text: t.name || '(unnamed)' }),
      t.errors ? h('span', { cls: 'badge err', text: '✗ ' + t.errors + (t.errors === 1 ? ' error' : ' errors') }) : null,
      t.orphans ? h('span', { cls: 'badge warn', text: t.orphans + (t.orphans === 1 ? ' orphan' : ' orphans') }) : null),
    h('div', { cls: 'trace-sub' },
      h('span', null, 'Duration ', h('b', { text: fmt(t.duration) })),
      h('span', null, 'Spans ', h('b', { text: String(t.spans.length) })),
      h('span', null, 'Started ', h('b', { text: new Date(t.startTime).toLocaleTimeString() })),
      h('span', { cls: 'mono', title: 'trace id', text: t.traceId }),
      t.finished ? null : h('span', { cls: 'ti-open', text: '● receiving' })),
    h('div', { cls: 'legend' }, t.services.map(function (s) {
      var n = t.spans.filter(function (x) { return x.service === s; }).length;
      return h('span', { cls: 'chip', 'data-service': s },
        h('i', { cls: 'dot', style: 'background:' + colors[s] }), s + ' · ' + n);
    })));
  view.appendChild(head);

  var wf = h('div', { cls: 'wf', id: 'waterfall' });
  var step = niceStep(total, 6), ticks = [];
  for (var x = 0; x <= total + 1e-9; x += step) ticks.push(x);
  var axisTime = h('div', { cls: 'wf-time' }, ticks.map(function (v) {
    return h('span', { cls: 'tick', style: 'left:' + pct(v) + '%', text: tickLabel(v, step) });
  }));
  wf.appendChild(h('div', { cls: 'wf-axis' }, h('div', { cls: 'wf-name', text: 'Span' }), axisTime));
  var grid = h('div', { cls: 'grid' }, ticks.slice(1).map(function (v) { return h('i', { style: 'left:' + pct(v) + '%' }); }));
  wf.appendChild(grid);

  treeRows(t).forEach(function (r) {
    var s = r.s, err = s.status && s.status.code === 'error';
    var left = pct(s.startTime - t.startTime), width = Math.max(0, pct(s.endTime - t.startTime) - left);
    var nameCell = h('div', { cls: 'wf-name' });
    for (var i = 0; i < r.depth; i++) nameCell.appendChild(h('span', { cls: 'indent' }));
    nameCell.appendChild(h('span', {
      cls: 'caret' + (r.children ? ' has' : ''),
      text: r.children ? (state.collapsed[s.spanId] ? '▸' : '▾') : '',
      onclick: r.children ? function (ev) { ev.stopPropagation(); toggle(s.spanId); } : null
    }));
    nameCell.appendChild(h('i', { cls: 'dot', title: s.service, style: 'background:' + colors[s.service] }));
    if (r.depth === 0 || r.hop || r.orphan) nameCell.appendChild(h('span', { cls: 'svc', text: s.service }));
    if (err) nameCell.appendChild(h('span', { cls: 'x', title: 'error', text: '✗' }));
    nameCell.appendChild(h('span', { cls: 'nm', text: s.name || '(unnamed)', title: s.name }));
    if (r.orphan) nameCell.appendChild(h('span', { cls: 'tag-orphan', title: 'parent ' + s.parentSpanId + ' is not in this trace', text: 'orphan' }));
    if (s.runType) nameCell.appendChild(h('span', { cls: 'tag-run', text: s.runType }));
    var dur = h('span', { cls: 'dur', text: fmt(s.endTime - s.startTime), 'data-left': String(left), 'data-end': String(left + width) });
    var timeCell = h('div', { cls: 'wf-time' },
      h('div', { cls: 'bar' + (err ? ' error' : ''), style: 'left:' + left + '%;width:' + width + '%;background:' + colors[s.service] }),
      dur);
    wf.appendChild(h('div', {
      cls: 'wf-row' + (err ? ' error' : '') + (r.hidden ? ' hidden' : '') + (s.spanId === state.spanId ? ' selected' : ''),
      'data-span-id': s.spanId, 'data-service': s.service, 'data-error': err ? 'true' : 'false',
      'data-orphan': r.orphan ? 'true' : 'false', 'data-depth': String(r.depth),
      onclick: function () { selectSpan(s.spanId); }
    }, nameCell, timeCell));
  });
  view.appendChild(wf);
  renderDetails();
}
// Durations go right of their bar; for a bar reaching the far end, inside it when they fit
// there, else left of it. Measured after layout, and again whenever the layout changes.
function fitLabels() {
  document.querySelectorAll('.wf .dur').forEach(function (d) {
    var left = Number(d.getAttribute('data-left')), end = Number(d.getAttribute('data-end'));
    var bar = d.previousElementSibling;
    d.className = 'dur'; d.style.left = ''; d.style.right = '';
    if (end < 84) { d.style.left = 'calc(' + end + '% + 6px)'; return; }
    d.className = 'dur inside'; d.style.right = 'calc(' + (100 - end) + '% + 6px)';
    if (!bar || d.offsetWidth + 12 > bar.offsetWidth) {
      d.className = 'dur';
      d.style.right = 'calc(' + (100 - left) + '% + 6px)';
    }
  });
}
function toggle(id) {
  if (state.collapsed[id]) delete state.collapsed[id]; else state.collapsed[id] = true;
  var keep = $('#view').scrollTop;
  renderTrace();
  $('#view').scrollTop = keep;
}
function placeholder() {
  var o = location.origin;
  return h('div', { cls: 'placeholder' },
    h('h2', { text: state.traces.length ? 'Select a trace' : 'Waiting for traces…' }),
    h('p', { text: 'Point your services at this collector. It accepts OTLP/HTTP (JSON and protobuf) and LangSmith run ingestion.' }),
    h('pre', { text:
      '# tracehop: the full traces URL (nothing is appended)\n' +
      "otlp({ url: '" + o + "/v1/traces' }), langsmith({ apiUrl: '" + o + "', apiKey: 'dev' })\n\n" +
      '# OpenTelemetry SDKs\n' +
      'OTEL_EXPORTER_OTLP_ENDPOINT=' + o + '\n' +
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=' + o + '/v1/traces\n\n' +
      '# langsmith SDKs (any API key works)\n' +
      'LANGSMITH_TRACING=true\nLANGSMITH_ENDPOINT=' + o + '\nLANGSMITH_API_KEY=dev' }),
    h('p', { text: 'A trace appears as soon as its first span arrives; it is drawn in the terminal once it has been quiet for a moment.' }));
}

// ---- span details ------------------------------------------------------------------
function valueNode(v) {
  if (typeof v === 'string') {
    var c = v.charAt(0);
    if ((c === '{' || c === '[') && v.length > 1) {
      try { return h('pre', { text: JSON.stringify(JSON.parse(v), null, 2) }); } catch (e) { /* plain text */ }
    }
    return document.createTextNode(v);
  }
  return document.createTextNode(Array.isArray(v) ? JSON.stringify(v) : String(v));
}
function kvTable(obj, kind) {
  var keys = Object.keys(obj || {}).sort();
  if (!keys.length) return h('div', { cls: 'none', text: 'none' });
  return h('table', { cls: 'kv' }, keys.map(function (k) {
    var p = {}; p['data-' + kind + '-key'] = k;
    // Break long keys after their dots, not inside words.
    var key = h('td', { cls: 'k', title: k });
    k.split('.').forEach(function (part, i) {
      if (i) { key.appendChild(document.createTextNode('.')); key.appendChild(document.createElement('wbr')); }
      key.appendChild(document.createTextNode(part));
    });
    return h('tr', p, key, h('td', { cls: 'v' }, valueNode(obj[k])));
  }));
}
function section(title, body, id) {
  return h('div', { cls: 'd-sec', id: id }, h('h4', { text: title }), body);
}
function renderDetails() {
  var main = $('main'), box = $('#details');
  var t = state.trace;
  var s = t && state.spanId ? t.spans.find(function (x) { return x.spanId === state.spanId; }) : null;
  box.textContent = '';
  main.classList.toggle('with-details', !!s);
  box.hidden = !s;
  fitLabels();
  if (!s) return;
  var colors = assignColors(t.services);
  var err = s.status && s.status.code === 'error';
  box.appendChild(h('div', { cls: 'd-head' },
    h('div', { cls: 'd-title', id: 'details-name', text: s.name || '(unnamed)' }),
    h('button', { cls: 'd-close', title: 'Close (Esc)', text: '×', onclick: function () { selectSpan(null); } })));
  box.appendChild(h('div', { cls: 'd-sub' },
    h('span', { cls: 'chip' }, h('i', { cls: 'dot', style: 'background:' + colors[s.service] }), s.service),
    h('span', { cls: 'chip', text: s.kind }),
    h('span', { cls: 'chip', text: fmt(s.endTime - s.startTime) }),
    h('span', { cls: 'chip', text: '+' + fmt(s.startTime - t.startTime) }),
    s.runType ? h('span', { cls: 'chip', text: 'run: ' + s.runType }) : null,
    err ? h('span', { cls: 'badge err', text: '✗ error' }) : h('span', { cls: 'chip', text: 'status: ' + s.status.code })));
  if (err) box.appendChild(section('Error', h('div', { cls: 'd-error', text: s.status.message || 'error' })));
  box.appendChild(section('Attributes', kvTable(s.attributes, 'attr'), 'span-attributes'));
  if (s.events && s.events.length) box.appendChild(section('Events', h('div', null, s.events.map(function (e) {
    return h('div', { cls: 'ev' }, h('div', { cls: 'ev-head' }, e.name, h('span', { text: '+' + fmt(e.time - t.startTime) })),
      Object.keys(e.attributes || {}).length ? kvTable(e.attributes, 'event') : null);
  }))));
  if (s.links && s.links.length) box.appendChild(section('Links', h('div', null, s.links.map(function (l) {
    return h('div', { cls: 'ev mono', text: l.traceId + ' / ' + l.spanId });
  }))));
  box.appendChild(section('Resource', kvTable(s.resource, 'resource')));
  var ids = { 'trace id': s.traceId, 'span id': s.spanId, 'parent span id': s.parentSpanId || '—', source: s.source };
  if (s.scope) ids.scope = s.scope;
  if (s.runId) ids['run id'] = s.runId;
  box.appendChild(section('Identity', kvTable(ids, 'id')));
}

// ---- selection and polling -----------------------------------------------------------
function select(id, spanId) {
  if (id !== state.selectedId) state.collapsed = {};
  state.selectedId = id;
  state.spanId = spanId;
  writeHash();
  renderList();
  loadTrace();
}
function selectSpan(spanId) {
  state.spanId = spanId;
  writeHash();
  document.querySelectorAll('.wf-row.selected').forEach(function (n) { n.classList.remove('selected'); });
  if (spanId) {
    var row = document.querySelector('.wf-row[data-span-id="' + spanId + '"]');
    if (row) row.classList.add('selected');
  }
  renderDetails();
}
function loadTrace() {
  var id = state.selectedId;
  if (!id) { state.trace = null; renderTrace(); return Promise.resolve(); }
  return fetch('api/traces/' + encodeURIComponent(id)).then(function (r) {
    return r.ok ? r.json() : null;
  }).then(function (t) {
    if (id !== state.selectedId) return;
    var keep = $('#view').scrollTop;
    state.trace = t;
    renderTrace();
    $('#view').scrollTop = keep;
  }).catch(function () {});
}
function poll() {
  fetch('api/traces').then(function (r) { return r.json(); }).then(function (j) {
    $('#live').classList.remove('off');
    $('#live-text').textContent = 'live';
    renderEvicted(j.evicted, j.limits);
    if (j.version !== state.version) {
      state.version = j.version;
      state.traces = j.traces;
      if (state.first) {
        state.first = false;
        var hs = readHash();
        if (!hs.trace && j.traces.length) state.selectedId = j.traces[0].traceId;
      }
      renderList();
      var cur = state.selectedId && j.traces.find(function (x) { return x.traceId === state.selectedId; });
      var t = state.trace;
      if (cur && (!t || t.lastSeen !== cur.lastSeen || t.finished !== cur.finished || t.spans.length !== cur.spanCount)) loadTrace();
      else if (!state.trace) renderTrace();
    } else {
      document.querySelectorAll('.trace-item .ti-when').forEach(function (n, i) {
        var shown = state.traces.filter(function (t) { return matches(t, state.filter); });
        if (shown[i]) n.textContent = ago(shown[i].firstSeen);
      });
    }
  }).catch(function () {
    $('#live').classList.add('off');
    $('#live-text').textContent = 'disconnected';
  }).then(function () { setTimeout(poll, 1500); });
}
function fromHash() {
  var hs = readHash();
  if (hs.trace) {
    state.first = false;
    var id = hs.trace.replace(/-/g, '').toLowerCase();
    if (id !== state.selectedId) { select(id, hs.span || null); return; }
    if ((hs.span || null) !== state.spanId) selectSpan(hs.span || null);
  }
}
window.addEventListener('hashchange', fromHash);
window.addEventListener('resize', fitLabels);
document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && state.spanId) selectSpan(null); });
$('#filter').addEventListener('input', function (e) { state.filter = e.target.value; renderList(); });
$('#clear').addEventListener('click', function () {
  fetch('api/traces', { method: 'DELETE' }).then(function () {
    state.selectedId = null; state.trace = null; state.spanId = null; state.version = -1; writeHash(); poll();
  });
});
$('#endpoint').textContent = location.origin;
fromHash();
renderTrace();
poll();
`

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tracehop dev</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <div class="logo"><span class="logo-mark"></span>tracehop <small>dev</small></div>
  <span class="endpoint" id="endpoint"></span>
  <span class="spacer"></span>
  <span class="live" id="live"><i></i><span id="live-text">connecting…</span></span>
  <span class="endpoint" id="count"></span>
  <button class="btn" id="clear" title="Forget all traces">Clear</button>
</header>
<main>
  <nav id="list">
    <div class="search"><input id="filter" placeholder="Filter by name, service or trace id" autocomplete="off"></div>
    <div id="evicted" class="evicted" role="status" hidden></div>
    <div id="items"></div>
  </nav>
  <section id="view"></section>
  <aside id="details" hidden></aside>
</main>
<script>${SCRIPT.replace(
  '__PALETTE__',
  // `<` escaped so no value can close the script element.
  JSON.stringify(SERVICE_PALETTE.map(([, css]) => css)).replaceAll('<', '\\u003c'),
)}</script>
</body>
</html>
`

/**
 * The page served at `GET /`.
 *
 * @example
 * res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pageHtml())
 */
export function pageHtml(): string {
  return HTML
}
