/**
 * SIGINT and SIGTERM in a batch command (evaluate, calibrate, replay): main.ts aborts the context's signal with
 * `new Error(<signal name>)`; the command checks it between files, during replays and before it writes anything,
 * and throws `StoppedBySignal`, which runCli turns into one line and exit 130 (SIGINT) or 143 (SIGTERM), as a
 * shell reports a process a signal ended. Nothing is written after the signal.
 */

export type StopSignalName = 'SIGINT' | 'SIGTERM';

/** The signal an abort stands for; SIGTERM for any other reason (a service manager's stop). */
export function stopSignalOf(signal: AbortSignal): StopSignalName {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.message === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

export class StoppedBySignal extends Error {
  override readonly name = 'StoppedBySignal';
  constructor(
    readonly signalName: StopSignalName,
    /** What was not done, e.g. `no model written`. */
    readonly outcome: string,
  ) {
    super(`stopped by ${signalName}: ${outcome}`);
  }

  get exitCode(): number {
    return this.signalName === 'SIGINT' ? 130 : 143;
  }
}

/** Throws StoppedBySignal when `signal` has been aborted. */
export function throwIfStopped(signal: AbortSignal | undefined, outcome: string): void {
  if (signal?.aborted) throw new StoppedBySignal(stopSignalOf(signal), outcome);
}
