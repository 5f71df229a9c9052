/**
 * A live run's cycles, one START after the other: the verdict, then the rig idle again after the cycle (ended early
 * or not), then, for an early verdict, its cycle-end event (unless the rig cannot end cycles: `--no-end-command`).
 */
import type { EngineEvent } from '../../src/types.js';
import { waitFor } from './pty.js';

export async function runCyclesOneByOne(engine: { startSample(id: string): Promise<unknown> }, events: readonly EngineEvent[], cycles: number, rigEndsCycles = true): Promise<void> {
  const frames = () => events.filter((e): e is Extract<EngineEvent, { type: 'frame' }> => e.type === 'frame');
  const verdictOf = (id: string) => events.find((e): e is Extract<EngineEvent, { type: 'verdict' }> => e.type === 'verdict' && e.sample === id);
  for (let k = 0; k < cycles; k++) {
    const id = `C-${k}`;
    const mark = frames().length;
    await engine.startSample(id);
    await waitFor(() => verdictOf(id) !== undefined, `the verdict on ${id}`, 60_000);
    await waitFor(() => frames().slice(mark).some((f, i, fs) => f.phase === 'I' && i > 0 && fs[i - 1]!.phase === 'R'), `idle after ${id}`, 60_000);
    if (verdictOf(id)!.early) await waitFor(() => !rigEndsCycles || events.some((e) => e.type === 'cycle-end' && e.sample === id), `the cycle-end of ${id}`);
  }
}
