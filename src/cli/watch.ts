/** `enose watch`: the live engine on a serial rig, with optional recording and unattended cycles. */
import { createEngine } from '../engine/engine.js';
import { EnoseError, formatIssue } from '../errors.js';
import { loadModel, MODEL_TRUST_OPTIONS, MODEL_TRUST_USAGE } from './modelOption.js';
import { stationOption } from './stationOption.js';
import { envArguments } from './envOptions.js';
import { commandLog, LOG_OPTIONS, LOG_USAGE, logFormatFromArgs } from './logger.js';
import { numberOption, parseCommand, requireString, stringOption, type Command, type OptionSpec } from './args.js';
import { liveRecorder } from './recordOption.js';
import { cycleEndFollower, EARLY_OPTIONS, EARLY_USAGE, earlyFromArgs } from './earlyOption.js';
import { adaptOptions, eventPrinter, writeAdapted } from './replay.js';
import { SERIAL_OPTIONS, SERIAL_USAGE, serialSourceFromArgs } from './serialOptions.js';
import { lateEngine, STATION_OPTIONS, STATION_USAGE, stationFromArgs } from './stationOptions.js';

const usage = `Usage: enose watch --port <path|auto> --model model.json [options]

Runs the streaming engine on a live rig: segments whatever sampling cycles the rig runs and prints a verdict
at the end of each exposure. The link may drop: the process stays up and reconnects (at most 5 s between tries).
SIGINT or SIGTERM stops it cleanly after flushing the recording.

Options:
  --model <file>         model file                                                  [required]
  --record <dir>         record every frame, the link events and the verdicts to a new folder
  --cycle-every <s>      start a cycle (START) every s seconds, for unattended runs
  --latency-budget-ms <ms>  verdict latency budget                                   [default: 5]
  --station <id>         the station each verdict names (field station)      [default: the rig's id]
                         with --mqtt also its topics enose/<id>/...         [required with --mqtt]
  --adapt                adaptation during operation: the scaler follows the slow drift of confidently
                         clear samples (guarded: suspicious or odd ones are ignored, steps and total capped);
                         each verdict carries how far it has moved; replay --adapt gives the same verdicts.
                         The unadapted model judges each sample too: what it flags is never cleared by
                         adaptation alone (inconclusive, adaptation-disagrees), and adaptation stops (event
                         adaptation-stopped) when it added alarms to over 2% of the last 200 samples: on the
                         container simulator it does so for every model measured (datasets/README.md)
  --adapted-out <file>   with --adapt: write the model as adaptation left it, at the end
  --json                 one engine event per line (all types), else one line per verdict and link event
${EARLY_USAGE}
${LOG_USAGE}
  -h, --help             this help

Every option can also come from the environment: ENOSE_<OPTION> (ENOSE_PORT, ENOSE_MODEL, ENOSE_STATION,
ENOSE_JSON=1, ENOSE_LOG_FORMAT, ...); the command line wins.

${MODEL_TRUST_USAGE}
${SERIAL_USAGE}
${STATION_USAGE}`;

/** The command's options; each also comes from ENOSE_<FLAG> in the environment (envOptions.ts). */
export const WATCH_OPTIONS: OptionSpec = {
  ...SERIAL_OPTIONS,
  ...STATION_OPTIONS,
  ...MODEL_TRUST_OPTIONS,
  model: { type: 'string' },
  record: { type: 'string' },
  'cycle-every': { type: 'string' },
  'latency-budget-ms': { type: 'string' },
  station: { type: 'string' },
  json: { type: 'boolean' },
  adapt: { type: 'boolean' },
  'adapted-out': { type: 'string' },
  ...EARLY_OPTIONS,
  ...LOG_OPTIONS,
};

export const watchCommand: Command = {
  name: 'watch',
  summary: 'run the engine live on a serial rig (verdicts as cycles end; --record to keep the data)',
  usage,
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
};
