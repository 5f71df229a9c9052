// prints each unit's tauRiseS/8 (the tau multiplier j) and env coefficients of the seed-1 rig (reference only)
import { createSimulation } from '../../dist/index.js';
const sim = createSimulation({ seed: 1, containers: 1 });
console.log(JSON.stringify(sim.rig.units.map(u => [u.channel, +(u.tauRiseS / 8).toFixed(4), +u.humidityLnPerPct.toFixed(5), +u.temperatureLnPerC.toFixed(5), +u.whiteNoise.toFixed(5), +u.flickerNoise.toFixed(5)])));
