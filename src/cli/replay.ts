/** `enose replay`: runs a recording or a frames CSV through the same engine as live. */
import { createEngine, type Engine } from '../engine/engine.js';
import { EnoseError, formatIssue } from '../errors.js';
import { eventToJson } from '../io/eventJson.js';
import { writeModelFile } from '../io/modelFile.js';
import { loadModel, MODEL_TRUST_OPTIONS } from './modelOption.js';
import { throwIfStopped } from './stopSignal.js';
import { createReplaySource, type ReplaySpeed } from '../io/replay.js';
import type { EngineEvent, VerdictEvent } from '../types.js';
import { defineCommand, parseCommand, requireString, stringOption, type Command, type CommandContext, type Parsed } from './args.js';
import type { OptionTable } from './options.js';
import { DELIMITER_OPTION, delimiterOf } from './delimiterOption.js';
import { EARLY_OPTIONS, earlyFromArgs } from './earlyOption.js';

/** `enose replay`'s options, declared once (options.ts): the parser's and the help's. */
export const REPLAY_OPTIONS = {
  model: { type: 'string', value: 'file', description: 'model file', required: true },
  speed: { type: 'string', value: 's', description: 'max (as fast as possible), realtime, or a speed-up factor', default: 'max' },
  json: {
    type: 'boolean',
    description:
      'one engine event per line (every type: info, frame, issue, gap, state, phase, sample-started, verdict, over-budget, adaptation-stopped, rig-mismatch), else one readable line per verdict',
  },
  adapt: {
    type: 'boolean',
    description: 'adaptation during operation, as the live run had it (watch --adapt, with its watchdog): the same recording gives the same verdicts',
  },
  'adapted-out': { type: 'string', value: 'f', description: 'with --adapt: write the model as adaptation left it (its lineage names the parent)' },
  ...DELIMITER_OPTION,
  ...MODEL_TRUST_OPTIONS,
  ...EARLY_OPTIONS,
} as const satisfies OptionTable;

export function parseSpeed(raw: string | undefined): ReplaySpeed {
  if (raw === undefined || raw === 'max') return 'max';
  if (raw === 'realtime') return 'realtime';
  const factor = Number(raw);
  if (!(Number.isFinite(factor) && factor > 0)) throw new EnoseError('bad-option', `--speed must be max, realtime or a positive number, got "${raw}"`);
  return factor;
}

export function verdictText(v: VerdictEvent): string {
  const top = v.class === null ? 'no class' : `${v.class} (${((v.probabilities[v.class] ?? 0) * 100).toFixed(1)}%)`;
  const label = v.label !== undefined ? `  [label ${v.label}]` : '';
  const early = v.early === true ? `; early, at ${v.decidedAtS ?? '?'} s (${v.checkpoint ?? '?'})` : '';
  return `${v.sample}: ${v.verdict ?? 'class only'}, ${top}; ${v.reasons.join(', ')}; frames ${v.frames.first}..${v.frames.last} (${v.frames.count}); ${v.latencyMs.toFixed(3)} ms${early}${label}`;
}

export function otherEventText(e: EngineEvent): string | null {
  switch (e.type) {
    case 'issue':
      return `issue ${e.kind}${e.count === undefined ? '' : ` x${e.count}`}: ${e.detail}`;
    case 'gap':
      return `gap: ${e.lost} frame(s) lost (${e.fromSeq}..${e.toSeq})`;
    case 'state':
      return `link ${e.state}${e.detail ? `: ${e.detail}` : ''}`;
    case 'info':
      return `${e.reboot ? 'rig rebooted: ' : ''}rig ${e.rig} fw ${e.fw}, ${e.rateHz} Hz, ${e.channels.length} channels (${e.unit})`;
    case 'over-budget':
      return `over budget: ${e.sample} took ${e.latencyMs.toFixed(3)} ms (budget ${e.budgetMs} ms)`;
    case 'rig-changed':
      return `rig changed (${e.change}): ${e.judging ? 'judging' : 'NOT judging'}: ${e.reason}`;
    case 'cycle-end':
      return e.ended !== null
        ? `cycle ${e.sample} ended on the rig (${e.reason}; last frame ${e.ended.seq ?? '-'} in ${e.ended.phase ?? '-'})`
        : `cycle ${e.sample} not ended on the rig: ${e.issue?.kind ?? 'unknown'}`;
    case 'adaptation-stopped':
      return `adaptation stopped after ${e.sample}: ${e.addedAlarms} of the last ${e.watchSamples} samples flagged by the adapted model were clear for the parent (${e.accepted} clear samples accepted, largest shift ${e.largestShiftSd.toFixed(2)} sd); the parent model judges from now on`;
    default:
      return null;
  }
}

