/**
 * Runs a training job (trainJob.ts) on a worker thread, so that SIGINT and SIGTERM stop it at once whatever loop
 * it is in (a PCA, a fold, an MLP epoch): the command's thread only waits, relays the worker's stderr text, and on
 * the abort signal terminates the worker, which ends the MLP threads it started with it. Nothing is written: the
 * model file is the command's to write after a finished job. Run from sources (no compiled worker), the job runs
 * on this thread and a signal is honoured when it ends.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EnoseError, type EnoseErrorCode } from '../errors.js';
import { runTrainJob, type TrainJob, type TrainOutcome } from './trainJob.js';

/** Messages of trainWorker.ts. */
export type TrainWorkerMessage =
  | { readonly type: 'say'; readonly text: string }
  | { readonly type: 'done'; readonly outcome: TrainOutcome }
  | { readonly type: 'error'; readonly code: EnoseErrorCode; readonly message: string }
  | { readonly type: 'internal'; readonly message: string; readonly stack: string };

/** The job's outcome, or the signal that stopped it. */
export type TrainRun = { readonly ok: true; readonly outcome: TrainOutcome } | { readonly ok: false; readonly stoppedBy: 'SIGINT' | 'SIGTERM' };

/** The signal an abort stands for (main.ts aborts with `new Error(<signal name>)`). */
function signalOf(signal: AbortSignal): 'SIGINT' | 'SIGTERM' {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.message === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

export async function runTraining(job: TrainJob, say: (text: string) => void, signal: AbortSignal): Promise<TrainRun> {
  if (signal.aborted) return { ok: false, stoppedBy: signalOf(signal) };
  const url = new URL('./trainWorker.js', import.meta.url);
  if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) {
    const outcome = await runTrainJob(job, say);
    return signal.aborted ? { ok: false, stoppedBy: signalOf(signal) } : { ok: true, outcome };
  }
  const worker = new Worker(url, { workerData: job });
  return new Promise<TrainRun>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () => settle(() => void worker.terminate().then(() => resolve({ ok: false, stoppedBy: signalOf(signal) }), reject));
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: TrainWorkerMessage) => {
      if (settled) return;
      if (message.type === 'say') say(message.text);
      else if (message.type === 'done') settle(() => resolve({ ok: true, outcome: message.outcome }));
      else if (message.type === 'error') settle(() => reject(new EnoseError(message.code, message.message)));
      else settle(() => reject(Object.assign(new Error(message.message), { stack: message.stack })));
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      settle(() => reject(outOfMemory ? new EnoseError('bad-data', 'the training ran out of memory: lower --max-rows or --max-values, or train on less data') : error));
    });
    worker.on('exit', (code) => settle(() => reject(new Error(`the training worker stopped (exit code ${code}) before it finished`))));
  }).finally(() => void worker.terminate());
}
