// Copy of ../x/dump.mjs taking a JSON of simulation options: node dump2.mjs '<json opts>' outprefix
import { createSimulation } from '../../dist/sim/simulate.js';
import { writeFileSync } from 'node:fs';
const opts = JSON.parse(process.argv[2]); const out = process.argv[3];
const sim = createSimulation(opts);
const nch = sim.channels.length; const S = 150;
const buf = new Float32Array(opts.containers * nch * S);
const meta = [];
let c = 0;
for (const cycle of sim.cycles()) {
  const sums = new Float64Array(nch * S), ns = new Float64Array(nch * S);
  let i = 0;
  for (const f of cycle.frames({ reuse: true })) {
    const s = Math.floor(i / 10); i++;
    if (s >= S) break;
    for (let ch = 0; ch < nch; ch++) {
      let v = f.values[ch];
      if (ch < nch - 2) v = v > 0 ? Math.log(v) : NaN;
      if (v === v) { sums[ch * S + s] += v; ns[ch * S + s]++; }
    }
  }
  for (let k = 0; k < nch * S; k++) buf[c * nch * S + k] = ns[k] ? sums[k] / ns[k] : NaN;
  const t = cycle.truth;
  meta.push({ label: t.label, day: t.day, idx: t.indexInDay, conc: t.concentrationsPpb, conf: t.confounders, reefer: t.reefer, faults: cycle.faults.length });
  c++;
}
writeFileSync(out + '.f32', Buffer.from(buf.buffer));
writeFileSync(out + '.json', JSON.stringify({ channels: sim.channels, S, meta }));
console.log('done', c);