/** The output of the engine commands: one JSON line per event, or a readable line per verdict and link event. */
export function eventPrinter(ctx: CommandContext, json: boolean, command: string): (e: EngineEvent) => void {
  return (e) => {
    // The rig warning (once a run) is a warning line on stderr as well as an event of the stream.
    if (e.type === 'rig-mismatch') ctx.stderr(`enose ${command}: warning: ${e.message}\n`);
    // A live engine goes on and says why it stopped judging; a replay whose rig does not fit ends with that reason
    // as its one error line (and the event is in its output), so it gives no warning first.
    if (e.type === 'rig-changed' && !e.judging && command !== 'replay') ctx.stderr(`enose ${command}: warning: not judging: ${e.reason}\n`);
    if (json) {
      ctx.stdout(`${eventToJson(e)}\n`);
      return;
    }
    const text = e.type === 'verdict' ? verdictText(e) : otherEventText(e);
    if (text) ctx.stdout(`${text}\n`);
  };
}

/** `--adapt` and `--adapted-out` of replay and watch. */
export function adaptOptions(parsed: Parsed<typeof REPLAY_OPTIONS>): { on: boolean; out: string | undefined } {
  const on = parsed.values['adapt'] === true;
  const out = stringOption(parsed, 'adapted-out');
  if (out !== undefined && !on) throw new EnoseError('bad-option', '--adapted-out needs --adapt');
  return { on, out };
}

/** Writes the adapted model when asked (atomically), and says where on stderr. */
export function writeAdapted(command: string, out: string | undefined, engine: Engine, ctx: CommandContext): void {
  if (out === undefined) return;
  const adapted = engine.adaptedModel();
  if (!adapted) return;
  writeModelFile(out, adapted);
  ctx.stderr(`enose ${command}: adapted model ${adapted.id} (${adapted.lineage?.method ?? 'adapted'}) written to ${out}\n`);
}

export const replayCommand: Command = defineCommand({
  name: 'replay',
  summary: 'run a recording or frames CSV through the engine, as live',
  usage: 'enose replay <recording dir | frames.csv | recordings> --model model.json [--speed max|realtime|<factor>] [--json]',
  about: `Runs a recording (a folder written by enose watch --record) or a frames CSV through the streaming engine with
the model, exactly as live: the same cycles, the same features, the same verdicts. Link events the recording
saw (issues, gaps, disconnects, reboots) are replayed at the same place.`,
  options: REPLAY_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('replay', argv, REPLAY_OPTIONS);
    const adapt = adaptOptions(parsed);
    if (parsed.positionals.length !== 1) throw new EnoseError('bad-usage', 'give one recording folder or frames CSV (see enose replay --help)');
    const modelPath = requireString('replay', parsed, 'model');
    const model = loadModel(parsed, modelPath);
    const early = earlyFromArgs('replay', parsed, model);
    const input = model.input;
    const baselineS = input.kind === 'frames' ? input.extractor.baselineS : 30;
    const source = await createReplaySource(parsed.positionals[0], { speed: parseSpeed(stringOption(parsed, 'speed')), baselineS, delimiter: delimiterOf(parsed) });
    throwIfStopped(ctx.signal, 'nothing judged');
    if (!source.ok) throw EnoseError.fromIssue('bad-data', source.error);
    for (const w of source.value.warnings) ctx.stderr(`enose replay: warning: ${formatIssue(w)}\n`);
    const json = parsed.values['json'] === true;
    let verdicts = 0;
    let unjudged: string | null = null;
    const print = eventPrinter(ctx, json, 'replay');
    const engine = createEngine({
      model: model,
      source: source.value,
      queue: false,
      signal: ctx.signal,
      emitFrames: json,
      adaptation: adapt.on,
      ...early,
      onEvent: (e) => {
        if (e.type === 'verdict') verdicts++;
        if (e.type === 'rig-changed' && !e.judging) unjudged ??= e.reason;
        print(e);
      },
    });
    await engine.done;
    throwIfStopped(ctx.signal, `${verdicts} verdict(s) printed; no adapted model written`);
    // Offline, a recording the model could judge nowhere is a wrong model for it (the live engine stays up instead).
    if (unjudged !== null && verdicts === 0) throw new EnoseError('model-mismatch', `${parsed.positionals[0]}: ${unjudged}`);
    writeAdapted('replay', adapt.out, engine, ctx);
    if (!json) ctx.stdout(`${verdicts} verdict(s) from ${source.value.frameCount} frames\n`);
    return 0;
  },
});
