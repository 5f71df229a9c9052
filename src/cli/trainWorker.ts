/**
 * Worker thread of `enose train` (trainRunner.ts): runs one job and posts its stderr text, then the outcome or
 * the error. The command's thread stays free to stop it on SIGINT or SIGTERM.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainJob } from './trainJob.js';
import type { TrainWorkerMessage } from './trainRunner.js';

const post = (message: TrainWorkerMessage) => parentPort!.postMessage(message);
try {
  // Imported here, not at the top, so that a failure to load is reported as a message too.
  const { runTrainJob } = await import('./trainJob.js');
  const { EnoseError } = await import('../errors.js');
  try {
    const outcome = await runTrainJob(workerData as TrainJob, (text) => post({ type: 'say', text }));
    post({ type: 'done', outcome });
  } catch (error) {
    if (error instanceof EnoseError) post({ type: 'error', code: error.code, message: error.message });
    else throw error;
  }
} catch (error) {
  post({ type: 'internal', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? '') : '' });
}
