/**
 * `createEngine`: runs a FrameSource through the engine core and hands out its events as an async iterable
 * (or to a listener). The embedding API of a scanner service.
 */
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { EngineEvent, FrameSource } from '../types.js';
import { EngineCore, type EngineCoreOptions } from './core.js';
import { EarlyEngineCore, type DrivenCore } from './earlyCore.js';
import type { EngineEarlyOption } from './earlyPlanSchema.js';
import { rigEnder } from './rigEnd.js';

export interface EngineOptions extends EngineCoreOptions {
  readonly model: ModelBundle;
  readonly source: FrameSource;
  /** Called synchronously for every event, before it is queued for the async iterator. */
  readonly onEvent?: (event: EngineEvent) => void;
  /** Queue events for `for await` consumers. Turn off when only `onEvent` is used. @default true */
  readonly queue?: boolean;
  /** Stops the engine as `close()` does when it aborts (a CLI's SIGINT). */
  readonly signal?: AbortSignal;
  /**
   * A verdict as soon as the evidence suffices (earlyCore.ts, docs/early-decision.md): the plan (e.g.
   * `SHIPPED_EARLY_PLAN`) and its checkpoints' models; `model` is its final model. An early verdict has
   * `early: true`, and the cycle gets no other. Refused with `adaptation`. @default none: one verdict a cycle, at
   * the model's own checkpoint
   */
  readonly early?: EngineEarlyOption;
  /**
   * With `early`: after an early verdict, tell a source that can (`canEndCycles`: serial, replay) to end the
   * cycle (`endCycle(verdict)`); its answer comes as a `cycle-end` event. @default true
   */
  readonly endCycles?: boolean;
}

export interface Engine extends AsyncIterable<EngineEvent> {
  /**
   * Starts a sampling cycle for a container: the next cycle the rig runs carries `sampleId`. Sends START to
   * the rig; rejects for a source that cannot send (a replay), an id the protocol cannot carry, or while the
   * rig's cycles are not judged (`stats().notJudging`: EnoseError('model-mismatch')).
   */
  startSample(sampleId: string): Promise<void>;
  /** Aborts the cycle in progress (STOP to the rig); the cycle's verdict is `inconclusive`, `cut-stopped`. */
  stopSample(): Promise<void>;
  /** Stops the source and ends the event stream. */
  close(): Promise<void>;
  /** Resolves when the source has ended and every event was delivered; rejects with the engine's error. */
  readonly done: Promise<void>;
  /** Counters for health and metrics; `notJudging` says why the rig's cycles are not judged now (null while they are). */
  stats(): { verdicts: number; overBudget: number; rig: string | null; notJudging: string | null };
  /**
   * Switches to another model at the next cycle start, never within a cycle (a fleet's model roll-out). Throws
   * EnoseError('model-mismatch') for a model this rig cannot run, 'bad-option' with adaptation on.
   */
  setModel(model: ModelBundle): void;
  /** The id of the model that judges the next cycle (after a setModel: once that cycle has started). */
  modelId(): string;
  /** The model that judges the next cycle (after a setModel: once that cycle has started). */
  model(): ModelBundle;
  /** With `adaptation` on: the model as adaptation has moved it, a bundle with its own id and lineage; else null. */
  adaptedModel(): ModelBundle | null;
}

const SAMPLE_ID = /^[\x21-\x7e]{1,64}$/;

export function createEngine(options: EngineOptions): Engine {
  const { source, model, onEvent } = options;
  const useQueue = options.queue ?? true;
  const queue: EngineEvent[] = [];
  let head = 0;
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  let failureThrown = false;
  const controller = new AbortController();

  const deliver = (event: EngineEvent) => {
    onEvent?.(event);
    if (useQueue) {
      queue.push(event);
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    }
  };
  const now = options.now ?? (() => performance.now());
  const onEarly = options.endCycles === false ? null : rigEnder(source, (e) => finished || deliver(e), now);
  const core: DrivenCore = options.early
    ? new EarlyEngineCore(model, options.early, options, deliver, onEarly ?? undefined)
    : new EngineCore(model, options, deliver);
  options.signal?.addEventListener('abort', () => controller.abort(options.signal!.reason), { once: true });
  const finish = (error: unknown) => {
    if (finished) return;
    finished = true;
    failure = error;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };

  const done = (async () => {
    // Let the caller attach listeners and iterators before the first event.
    await Promise.resolve();
    try {
      await source.run((event) => {
        if (finished) return;
        try {
          core.push(event);
        } catch (error) {
          finish(error);
          controller.abort(error);
        }
      }, controller.signal);
      if (!finished) core.end();
      finish(null);
    } catch (error) {
      finish(error);
    }
    if (failure) throw failure;
  })();
  // The error is also delivered through the iterator; do not let an unobserved `done` crash the process.
  done.catch(() => undefined);

  return {
    async startSample(sampleId: string) {
      if (!SAMPLE_ID.test(sampleId) || /[,;*$]/.test(sampleId)) {
        throw new EnoseError('bad-usage', `sample id must be 1 to 64 printable ASCII characters without , ; * $: ${JSON.stringify(sampleId)}`);
      }
      if (core.notJudging !== null) throw new EnoseError('model-mismatch', `not judging this rig: ${core.notJudging}`);
      core.requestSample(sampleId);
      await source.send({ command: 'START', sampleId });
    },
    async stopSample() {
      await source.send({ command: 'STOP' });
      core.stopped(performance.now());
    },
    async close() {
      controller.abort(new Error('closed'));
      await done.catch(() => undefined);
    },
    done,
    stats: () => ({ verdicts: core.verdicts, overBudget: core.overBudget, rig: core.rig?.rig ?? null, notJudging: core.notJudging }),
    adaptedModel: () => core.adaptedModel(),
    setModel: (next) => core.setModel(next),
    modelId: () => core.modelId ?? model.id,
    model: () => core.modelBundle ?? model,
    [Symbol.asyncIterator](): AsyncIterator<EngineEvent> {
      return {
        async next(): Promise<IteratorResult<EngineEvent>> {
          for (;;) {
            if (head < queue.length) {
              const value = queue[head++];
              if (head > 4096 && head * 2 > queue.length) {
                queue.splice(0, head);
                head = 0;
              }
              return { value, done: false };
            }
            if (finished) {
              if (failure && !failureThrown) {
                failureThrown = true;
                throw failure;
              }
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<EngineEvent>> {
          controller.abort(new Error('consumer stopped'));
          return { value: undefined, done: true };
        },
      };
    },
  };
}
