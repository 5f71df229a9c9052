// Worker thread of make-default-model.mjs: takes simulator days from the main thread one at a time (a queue: a
// worker that finishes early takes the next day), simulates each and extracts its training cycles as it goes
// (no frame and no day's recording is kept: the engine core reads each frame at once from one reused buffer),
// and sends back only the packed feature rows, their buffers transferred (trainingRows.ts).
import { parentPort } from 'node:worker_threads';
import { createSimulation, simulationEvents } from '../dist/index.js';
import { extractRecordingRows, packedBuffers } from '../dist/engine/trainingRows.js'; // not in the public API

parentPort.on('message', ({ job, simulation, group, extractor }) => {
  const events = simulationEvents(createSimulation(simulation), { reuse: true });
  const rows = extractRecordingRows({ group, events }, { extractor }, simulation.containers);
  parentPort.postMessage({ job, rows }, packedBuffers(rows));
});
