/** `enose serve`: the engine behind an HTTP API, with the operator page, on a rig or a replayed recording. */
import { EnoseError, formatIssue } from '../errors.js';
import { loadModel, MODEL_TRUST_GROUP, MODEL_TRUST_OPTIONS } from './modelOption.js';
import { isLoopbackAddress } from '../service/auth.js';
import { openReplayRig } from '../io/replayRig.js';
import { startScannerService } from '../service/server.js';
import type { FrameSource } from '../types.js';
import { STATION_OPTION, stationOption } from './stationOption.js';
import { SSE_OPTIONS, sseLimitsFromArgs } from './sseOptions.js';
import { TOKEN_OPTIONS, tokenFromArgs } from './tokenOption.js';
import { envArguments } from './envOptions.js';
import { ACCESS_LOG_OPTION, commandLog, LOG_OPTIONS, logFormatFromArgs } from './logger.js';
import { defineCommand, numberOption, parseCommand, requireString, stringOption, type Command } from './args.js';
import type { HelpGroup, OptionTable } from './options.js';
import { liveRecorder, RECORD_OPTION } from './recordOption.js';
import { cycleEndFollower, EARLY_OPTIONS, earlyFromArgs } from './earlyOption.js';
import { otherEventText, parseSpeed, verdictText } from './replay.js';
import { SERIAL_CSV_GROUP, SERIAL_GROUP, SERIAL_OPTIONS, serialSourceFromArgs } from './serialOptions.js';
import { FLEET_STATION_GROUP, lateEngine, STATION_OPTIONS, stationFromArgs } from './stationOptions.js';
import { LATENCY_BUDGET_OPTION } from './watch.js';

