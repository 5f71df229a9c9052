/**
 * The operator page's HTML and CSS, served by the service itself (no CDN: the machine at the quay may be
 * offline). The script is in `script.ts`; the page loads nothing from elsewhere.
 */

/** The page. `title` is escaped by the caller's choice of a fixed string. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>e-nose scanner</title>
<link rel="stylesheet" href="/page.css">
<script src="/page.js" defer></script>
</head>
<body>
<header>
  <h1>e-nose scanner</h1>
  <div class="status">
    <span id="link" class="pill">connecting…</span>
    <span>rig <b id="rig">–</b></span>
    <span>model <b id="model">–</b></span>
    <span>last frame <b id="frame-age">–</b></span>
  </div>
</header>
<main>
  <section id="cycle-panel" class="panel wide">
    <div class="panel-head">
      <h2>Current cycle <span id="cycle-id" class="mono">–</span></h2>
      <div class="cycle-meta"><span id="cycle-phase" class="phase phase-I">idle</span> <span id="cycle-time" class="mono"></span>
        <span id="env" class="mono"></span></div>
    </div>
    <canvas id="traces" data-frames="0" data-channels="0" aria-label="sensor traces of the current cycle"></canvas>
    <div id="channel-legend" class="legend"></div>
  </section>
  <section id="verdict-panel" class="panel">
    <h2>Verdict</h2>
    <div id="now" class="now" data-state="idle" data-sample="" data-eta-s=""></div>
    <div id="latest-verdict" class="verdict-card empty" data-sample="" data-verdict="" data-action="">
      <p class="muted">No verdict yet.</p>
    </div>
  </section>
  <section id="pca-panel" class="panel">
    <h2>Score plot <span class="muted small" id="pca-note"></span></h2>
    <canvas id="pca" aria-label="principal-component score plot"></canvas>
    <div id="class-legend" class="legend"></div>
  </section>
  <section id="history-panel" class="panel wide">
    <h2>Last verdicts</h2>
    <table id="history"><thead><tr><th>time</th><th>sample</th><th>verdict</th><th>class</th><th>score</th><th>reasons</th><th>decided</th><th>latency</th></tr></thead>
    <tbody></tbody></table>
  </section>
</main>
<footer class="muted small">Live from <span class="mono">/v1/events</span>. Traces: each gas channel's resistance over its baseline (R/R0, R0 the mean of the cycle's baseline frames); shading: <span class="phase phase-B">B baseline</span> <span class="phase phase-E">E exposure</span> <span class="phase phase-R">R recovery</span> <span class="phase phase-I">I idle</span>.</footer>
</body>
</html>
`;

export const PAGE_CSS = `:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --panel: #fff;
  --suspicious: #dc2626; --clear: #16a34a; --inconclusive: #d97706; --none: #6b7280; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .6rem 1rem; background: #0f172a; color: #e2e8f0; flex-wrap: wrap; }
header h1 { font-size: 1.1rem; margin: 0; letter-spacing: .02em; }
header b { color: #fff; font-weight: 600; }
.status { display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; }
.pill { padding: .1rem .6rem; border-radius: 999px; background: #475569; color: #fff; font-size: .8rem; }
.pill.ok { background: #15803d; } .pill.bad { background: #b91c1c; } .pill.warn { background: #b45309; }
main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: .8rem; padding: .8rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; min-width: 0; }
.panel.wide { grid-column: 1 / 2; }
#verdict-panel { grid-column: 2; grid-row: 1; }
#pca-panel { grid-column: 2; grid-row: 2; }
#history-panel { grid-column: 1; grid-row: 2; }
h2 { font-size: 1rem; margin: 0 0 .4rem; }
.panel-head { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; gap: .5rem; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
td.nowrap, .nowrap { white-space: nowrap; }
.muted { color: var(--muted); } .small { font-size: .8rem; font-weight: normal; }
canvas { display: block; width: 100%; }
#traces { height: 340px; }
#pca { height: 330px; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .7rem; font-size: .75rem; margin-top: .3rem; }
.legend i { display: inline-block; width: .8rem; height: .25rem; margin-right: .25rem; vertical-align: middle; border-radius: 2px; }
.legend i.dot { width: .6rem; height: .6rem; border-radius: 50%; }
.phase { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .8rem; }
.phase-B { background: rgba(59,130,246,.18); } .phase-E { background: rgba(245,158,11,.28); }
.phase-R { background: rgba(16,185,129,.18); } .phase-I { background: rgba(148,163,184,.2); }
.verdict-card { min-height: 10rem; }
.badge { display: inline-block; padding: .15rem .7rem; border-radius: 6px; color: #fff; font-weight: 700; letter-spacing: .04em; text-transform: uppercase; }
.badge.big { font-size: 1.6rem; padding: .3rem 1rem; }
.badge.suspicious { background: var(--suspicious); } .badge.clear { background: var(--clear); }
.badge.inconclusive { background: var(--inconclusive); } .badge.none { background: var(--none); }
.verdict-card dl { display: grid; grid-template-columns: auto 1fr; gap: .15rem .8rem; margin: .6rem 0 0; }
.verdict-card dt { color: var(--muted); } .verdict-card dd { margin: 0; }
.verdict-card ul { margin: .2rem 0 0; padding-left: 1.1rem; }
.pending { color: var(--muted); margin-top: .4rem; }
.now { border-left: 4px solid #94a3b8; background: #f1f5f9; padding: .35rem .6rem; margin-bottom: .6rem; border-radius: 4px; }
.now[data-state="running"] { border-color: #2563eb; background: #eff6ff; }
.now[data-state="pending"] { border-color: #d97706; }
.now .eta { font-size: 1.3rem; font-weight: 700; }
.verdict-card.previous { opacity: .6; }
.verdict-card.previous::before { content: "previous container"; display: block; color: var(--muted); font-size: .8rem; margin-bottom: .2rem; }
.instruction { margin: .5rem 0 0; padding: .35rem .6rem; border-radius: 4px; font-weight: 700; }
.instruction.hold { background: #fee2e2; color: #991b1b; } .instruction.resample { background: #fef3c7; color: #92400e; }
.instruction.release { background: #dcfce7; color: #166534; } .instruction.decide { background: #f1f5f9; color: #334155; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
td .badge { font-size: .7rem; padding: .05rem .4rem; }
footer { padding: 0 1rem 1rem; }
main.login { display: block; max-width: 32rem; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } .panel.wide, #verdict-panel, #pca-panel, #history-panel { grid-column: 1; grid-row: auto; } }
`;

/** The page shown instead when a token is set and the browser has no session yet. */
export function loginPage(message: string, product = 'e-nose scanner'): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const safe = escape(message);
  const name = escape(product);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${name}: sign in</title><link rel="stylesheet" href="/page.css"></head>
<body><header><h1>${name}</h1></header><main class="login">
<section class="panel"><h2>Sign in</h2><p>${safe}</p>
<form method="get" action="/login"><label>Token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Open the page</button></form></section></main></body></html>
`;
}
