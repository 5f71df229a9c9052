/** `enose watch`: the live engine on a serial rig, with optional recording and unattended cycles. */
import { createEngine } from '../engine/engine.js';
import { EnoseError, formatIssue } from '../errors.js';
import { loadModel, MODEL_TRUST_OPTIONS } from './modelOption.js';
import { STATION_OPTION, stationOption } from './stationOption.js';
import { envArguments } from './envOptions.js';
import { commandLog, LOG_OPTIONS, logFormatFromArgs } from './logger.js';
import { defineCommand, numberOption, parseCommand, requireString, stringOption, type Command } from './args.js';
import type { OptionTable } from './options.js';
import { liveRecorder, RECORD_OPTION } from './recordOption.js';
import { cycleEndFollower, EARLY_OPTIONS, earlyFromArgs } from './earlyOption.js';
import { adaptOptions, eventPrinter, writeAdapted } from './replay.js';
import { SERIAL_OPTIONS, serialSourceFromArgs } from './serialOptions.js';
import { lateEngine, STATION_OPTIONS, stationFromArgs } from './stationOptions.js';

/** `--latency-budget-ms` of the live commands (watch, serve). */
export const LATENCY_BUDGET_OPTION = {
  'latency-budget-ms': { type: 'string', value: 'ms', description: 'verdict latency budget', default: '5' },
} as const satisfies OptionTable;

/** `enose watch`'s options, declared once (options.ts); each also comes from ENOSE_<FLAG> in the environment (envOptions.ts). */
export const WATCH_OPTIONS = {
  model: { type: 'string', value: 'file', description: 'model file', required: true },
  ...RECORD_OPTION,
  'cycle-every': { type: 'string', value: 's', description: 'start a cycle (START) every s seconds, for unattended runs' },
  ...LATENCY_BUDGET_OPTION,
  ...STATION_OPTION,
  adapt: {
    type: 'boolean',
    description:
      'adaptation during operation: the scaler follows the slow drift of confidently clear samples (guarded: suspicious or odd ones are ignored, steps and total capped); each verdict carries how far it has moved; replay --adapt gives the same verdicts. The unadapted model judges each sample too: what it flags is never cleared by adaptation alone (inconclusive, adaptation-disagrees), and adaptation stops (event adaptation-stopped) when it added alarms to over 2% of the last 200 samples: on the container simulator it does so for every model measured (datasets/README.md)',
  },
  'adapted-out': { type: 'string', value: 'file', description: 'with --adapt: write the model as adaptation left it, at the end' },
  json: { type: 'boolean', description: 'one engine event per line (all types), else one line per verdict and link event' },
  ...EARLY_OPTIONS,
  ...LOG_OPTIONS,
  ...MODEL_TRUST_OPTIONS,
  ...SERIAL_OPTIONS,
  ...STATION_OPTIONS,
} as const satisfies OptionTable;

export const watchCommand: Command = defineCommand({
  name: 'watch',
  summary: 'run the engine live on a serial rig (verdicts as cycles end; --record to keep the data)',
  usage: 'enose watch --port <path|auto> --model model.json [options]',
  about: `Runs the streaming engine on a live rig: segments whatever sampling cycles the rig runs and prints a verdict
at the end of each exposure. The link may drop: the process stays up and reconnects (at most 5 s between tries).
SIGINT or SIGTERM stops it cleanly after flushing the recording.`,
  options: WATCH_OPTIONS,
  main: {
    title: 'Options',
    after: `
Every option can also come from the environment: ENOSE_<OPTION> (ENOSE_PORT, ENOSE_MODEL, ENOSE_STATION,
ENOSE_JSON=1, ENOSE_LOG_FORMAT, ...); the command line wins.`,
  },
  async run(argv, plainCtx) {
    const env = plainCtx.env ?? {};
    const parsed = parseCommand('watch', [...envArguments('watch', WATCH_OPTIONS, argv, env), ...argv], WATCH_OPTIONS);
    const ctx = commandLog('watch', logFormatFromArgs(parsed), plainCtx, stringOption(parsed, 'station')).ctx;
    const adapt = adaptOptions(parsed);
    const model = loadModel(parsed, requireString('watch', parsed, 'model'));
    const early = earlyFromArgs('watch', parsed, model);
    const cycleEveryS = numberOption('watch', parsed, 'cycle-every', { above: 0 });
    const latencyBudgetMs = numberOption('watch', parsed, 'latency-budget-ms', { above: 0 }) ?? 5;
    const json = parsed.values['json'] === true;
    const source = await serialSourceFromArgs('watch', parsed, ctx);
    const recorder = liveRecorder('watch', stringOption(parsed, 'record'), model.id, source.description, ctx);
    const print = eventPrinter(ctx, json, 'watch');
    const followEnds = cycleEndFollower('watch', ctx, recorder);
    const slot = lateEngine(model.id);
    const station = stationFromArgs('watch', parsed, slot, ctx);
    const engine = createEngine({
      model: model,
      source,
      queue: false,
      signal: ctx.signal,
      latencyBudgetMs,
      ...stationOption(parsed),
      adaptation: adapt.on,
      ...early,
      emitFrames: json || recorder !== null,
      onEvent: (e) => {
        recorder?.write(e);
        followEnds(e);
        print(e);
        station?.onEvent(e);
      },
    });
    slot.attach(engine);
    let timer: NodeJS.Timeout | null = null;
    if (cycleEveryS !== undefined) {
      let n = 0;
      timer = setInterval(() => {
        const id = `auto-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${n++}`;
        engine.startSample(id).catch((error: unknown) => ctx.stderr(`enose watch: could not start a cycle: ${(error as Error).message}\n`));
      }, cycleEveryS * 1000);
    }
    try {
      await engine.done;
    } finally {
      if (timer) clearInterval(timer);
      await recorder?.close();
      await station?.close();
      writeAdapted('watch', adapt.out, engine, ctx);
    }
    return 0;
  },
});
