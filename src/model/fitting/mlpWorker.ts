/**
 * Worker thread of `fitMlp` with `threads` > 1: trains one network of the ensemble on the rows in shared
 * memory and posts each epoch's progress and the network back (see trainOnThreads in mlp.ts). The main thread
 * sleeps on `signal`, so every message is followed by a bump of it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { MlpWorkerMessage, mlpSettings } from './mlp.js';

interface Job {
  readonly scores: Float64Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly dimensions: number;
  readonly classCount: number;
  readonly settings: ReturnType<typeof mlpSettings>;
  readonly network: number;
  readonly port: MessagePort;
  readonly signal: Int32Array;
}

const job = workerData as Job;
const post = (message: MlpWorkerMessage) => {
  job.port.postMessage(message);
  Atomics.add(job.signal, 0, 1);
  Atomics.notify(job.signal, 0);
};
try {
  // Imported here, not at the top, so that a failure to load is reported as a message too.
  const { trainNetwork } = await import('./mlp.js');
  const network = trainNetwork(job, job.settings, job.network, (_n, epoch, loss, accuracy) => post({ type: 'epoch', epoch, loss, accuracy }));
  post({ type: 'done', network });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
