/**
 * The fleet page: every station (its state, model, rig, last verdicts), the containers to hold and to re-sample.
 * Self-contained (no CDN, no framework): the page reads /v1/stations and /v1/holds, then follows /v1/events.
 */

export const FLEET_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>e-nose fleet</title>
<link rel="stylesheet" href="/page.css">
</head>
<body>
<header><h1>e-nose fleet</h1><span id="summary">loading...</span><span id="live" class="off">offline</span></header>
<main>
<section>
<h2>Containers to act on</h2>
<p class="hint">Hold: a suspicious verdict, hold the container for inspection. Re-sample: inconclusive, run the cycle again.</p>
<table id="holds"><thead><tr><th>action</th><th>container</th><th>station</th><th>time</th><th>class</th><th>reasons</th></tr></thead><tbody></tbody></table>
</section>
<section>
<h2>Stations</h2>
<table id="stations"><thead><tr><th>station</th><th>state</th><th>model</th><th>rig</th><th>verdicts</th><th>suspicious</th><th>missing</th><th>spool</th><th>last verdict</th></tr></thead><tbody></tbody></table>
</section>
<section>
<h2>Last verdicts</h2>
<table id="verdicts"><thead><tr><th>time</th><th>station</th><th>container / sample</th><th>verdict</th><th>class</th><th>model</th></tr></thead><tbody></tbody></table>
</section>
</main>
<script src="/page.js"></script>
</body>
</html>
`;

export const FLEET_CSS = `body{font:14px system-ui,sans-serif;margin:0;color:#222}
header{display:flex;gap:1.5em;align-items:baseline;padding:.6em 1em;background:#234;color:#fff}
h1{font-size:1.2em;margin:0}h2{font-size:1.05em;margin:1.2em 0 .4em}
main{padding:0 1em 2em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #ddd;white-space:nowrap}
.hint{color:#666;margin:.2em 0}.online{color:#070}.offline{color:#b00}.unknown{color:#888}
.suspicious,.hold{color:#fff;background:#b00}.inconclusive,.resample{background:#fd6}.clear{color:#070}
#live.on{color:#8f8}#live.off{color:#f88}`;

export const FLEET_SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const text = (v) => (v === null || v === undefined ? '' : String(v));
function row(cells, cls) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => {
    const td = document.createElement('td');
    td.textContent = text(c);
    if (cls && cls[i]) td.className = cls[i];
    tr.appendChild(td);
  });
  return tr;
}
function fill(id, rows) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren(...rows);
}
const recent = [];
async function refresh() {
  const [s, h] = await Promise.all([fetch('/v1/stations').then((r) => r.json()), fetch('/v1/holds').then((r) => r.json())]);
  const online = s.stations.filter((x) => x.state === 'online').length;
  $('summary').textContent = s.stations.length + ' stations, ' + online + ' online, ' + h.holds.filter((x) => x.action === 'hold').length + ' containers to hold';
  fill('stations', s.stations.map((x) => row(
    [x.id, x.state + (x.reason ? ' (' + x.reason + ')' : ''), text(x.modelId) + (x.follow && x.follow.refused ? ' [refused: ' + x.follow.refused.reason + ']' : ''), x.rig, x.verdicts, x.byVerdict.suspicious, x.missing, x.health ? x.health.spoolPending : '', x.lastVerdict ? x.lastVerdict.verdict + ' ' + x.lastVerdict.time : ''],
    [null, x.state])));
  fill('holds', h.holds.slice(0, 200).map((x) => row([x.action, x.containerId || x.sample, x.station, x.time, x.class, x.reasons.join(', ')], [x.action])));
}
function showVerdicts() {
  fill('verdicts', recent.slice(0, 100).map((m) => row([m.time, m.station, m.containerId || m.sample, m.verdict, m.class, m.modelId], [null, null, null, m.verdict])));
}
let timer = null;
const soon = () => { if (!timer) timer = setTimeout(() => { timer = null; refresh().catch(() => {}); }, 500); };
const events = new EventSource('/v1/events');
events.onopen = () => { $('live').textContent = 'live'; $('live').className = 'on'; };
events.onerror = () => { $('live').textContent = 'reconnecting'; $('live').className = 'off'; };
events.addEventListener('snapshot', (e) => { const d = JSON.parse(e.data); recent.splice(0, recent.length, ...d.verdicts); showVerdicts(); soon(); });
events.addEventListener('verdict', (e) => { recent.unshift(JSON.parse(e.data)); if (recent.length > 200) recent.length = 200; showVerdicts(); soon(); });
events.addEventListener('status', soon);
refresh().catch(() => {});
setInterval(() => refresh().catch(() => {}), 15000);
`;