/** `host:port`, `[v6]:port`, `:port` or `port` (host 127.0.0.1). Throws EnoseError('bad-option'). */
export function parseListen(raw: string): { host: string; port: number } {
  const bad = () => new EnoseError('bad-option', `--listen must be host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got "${raw}"`);
  let host = '127.0.0.1';
  let portText = raw;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(raw);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (raw.includes(':')) {
    const at = raw.lastIndexOf(':');
    host = raw.slice(0, at) || host;
    portText = raw.slice(at + 1);
    if (host.includes(':')) throw bad();
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad();
  const port = Number(portText);
  if (port > 65535) throw bad();
  return { host, port };
}

const SOURCE_GROUP: HelpGroup = { title: 'Source (one of)' };
const { required: _portRequired, ...servePort } = SERIAL_OPTIONS.port;

/** `enose serve`'s options, declared once (options.ts); each also comes from ENOSE_<FLAG> in the environment (envOptions.ts). */
export const SERVE_OPTIONS = {
  ...SERIAL_OPTIONS,
  port: { ...servePort, description: 'serial device of the rig, or auto (see enose watch --help)', group: SOURCE_GROUP },
  replay: {
    type: 'string',
    value: 'path',
    description: "a recording folder or frames CSV acting as the rig: each START plays its next cycle (from the first again after the last); verdicts equal enose replay's",
    group: SOURCE_GROUP,
  },
  speed: { type: 'string', value: 's', description: 'replay pace: realtime, max or a speed-up factor', default: 'realtime', group: SOURCE_GROUP },
  model: { type: 'string', value: 'file', description: 'model file', required: true },
  listen: { type: 'string', value: 'host:port', description: 'address to listen on; port 0 picks a free one', default: '127.0.0.1:8080' },
  ...TOKEN_OPTIONS,
  ...SSE_OPTIONS,
  ...RECORD_OPTION,
  ...LATENCY_BUDGET_OPTION,
  ...STATION_OPTION,
  ...ACCESS_LOG_OPTION,
  ...LOG_OPTIONS,
  'start-timeout-s': { type: 'string', value: 's', description: 'a requested cycle the rig has not started by then fails', default: '15' },
  ...EARLY_OPTIONS,
  ...MODEL_TRUST_OPTIONS,
  ...STATION_OPTIONS,
} as const satisfies OptionTable;

const SERVE_MAIN: HelpGroup = {
  title: 'Options',
  after: `
Every option can also come from the environment: ENOSE_<OPTION> (ENOSE_MODEL, ENOSE_REPLAY, ENOSE_PORT,
ENOSE_LISTEN, ENOSE_TOKEN_FILE, ENOSE_TOKEN, ENOSE_STATION, ENOSE_ACCESS_LOG=1, ENOSE_LOG_FORMAT=json, ...);
the command line wins. ENOSE_PORT and ENOSE_REPLAY are used only when neither --port nor --replay is given,
ENOSE_TOKEN and ENOSE_TOKEN_FILE only when neither --token nor --token-file is.`,
};

export const serveCommand: Command = defineCommand({
  name: 'serve',
  summary: 'run the engine behind an HTTP API with a live operator page (a rig or a replayed recording)',
  usage: 'enose serve (--port <path|auto> | --replay <recording|frames.csv>) --model model.json [options]',
  about: `Runs the streaming engine and an HTTP server in one process: a scanner service posts a container id to start
a sampling cycle and reads its verdict; an operator watches the live page. SIGINT or SIGTERM stops it cleanly.

  POST /v1/samples {"containerId": "MSCU1234567"}   start a cycle: 202 + its id; 409 while one runs
  GET  /v1/samples/<id>[?waitS=30]                   the verdict when ready (200), 202 while pending
  GET  /v1/events                                    engine events as server-sent events
  GET  /v1/health, /metrics (Prometheus), /          health, metrics, the operator page`,
  options: SERVE_OPTIONS,
  main: SERVE_MAIN,
  groups: [SOURCE_GROUP, SERVE_MAIN, SERIAL_GROUP, SERIAL_CSV_GROUP, MODEL_TRUST_GROUP, FLEET_STATION_GROUP],
  async run(argv, plainCtx) {
    const env = plainCtx.env ?? {};
    const parsed = parseCommand('serve', [...envArguments('serve', SERVE_OPTIONS, argv, env, [['port', 'replay'], ['token', 'token-file']]), ...argv], SERVE_OPTIONS);
    const log = commandLog('serve', logFormatFromArgs(parsed), plainCtx, stringOption(parsed, 'station'));
    const ctx = log.ctx;
    if (parsed.positionals.length > 0) throw new EnoseError('bad-usage', `unexpected argument "${parsed.positionals[0]}" (see enose serve --help)`);
    const replayPath = stringOption(parsed, 'replay');
    const portGiven = stringOption(parsed, 'port') !== undefined;
    if ((replayPath !== undefined) === portGiven) throw new EnoseError('bad-usage', 'give one of --port or --replay (see enose serve --help)');
    const model = loadModel(parsed, requireString('serve', parsed, 'model'));
    const early = earlyFromArgs('serve', parsed, model);
    const listen = parseListen(stringOption(parsed, 'listen') ?? '127.0.0.1:8080');
    const token = tokenFromArgs('serve', parsed); // or ENOSE_TOKEN / ENOSE_TOKEN_FILE, as every flag (envOptions.ts)
    const { maxSseClients, sseStallS } = sseLimitsFromArgs('serve', parsed);
    const latencyBudgetMs = numberOption('serve', parsed, 'latency-budget-ms', { above: 0 }) ?? 5;
    const startTimeoutS = numberOption('serve', parsed, 'start-timeout-s', { above: 0 }) ?? 15;
    const input = model.input;
    const baselineS = input.kind === 'frames' ? input.extractor.baselineS : 30;

    let source: FrameSource;
    if (replayPath !== undefined) {
      const speed = parseSpeed(stringOption(parsed, 'speed') ?? 'realtime');
      const opened = await openReplayRig(replayPath, { speed, baselineS });
      if (!opened.ok) throw EnoseError.fromIssue('bad-data', opened.error);
      for (const w of opened.value.warnings) ctx.stderr(`enose serve: warning: ${formatIssue(w)}\n`);
      const rig = opened.value.rig;
      ctx.stderr(`enose serve: replaying ${rig.cycleCount} cycle(s) of ${replayPath}, one per request\n`);
      source = rig;
    } else {
      source = await serialSourceFromArgs('serve', parsed, ctx);
    }
    if (token === null && !isLoopbackAddress(listen.host)) {
      ctx.stderr(`enose serve: warning: listening on ${listen.host} without --token: anyone who reaches this address can start cycles\n`);
    }

    const recorder = liveRecorder('serve', stringOption(parsed, 'record'), model.id, source.description, ctx);

    const followEnds = cycleEndFollower('serve', ctx, recorder);
    const slot = lateEngine(model.id);
    const station = stationFromArgs('serve', parsed, slot, ctx);
    let service;
    try {
      service = await startScannerService({
        model: model,
        source,
        host: listen.host,
        port: listen.port,
        token,
        maxSseClients,
        sseStallS,
        latencyBudgetMs,
        ...stationOption(parsed),
        ...early,
        ...(parsed.values['access-log'] === true && { accessLog: log.access }),
        startTimeoutMs: startTimeoutS * 1000,
        onEvent: (e) => {
          recorder?.write(e);
          followEnds(e);
          // Once a run: also on the event stream (/v1/events, type rig-mismatch) for the page and clients.
          if (e.type === 'rig-mismatch') ctx.stderr(`enose serve: warning: ${e.message}\n`);
          if (e.type === 'rig-changed' && !e.judging) ctx.stderr(`enose serve: warning: not judging: ${e.reason}\n`);
          station?.onEvent(e);
          if (e.type === 'verdict') {
            ctx.stdout(`${verdictText(e)}\n`);
          } else if (e.type !== 'frame') {
            const text = otherEventText(e);
            if (text) ctx.stdout(`${text}\n`);
          }
        },
      });
    } catch (error) {
      await recorder?.close();
      await station?.close({ waitMs: 0 });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new EnoseError('bad-option', `cannot listen on ${listen.host}:${listen.port}: ${code}`);
      }
      throw error;
    }
    slot.attach(service.engine);
    ctx.stdout(`enose serve: listening on ${service.url} (model ${model.id}, ${source.description}${token !== null ? ', token required' : ''})\n`);
    const stop = () => void service.close();
    ctx.signal.addEventListener('abort', stop);
    if (ctx.signal.aborted) stop(); // SIGTERM during the start (model warm-up, replay loading): stop now
    try {
      await service.done;
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      await service.close();
      await recorder?.close();
      await station?.close();
    }
    ctx.stderr('enose serve: stopped\n');
    return 0;
  },
});
