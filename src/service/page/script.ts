/**
 * The operator page's script: plain browser JavaScript (no framework, no build step), kept as a string so that
 * it ships inside the package. It reads `/v1/model` once and `/v1/events` live, and draws on two canvases:
 * the current cycle's traces with its phases shaded, and the PCA score plot with the training classes and the
 * latest cycles' points. A unit test parses it (`new Function`) so a syntax error cannot ship.
 */
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var PHASE_FILL = { B: 'rgba(59,130,246,0.11)', E: 'rgba(245,158,11,0.20)', R: 'rgba(16,185,129,0.11)', I: 'rgba(148,163,184,0.10)' };
  var PHASE_NAME = { B: 'baseline', E: 'exposure', R: 'recovery', I: 'idle' };
  var TRACE_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
    '#393b79', '#e6550d', '#31a354', '#ad494a', '#756bb1', '#843c39', '#d6616b', '#636363', '#8ca252', '#3182bd'];
  // Classes the policy clears get cool colours, suspicious ones warm colours: red and green stay the verdicts'.
  var CLEAR_COLOURS = ['#64748b', '#0d9488', '#2563eb', '#0891b2', '#4d7c0f'];
  var SUSPICIOUS_COLOURS = ['#ea580c', '#7c3aed', '#db2777', '#a16207', '#dc2626', '#9333ea', '#f59e0b', '#be185d'];
  var classColours = [];
  function assignClassColours(m) {
    var c = 0, s = 0;
    classColours = m.classes.map(function (name, k) {
      return m.suspicious[k] ? SUSPICIOUS_COLOURS[s++ % SUSPICIOUS_COLOURS.length] : CLEAR_COLOURS[c++ % CLEAR_COLOURS.length];
    });
  }
  function labelText(g, text, x, y, right) {
    g.save(); g.textAlign = x > right - 8 * text.length ? 'right' : 'left';
    var dx = g.textAlign === 'right' ? -10 : 10;
    g.lineWidth = 3; g.strokeStyle = 'rgba(255,255,255,0.9)'; g.strokeText(text, x + dx, y); g.fillText(text, x + dx, y); g.restore();
  }
  var REASONS = {
    'suspicious-class': 'most likely a suspicious class',
    'clear-class': 'most likely a clear class',
    'suspicious-class-below-threshold': 'a suspicious class leads, but its score is under the threshold',
    'suspicious-classes-outweigh-clear': 'clear leads, but the suspicious classes together are as likely',
    'unknown-odour': 'unlike anything in training: inspect',
    'no-policy': 'the model has no suspicious/clear policy',
    'too-short': 'cycle too short',
    'cut-disconnect': 'cut by a disconnect',
    'cut-reboot': 'cut by a rig reboot',
    'cut-stopped': 'stopped before the end',
    'lost-frames': 'too many frames lost',
    'gap-too-long': 'a gap in the data',
    'channel-saturated': 'a channel is saturated',
    'channel-dead': 'a channel is dead (constant or no reading)',
    'channel-spiking': 'a channel is spiking',
    'baseline-unstable': 'the baseline did not settle',
    'humidity-out-of-range': 'humidity outside the training range',
    'temperature-out-of-range': 'temperature outside the training range',
    'features-invalid': 'features could not be computed',
    'adaptation-disagrees': 'adaptation would clear what the unadapted model flags: re-sample'
  };
  // What the operator does with a container, by verdict.
  var ACTIONS = {
    suspicious: { key: 'hold', text: 'Hold the container for inspection' },
    inconclusive: { key: 'resample', text: 'Re-sample the container (the cycle could not be trusted)' },
    clear: { key: 'release', text: 'Release the container' },
    none: { key: 'decide', text: 'No verdict policy in this model: decide from the class' }
  };
  var PHASE_KEY = { B: 'baselineS', E: 'exposureS', R: 'recoveryS' };
  var IDLE_WINDOW_S = 60;
  var IDLE_AFTER_CYCLE_S = 20;
  var MAX_FRAMES = 8000;

  var st = {
    model: null, channels: [], gas: [], env: [], frames: [], t0: null, cycle: '', inCycle: false, phase: 'I',
    lastVerdictT: null, verdicts: [], points: {}, pending: null, lastFrameAt: 0, link: 'connecting', rig: null, dirty: true,
    judged: false, phaseStartT: 0, measured: {}, nowText: ''
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function pct(x) { return x === null || x === undefined || !isFinite(x) ? 'n/a' : (100 * x).toFixed(1) + '%'; }
  function num(x, d) { return x === null || x === undefined || !isFinite(x) ? 'n/a' : x.toFixed(d); }
  function verdictName(v) { return v.verdict === null ? 'class only' : v.verdict; }
  function verdictClass(v) { return v.verdict === null ? 'none' : v.verdict; }

  function setChannels(channels) {
    st.channels = channels;
    st.gas = []; st.env = [];
    for (var i = 0; i < channels.length; i++) (channels[i] === 'temp_c' || channels[i] === 'rh_pct' ? st.env : st.gas).push(i);
    var legend = $('channel-legend');
    legend.textContent = '';
    st.gas.forEach(function (c, k) {
      var s = el('span'); var i = el('i'); i.style.background = TRACE_COLOURS[k % TRACE_COLOURS.length];
      s.appendChild(i); s.appendChild(document.createTextNode(channels[c])); legend.appendChild(s);
    });
    $('traces').dataset.channels = String(st.gas.length);
  }

  function resetCycle(sample) {
    st.frames = []; st.t0 = null; st.cycle = sample; st.inCycle = sample !== ''; st.lastVerdictT = null; st.dirty = true;
    st.judged = false; st.phaseStartT = 0;
    $('cycle-id').textContent = sample || '–';
    showNow();
  }

  // Seconds (of rig time) until the running cycle's verdict: the rest of this phase and the phases after it, up
  // to the one whose end brings the verdict (the exposure or the recovery, by model). Phase lengths as the rig
  // ran them in the last cycle, else as the model's features expect them. Null when not known.
  // until ('exposure' or 'recovery'): the end of that phase instead (an early checkpoint); with intoS, intoS
  // seconds into it (a checkpoint inside the exposure: null once it has passed).
  function etaS(until, intoS) {
    var m = st.model;
    if (!m || !m.cycle || !st.inCycle || st.judged || st.frames.length === 0) return null;
    var order = ['B', 'E', 'R'];
    var last = (until || m.cycle.decidesAfter) === 'recovery' ? 2 : 1;
    var inside = intoS !== undefined && intoS !== null;
    var at = order.indexOf(st.phase);
    if (at < 0 || at > last) return null;
    var left = 0;
    for (var i = at; i <= last; i++) {
      var p = order[i];
      var d = i === last && inside ? intoS : st.measured[p] !== undefined ? st.measured[p] : m.cycle[PHASE_KEY[p]];
      if (d === null || d === undefined) return null;
      if (i !== at) { left += d; continue; }
      var rest = d - (st.frames[st.frames.length - 1].t - st.phaseStartT);
      if (i === last && inside && rest < 0) return null;
      left += Math.max(0, rest);
    }
    return left;
  }

  // The first early checkpoint still ahead (in a phase not ended yet, and for one inside a phase, not passed),
  // with the seconds until it; null without one.
  function nextCheckpoint() {
    var m = st.model;
    if (!m || !m.earlyCheckpoints) return null;
    var at = ['B', 'E', 'R'].indexOf(st.phase);
    for (var i = 0; i < m.earlyCheckpoints.length; i++) {
      var cp = m.earlyCheckpoints[i];
      if (at > (cp.phase === 'recovery' ? 2 : 1)) continue;
      var eta = etaS(cp.phase, cp.inPhaseS);
      if (eta !== null) return { phase: cp.phase, inPhaseS: cp.inPhaseS, eta: eta, later: i + 1 < m.earlyCheckpoints.length };
    }
    return null;
  }

  // The panel's first line: what the rig is doing for whom, and how long until the verdict.
  function showNow() {
    var box = $('now'); var m = st.model;
    var state, text, eta = null;
    if (st.inCycle && !st.judged) {
      state = 'running'; eta = etaS();
      var ends = m && m.cycle ? (m.cycle.decidesAfter === 'recovery' ? 'when the recovery ends' : 'when the exposure ends') : '';
      text = [st.cycle, (PHASE_NAME[st.phase] || st.phase), eta === null ? 'verdict ' + ends : 'verdict in ' + Math.ceil(eta) + ' s', ends && eta !== null ? '(' + ends + ')' : ''];
      // With an early plan: the next checkpoint still ahead, where the verdict may come early.
      var cp = nextCheckpoint();
      if (cp !== null) {
        text[2] = 'next checkpoint in ' + Math.ceil(cp.eta) + ' s';
        var where = cp.inPhaseS === null ? 'when the ' + cp.phase + ' ends' : cp.inPhaseS + ' s into the ' + cp.phase;
        text[3] = '(' + where + ': the verdict comes then if the evidence suffices' + (cp.later ? ', else at a later checkpoint' : '') + (eta === null ? '' : (cp.later ? ' or' : ', else') + ' in ' + Math.ceil(eta) + ' s') + ')';
        eta = cp.eta;
      }
    } else if (st.pending) {
      state = 'pending'; text = [st.pending, 'requested', 'waiting for the rig to start the cycle'];
    } else if (st.inCycle) {
      state = 'recovering'; text = [st.cycle, 'judged', 'the rig finishes the recovery before the next cycle'];
    } else {
      state = 'idle'; text = ['rig idle', 'ready for the next container'];
    }
    var key = state + '|' + text.join('|') + '|' + st.verdicts.length;
    if (key === st.nowText) return;
    st.nowText = key;
    box.dataset.state = state; box.dataset.sample = state === 'running' || state === 'recovering' ? st.cycle : state === 'pending' ? st.pending : '';
    box.dataset.etaS = eta === null ? '' : String(Math.ceil(eta));
    // While another container is sampled, the last verdict is the previous container's: shown as such.
    $('latest-verdict').classList.toggle('previous', (state === 'running' || state === 'pending') && st.verdicts.length > 0);
    box.textContent = '';
    if (state === 'running') {
      box.appendChild(el('div', 'small', 'sampling ' + text[0] + ' · ' + text[1]));
      box.appendChild(el('div', 'eta', text[2]));
      if (text[3]) box.appendChild(el('div', 'small muted', text[3]));
      box.appendChild(el('div', 'small', 'Keep the probe in the container until the verdict.'));
    } else {
      box.appendChild(el('div', 'small', text.join(' · ')));
    }
  }

  function addFrame(f) {
    if (st.channels.length === 0 || f.values.length !== st.channels.length) return;
    st.lastFrameAt = Date.now();
    if (st.t0 === null) st.t0 = f.tMs;
    var t = ((f.tMs - st.t0) >>> 0) / 1000;
    if (f.phase === 'I' && !st.inCycle && st.cycle !== '' && st.lastVerdictT !== null && t - st.lastVerdictT > IDLE_AFTER_CYCLE_S) return;
    st.frames.push({ t: t, phase: f.phase, values: f.values });
    if (st.cycle === '' ) {
      while (st.frames.length > 1 && t - st.frames[0].t > IDLE_WINDOW_S) st.frames.shift();
    }
    if (st.frames.length > MAX_FRAMES) st.frames.splice(0, st.frames.length - MAX_FRAMES);
    if (f.phase !== st.phase) {
      // The rig's own length of the phase that ends, for the next cycles' "verdict in".
      if (st.inCycle && st.frames.length > 1 && PHASE_KEY[st.phase] && t > st.phaseStartT) st.measured[st.phase] = t - st.phaseStartT;
      st.phaseStartT = t;
      setPhase(f.phase);
    }
    if (st.env.length > 0) {
      var parts = [];
      st.env.forEach(function (c) {
        var v = f.values[c];
        if (v !== null && isFinite(v)) parts.push(st.channels[c] === 'temp_c' ? v.toFixed(1) + ' °C' : v.toFixed(0) + ' %RH');
      });
      $('env').textContent = parts.join('  ');
    }
    $('cycle-time').textContent = st.cycle !== '' ? t.toFixed(0) + ' s' : '';
    showNow();
    st.dirty = true;
  }

  function setPhase(p) {
    st.phase = p;
    var e = $('cycle-phase'); e.className = 'phase phase-' + p; e.textContent = PHASE_NAME[p] || p;
  }

  // ------------------------------------------------------------------ drawing helpers
  function fitCanvas(c) {
    var r = window.devicePixelRatio || 1;
    var w = Math.max(100, Math.round(c.clientWidth)), h = Math.max(100, Math.round(c.clientHeight));
    if (c.width !== Math.round(w * r) || c.height !== Math.round(h * r)) { c.width = Math.round(w * r); c.height = Math.round(h * r); }
    var g = c.getContext('2d'); g.setTransform(r, 0, 0, r, 0, 0); g.clearRect(0, 0, w, h);
    return { g: g, w: w, h: h };
  }
  function niceTicks(lo, hi, n) {
    var span = hi - lo; if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n))); var err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = []; for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function fmtTick(v) { var a = Math.abs(v); return a >= 1000 || (a > 0 && a < 0.01) ? v.toExponential(1) : String(Math.round(v * 1000) / 1000); }
  function axes(g, box, xs, ys, xlab, ylab, xmap, ymap) {
    g.strokeStyle = '#e5e7eb'; g.fillStyle = '#6b7280'; g.lineWidth = 1; g.font = '11px system-ui, sans-serif';
    g.textAlign = 'center'; g.textBaseline = 'top';
    xs.forEach(function (v) { var x = xmap(v); g.beginPath(); g.moveTo(x, box.t); g.lineTo(x, box.b); g.stroke(); g.fillText(fmtTick(v), x, box.b + 4); });
    g.textAlign = 'right'; g.textBaseline = 'middle';
    ys.forEach(function (v) { var y = ymap(v); g.beginPath(); g.moveTo(box.l, y); g.lineTo(box.r, y); g.stroke(); g.fillText(fmtTick(v), box.l - 5, y); });
    g.strokeStyle = '#9ca3af'; g.strokeRect(box.l, box.t, box.r - box.l, box.b - box.t);
    g.fillStyle = '#374151'; g.textAlign = 'center'; g.textBaseline = 'bottom'; g.fillText(xlab, (box.l + box.r) / 2, box.b + 34);
    g.save(); g.translate(12, (box.t + box.b) / 2); g.rotate(-Math.PI / 2); g.textBaseline = 'top'; g.fillText(ylab, 0, 0); g.restore();
  }

  // ------------------------------------------------------------------ traces
  function drawTraces() {
    var c = $('traces'); var f = fitCanvas(c); var g = f.g;
    var box = { l: 56, r: f.w - 10, t: 18, b: f.h - 40 };
    var frames = st.frames;
    c.dataset.frames = String(frames.length);
    if (frames.length === 0 || st.gas.length === 0) {
      g.fillStyle = '#6b7280'; g.font = '13px system-ui, sans-serif'; g.textAlign = 'center'; g.fillText('waiting for frames…', f.w / 2, f.h / 2); return;
    }
    // R0 per channel: mean of the cycle's baseline frames, else the first frame.
    var r0 = st.gas.map(function (ch) {
      var s = 0, n = 0;
      for (var i = 0; i < frames.length; i++) if (frames[i].phase === 'B') { var v = frames[i].values[ch]; if (v !== null && isFinite(v)) { s += v; n++; } }
      if (n > 0) return s / n;
      for (var j = 0; j < frames.length; j++) { var w = frames[j].values[ch]; if (w !== null && isFinite(w) && w !== 0) return w; }
      return 1;
    });
    var tMin = frames[0].t, tMax = Math.max(frames[frames.length - 1].t, tMin + 10);
    var yMin = Infinity, yMax = -Infinity;
    for (var i = 0; i < frames.length; i++) for (var k = 0; k < st.gas.length; k++) {
      var v = frames[i].values[st.gas[k]]; if (v === null || !isFinite(v) || r0[k] === 0) continue;
      var y = v / r0[k]; if (y < yMin) yMin = y; if (y > yMax) yMax = y;
    }
    if (!isFinite(yMin)) { yMin = 0; yMax = 2; }
    yMin = Math.min(yMin, 1); yMax = Math.max(yMax, 1);
    var pad = (yMax - yMin) * 0.06 || 0.05; yMin -= pad; yMax += pad;
    var xmap = function (t) { return box.l + (t - tMin) / (tMax - tMin) * (box.r - box.l); };
    var ymap = function (y) { return box.b - (y - yMin) / (yMax - yMin) * (box.b - box.t); };
    // phase shading
    var start = 0;
    g.font = '11px system-ui, sans-serif'; g.textBaseline = 'top'; g.textAlign = 'left';
    for (var p = 1; p <= frames.length; p++) {
      if (p === frames.length || frames[p].phase !== frames[start].phase) {
        var x0 = xmap(frames[start].t), x1 = p === frames.length ? xmap(frames[p - 1].t) : xmap(frames[p].t);
        g.fillStyle = PHASE_FILL[frames[start].phase] || PHASE_FILL.I; g.fillRect(x0, box.t, Math.max(1, x1 - x0), box.b - box.t);
        if (x1 - x0 > 50) { g.fillStyle = '#475569'; g.fillText(PHASE_NAME[frames[start].phase] || frames[start].phase, x0 + 4, box.t - 15); }
        start = p;
      }
    }
    axes(g, box, niceTicks(tMin, tMax, 8), niceTicks(yMin, yMax, 6), st.cycle !== '' ? 's since the cycle started' : 's (idle)', 'R / R0', xmap, ymap);
    g.lineWidth = 1.3;
    for (var k2 = 0; k2 < st.gas.length; k2++) {
      var ch = st.gas[k2]; g.strokeStyle = TRACE_COLOURS[k2 % TRACE_COLOURS.length]; g.beginPath(); var pen = false;
      var stride = Math.max(1, Math.floor(frames.length / (box.r - box.l)));
      for (var q = 0; q < frames.length; q += stride) {
        var val = frames[q].values[ch];
        if (val === null || !isFinite(val)) { pen = false; continue; }
        var X = xmap(frames[q].t), Y = ymap(val / r0[k2]);
        if (pen) g.lineTo(X, Y); else { g.moveTo(X, Y); pen = true; }
      }
      g.stroke();
    }
  }

  // ------------------------------------------------------------------ PCA plot
  function drawPca() {
    var c = $('pca'); var f = fitCanvas(c); var g = f.g; var m = st.model;
    if (!m) return;
    var box = { l: 48, r: f.w - 10, t: 10, b: f.h - 40 };
    var xy = m.cloud.xy;
    var pts = [];
    // Only the points of verdicts this model gave: after a roll-out the earlier ones lie in another model's space.
    st.verdicts.forEach(function (v) { var p = st.points[v.sample]; if (p && v.modelId === m.id) pts.push({ v: v, x: p[0], y: p.length > 1 ? p[1] : 0 }); });
    var xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
    function grow(x, y) { if (x < xMin) xMin = x; if (x > xMax) xMax = x; if (y < yMin) yMin = y; if (y > yMax) yMax = y; }
    for (var i = 0; i < xy.length; i += 2) grow(xy[i], xy[i + 1]);
    pts.forEach(function (p) { grow(p.x, p.y); });
    if (!isFinite(xMin)) { xMin = -1; xMax = 1; yMin = -1; yMax = 1; }
    var px = (xMax - xMin) * 0.06 || 1, py = (yMax - yMin) * 0.06 || 1;
    xMin -= px; xMax += px; yMin -= py; yMax += py;
    var xmap = function (x) { return box.l + (x - xMin) / (xMax - xMin) * (box.r - box.l); };
    var ymap = function (y) { return box.b - (y - yMin) / (yMax - yMin) * (box.b - box.t); };
    axes(g, box, niceTicks(xMin, xMax, 6), niceTicks(yMin, yMax, 6), 'PC1 (' + pct(m.varianceRatio[0]) + ')', 'PC2 (' + pct(m.varianceRatio[1]) + ')', xmap, ymap);
    g.globalAlpha = 0.35;
    for (var j = 0; j < xy.length; j += 2) {
      var ci = m.cloud.classIndex[j / 2];
      g.fillStyle = ci >= 0 ? classColours[ci] : '#94a3b8';
      g.beginPath(); g.arc(xmap(xy[j]), ymap(xy[j + 1]), 2.2, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
    g.font = '11px system-ui, sans-serif'; g.textAlign = 'left'; g.textBaseline = 'middle';
    m.centroids.forEach(function (cen, k) {
      if (!cen) return;
      var X = xmap(cen.x), Y = ymap(cen.y);
      g.fillStyle = classColours[k]; g.strokeStyle = '#fff'; g.lineWidth = 2;
      g.beginPath(); g.rect(X - 5, Y - 5, 10, 10); g.fill(); g.stroke();
      g.fillStyle = '#111827'; labelText(g, m.classes[k], X - 2, Y, box.r);
    });
    // older points hollow, the latest filled and labelled
    for (var q = pts.length - 1; q >= 0; q--) {
      var p = pts[q]; var X2 = xmap(p.x), Y2 = ymap(p.y); var latest = q === 0;
      var colour = p.v.verdict === 'suspicious' ? '#dc2626' : p.v.verdict === 'clear' ? '#16a34a' : p.v.verdict === 'inconclusive' ? '#d97706' : '#111827';
      g.lineWidth = latest ? 3 : 1.5; g.strokeStyle = latest ? '#111827' : colour; g.fillStyle = colour;
      g.beginPath(); g.arc(X2, Y2, latest ? 8 : 4.5, 0, 2 * Math.PI);
      if (latest) { g.fill(); g.stroke(); g.fillStyle = '#111827'; g.font = 'bold 12px system-ui, sans-serif'; labelText(g, p.v.sample.split('-')[0], X2, Y2 - 12, box.r); }
      else g.stroke();
    }
    c.dataset.points = String(pts.length);
  }

  function classLegend() {
    var m = st.model; var legend = $('class-legend'); legend.textContent = '';
    if (m.cloud.colouring === 'none') {
      // Points not coloured by class: one grey key, and the classes named without colours of their own.
      var g0 = el('span'); var d0 = el('i', 'dot'); d0.style.background = '#94a3b8';
      g0.appendChild(d0); g0.appendChild(document.createTextNode('training sample')); legend.appendChild(g0);
      legend.appendChild(el('span', 'muted', 'classes: ' + m.classes.map(function (name, k) { return name + (m.suspicious[k] ? ' (suspicious)' : ''); }).join(', ')));
    } else m.classes.forEach(function (name, k) {
      var s = el('span'); var i = el('i', 'dot'); i.style.background = classColours[k];
      s.appendChild(i); s.appendChild(document.createTextNode(name + (m.suspicious[k] ? ' (suspicious)' : '')));
      legend.appendChild(s);
    });
    var note = m.cloud.colouring === 'label' ? 'training samples by class; squares: class centres'
      : m.cloud.colouring === 'predicted' ? 'training samples, coloured by the model\u2019s class; squares: class centres'
      : m.cloud.total > 0 ? 'training samples in grey, not by class (' + m.cloud.uncolouredBecause + ')'
      : 'no training points in the model';
    $('pca-note').textContent = note;
    $('pca').dataset.colouring = m.cloud.colouring;
  }

  // ------------------------------------------------------------------ verdicts
  function showLatest() {
    var card = $('latest-verdict');
    var v = st.verdicts[0];
    card.textContent = '';
    if (!v) {
      card.className = 'verdict-card empty';
      var when = st.model && st.model.cycle ? (st.model.cycle.decidesAfter === 'recovery' ? 'its recovery' : 'its exposure') : 'the cycle';
      card.appendChild(el('p', 'muted', 'No verdict yet. A cycle\u2019s verdict shows here when ' + when + ' ends.'));
    } else {
      card.className = 'verdict-card';
      card.dataset.sample = v.sample; card.dataset.verdict = verdictName(v);
      var action = ACTIONS[verdictClass(v)];
      card.dataset.action = action.key;
      card.appendChild(el('span', 'badge big ' + verdictClass(v), verdictName(v)));
      card.appendChild(el('p', 'instruction ' + action.key, action.text));
      var dl = el('dl');
      function row(k, val) { dl.appendChild(el('dt', '', k)); var dd = el('dd'); if (typeof val === 'string') dd.textContent = val; else dd.appendChild(val); dl.appendChild(dd); }
      row('sample', v.sample);
      if (v.station !== undefined) row('station', v.station);
      if (v.wallTime !== undefined) row('time', new Date(v.wallTime).toLocaleString());
      row('class', v.class === null ? 'none' : v.class + ' (' + pct(v.probabilities[v.class]) + ')');
      if (v.score !== null) row('score', num(v.score, 3) + (st.model && st.model.threshold !== null ? ' (threshold ' + num(st.model.threshold, 3) + ')' : ''));
      var ul = el('ul'); v.reasons.forEach(function (r) { ul.appendChild(el('li', '', REASONS[r] || r)); }); row('reasons', ul);
      if (v.quality && v.quality.novelty !== null) row('novelty', (v.quality.novelty >= 2 ? '\u2265 ' : '') + num(v.quality.novelty, 2) + ' of the limit');
      row('frames', v.frames.count + ' (' + v.quality.framesB + ' B, ' + v.quality.framesE + ' E' + (v.quality.framesR === undefined ? '' : ', ' + v.quality.framesR + ' R') + ')');
      if (v.decidedAtS !== undefined) row('decided', decidedText(v));
      row('latency', num(v.latencyMs, 3) + ' ms');
      if (v.label !== undefined) row('recorded label', v.label);
      card.appendChild(dl);
    }
    st.nowText = ''; // the card was redrawn: showNow marks it again
    showNow();
  }

  // When a verdict was decided: seconds into the cycle and where ('90 s, exposure end, early'; '60 s, in the exposure, early').
  var CHECKPOINT_NAME = { 'in-exposure': 'in the exposure', 'in-recovery': 'in the recovery' };
  function decidedText(v) {
    if (v.decidedAtS === undefined) return '–';
    var where = v.checkpoint ? CHECKPOINT_NAME[v.checkpoint] || v.checkpoint.replace('-', ' ') : '';
    return num(v.decidedAtS, 1) + ' s' + (where ? ', ' + where : '') + (v.early ? ', early' : '');
  }

  function showHistory() {
    var body = $('history').tBodies[0]; body.textContent = '';
    st.verdicts.slice(0, 25).forEach(function (v) {
      var tr = el('tr');
      tr.appendChild(el('td', 'mono nowrap', v.receivedAt ? new Date(v.receivedAt).toTimeString().slice(0, 8) : ''));
      tr.appendChild(el('td', 'mono', v.sample));
      var td = el('td'); td.appendChild(el('span', 'badge ' + verdictClass(v), verdictName(v))); tr.appendChild(td);
      tr.appendChild(el('td', '', v.class === null ? '–' : v.class + ' ' + pct(v.probabilities[v.class])));
      tr.appendChild(el('td', 'mono', num(v.score, 3)));
      tr.appendChild(el('td', 'small', v.reasons.join(', ')));
      tr.appendChild(el('td', 'mono nowrap decided', decidedText(v)));
      tr.appendChild(el('td', 'mono', num(v.latencyMs, 2) + ' ms'));
      body.appendChild(tr);
    });
  }

  function addVerdict(v, receivedAt) {
    v.receivedAt = receivedAt;
    st.verdicts = [v].concat(st.verdicts.filter(function (o) { return o.sample !== v.sample; })).slice(0, 50);
    if (st.pending === v.sample) st.pending = null;
    if (v.sample === st.cycle) st.judged = true;
    showLatest(); showHistory(); st.dirty = true;
  }

  // ------------------------------------------------------------------ status
  function setLink(text, cls) { var e = $('link'); e.textContent = text; e.className = 'pill ' + (cls || ''); }
  function tick() {
    if (st.lastFrameAt > 0) {
      var age = (Date.now() - st.lastFrameAt) / 1000;
      $('frame-age').textContent = age < 1 ? 'now' : age.toFixed(0) + ' s ago';
    }
  }
  function pollHealth() {
    fetch('/v1/health', { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) { return r.json(); }).then(function (h) {
      if (h.rig && h.rig.id) $('rig').textContent = h.rig.id + (h.rig.connected ? '' : ' (disconnected)');
      if (h.rig && !h.rig.connected) setLink('rig disconnected', 'bad');
    }).catch(function () {});
  }

  function frame() {
    if (st.dirty) { st.dirty = false; drawTraces(); drawPca(); }
    window.requestAnimationFrame(frame);
  }

  // ------------------------------------------------------------------ wiring
  function json(e) { return JSON.parse(e.data); }
  // Read again when the engine switches model (a fleet roll-out: event "model", or a snapshot naming another).
  function loadModel() {
    fetch('/v1/model', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (m) {
      st.model = m; assignClassColours(m); $('model').textContent = m.id + ' (' + m.classifier + ')';
      if (st.channels.length === 0 && m.channels.length > 0) setChannels(m.channels);
      classLegend(); showLatest(); st.dirty = true;
    });
  }
  loadModel();
  // 50 frames a second at most: every frame of a real rig (10 Hz), enough of a fast replay.
  var es = new EventSource('/v1/events?frames=50');
  es.onopen = function () { setLink('live', 'ok'); };
  es.onerror = function () { setLink('reconnecting…', 'warn'); };
  es.addEventListener('model', function () { loadModel(); });
  es.addEventListener('snapshot', function (e) {
    var s = json(e);
    if (st.model && s.modelId && s.modelId !== st.model.id) loadModel();
    if (s.rig) { setChannels(s.rig.channels); $('rig').textContent = s.rig.rig; }
    st.verdicts = []; st.points = {};
    s.verdicts.slice().reverse().forEach(function (r) { if (r.verdict) { if (r.pca) st.points[r.id] = r.pca; addVerdict(r.verdict, Date.parse(r.finishedAt)); } });
    st.pending = s.pending ? s.pending.id : null;
    resetCycle(s.cycle ? s.cycle.sample : '');
    if (s.cycle && s.cycle.verdict) { st.lastVerdictT = 0; st.judged = true; }
    if (s.cycle && s.cycle.phase === 'I') st.inCycle = false;
    s.frames.forEach(addFrame);
    showLatest();
  });
  es.addEventListener('info', function (e) { var i = json(e); setChannels(i.channels); $('rig').textContent = i.rig; });
  es.addEventListener('frame', function (e) { addFrame(json(e)); });
  es.addEventListener('sample-started', function (e) { var s = json(e); resetCycle(s.sample); if (st.pending === s.sample) { st.pending = null; showLatest(); } });
  es.addEventListener('phase', function (e) { var p = json(e); if (p.phase === 'I') st.inCycle = false; showNow(); });
  // A request the rig has started already (its start can overtake this event) is not pending.
  es.addEventListener('sample-requested', function (e) { var id = json(e).id; if (id !== st.cycle) st.pending = id; showNow(); });
  es.addEventListener('sample-failed', function (e) { var s = json(e); if (st.pending === s.id) st.pending = null; showLatest(); });
  es.addEventListener('pca-point', function (e) { var p = json(e); st.points[p.sample] = p.scores; });
  es.addEventListener('verdict', function (e) {
    var v = json(e);
    if (st.frames.length > 0) st.lastVerdictT = st.frames[st.frames.length - 1].t;
    addVerdict(v, Date.now());
  });
  es.addEventListener('state', function (e) { var s = json(e); setLink(s.state === 'connected' ? 'live' : 'rig ' + s.state, s.state === 'connected' ? 'ok' : 'bad'); });
  window.addEventListener('resize', function () { st.dirty = true; });
  setInterval(tick, 1000);
  setInterval(pollHealth, 5000);
  pollHealth();
  window.requestAnimationFrame(frame);
})();
`;
