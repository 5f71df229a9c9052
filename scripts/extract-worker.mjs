// Worker thread of make-default-model.mjs: extracts the training cycles of a range of simulator days (the
// expensive half of extractTrainingSet) and posts them back; the main thread assembles the ranges in day order.
import { parentPort, workerData } from 'node:worker_threads';
import { createSimulation, simulationEvents } from '../dist/index.js';
import { extractRecordingCycles } from '../dist/engine/training.js'; // not in the public API

const { simulation, group, extractor } = workerData;
const part = extractRecordingCycles({ group, events: simulationEvents(createSimulation(simulation)) }, { extractor });
parentPort.postMessage(part, part.candidates.map((c) => c.features.buffer));
