// Dumps per-second means of ln(R) (gas channels) and raw temp_c / rh_pct over B+E+R (150 s) of each simulated
// cycle as float32 (containers x channels x 150) plus the ground truth, for the scikit-learn prototypes here.
// Usage (after npm run build): node research/peer/dump.mjs <seed> <containers> <startDay> <days> <out prefix> [concentration scale]
//   or: node research/peer/dump.mjs --options '<JSON of simulation options>' <out prefix>
import { createSimulation } from '../../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
const args = process.argv.slice(2);
const [opts, out] = args[0] === '--options'
  ? [JSON.parse(args[1]), args[2]]
  : [{ seed: +args[0], containers: +args[1], startDay: +args[2], days: +args[3], concentrationScale: args[5] ? +args[5] : 1 }, args[4]];
const containers = opts.containers;
mkdirSync(dirname(out), { recursive: true });
const sim = createSimulation(opts);
const nch = sim.channels.length; const S = 150;
const buf = new Float32Array(+containers * nch * S);
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
  meta.push({ label: t.label, day: t.day, idx: t.indexInDay, conc: t.concentrationsPpb, conf: t.confounders, reefer: t.reefer, faults: cycle.faults.length, phase: cycle.phaseFrames });
  c++;
}
writeFileSync(out + '.f32', Buffer.from(buf.buffer));
writeFileSync(out + '.json', JSON.stringify({ channels: sim.channels, S, meta }));
console.log('done', c);
