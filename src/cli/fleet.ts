/** `enose fleet`: the central service of a fleet of stations over MQTT, and `enose fleet publish-model`. */
import { connect } from 'mqtt';
import { gzipSync } from 'node:zlib';
import { EnoseError, formatIssue } from '../errors.js';
import { startFleetCentre } from '../fleet/centre.js';
import { brokerAddress, clientOptions } from '../fleet/connection.js';
import { STATION_ID, topics, type Rollout } from '../fleet/message.js';
import { readSignatureFile } from '../io/keyFiles.js';
import { readModelFile } from '../io/modelFile.js';
import { signatureFor } from '../model/runtime/signature.js';
import { isLoopbackAddress } from '../service/auth.js';
import { defineCommand, numberOption, parseCommand, requireString, stringOption, type Command, type CommandContext, type Parsed } from './args.js';
import type { OptionTable } from './options.js';
import { envArguments } from './envOptions.js';
import { ACCESS_LOG_OPTION, commandLog, LOG_OPTIONS, logFormatFromArgs } from './logger.js';
import { parseListen } from './serve.js';
import { SSE_OPTIONS, sseLimitsFromArgs } from './sseOptions.js';
import { TOKEN_OPTIONS, tokenFromArgs } from './tokenOption.js';


/** `enose fleet`'s options, declared once (options.ts); each also comes from ENOSE_<FLAG> in the environment (envOptions.ts). */
export const FLEET_OPTIONS = {
  mqtt: { type: 'string', value: 'url', description: 'the broker (mqtt://127.0.0.1:1883)', required: true },
  listen: { type: 'string', value: 'host:port', description: 'address of the page and API; port 0 picks one', default: '127.0.0.1:8090' },
  data: { type: 'string', value: 'dir', description: "the centre's log", default: './enose-fleet' },
  keep: { type: 'string', value: 'n', description: 'verdicts kept in memory per station', default: '50' },
  'client-id': { type: 'string', value: 'id', description: "MQTT client id of the centre's persistent session", default: 'enose-fleet-centre' },
  ...TOKEN_OPTIONS,
  ...SSE_OPTIONS,
  rig: { type: 'string', value: 'id', description: 'publish-model: the rig the model is for' },
  signature: { type: 'string', value: 'file', description: "publish-model: the model's signature", default: '<model>.sig' },
  'allow-no-suspicious-class': { type: 'boolean', description: 'publish-model: publish a model whose policy makes no class suspicious' },
  ...ACCESS_LOG_OPTION,
  ...LOG_OPTIONS,
} as const satisfies OptionTable;

export const fleetCommand: Command = defineCommand({
  name: 'fleet',
  summary: 'the central service of a fleet of stations over MQTT (page, API, SSE, metrics); publish-model',
  usage: `enose fleet --mqtt <url> [--listen <host:port>] [--data <dir>] [options]
       enose fleet publish-model <model.json[.gz]> --rig <id> --mqtt <url>`,
  about: `The central service of a fleet of stations (enose watch|serve --mqtt <url> --station <id>): subscribes to
enose/+/verdict, enose/+/status and enose/+/health, writes every distinct verdict and status to an append-only
log in --data before acknowledging it to the broker (so it survives a restart of the centre; duplicates are
dropped by message id), and serves:

  GET /                              the fleet page: stations, their state and model, containers to hold
  GET /v1/stations[/<id>]            stations
  GET /v1/stations/<id>/verdicts     a station's last verdicts (the last --keep in memory; all in the log)
  GET /v1/holds                      containers to hold (suspicious) or re-sample (inconclusive)
  GET /v1/events                     server-sent events: verdict, status, health
  GET /v1/health, /metrics           health (503 while the broker is unreachable), Prometheus metrics
  GET /login?token=<secret>          with --token: a session cookie for the page

publish-model publishes a model (retained, QoS 1) on enose/models/<rig>, with its signature (<model>.sig, or
--signature <file>; enose sign) when it has one: stations on that rig started with --follow-models check it
(hash, rig, channels; with --trusted-keys the signature too) and switch to it between cycles.

Access is that of enose serve: without --token everything is open (it listens on loopback by default); with
it the API needs "Authorization: Bearer <secret>", and the page, /v1/stations, /v1/holds, /v1/events and
/v1/health also take the session cookie of GET /login?token=<secret>. A loopback listener refuses (403) a
request whose Host header is not a loopback name.

Credentials come from ENOSE_MQTT_USERNAME and ENOSE_MQTT_PASSWORD. SIGINT or SIGTERM stops it cleanly.
Every option can also come from the environment: ENOSE_<OPTION> (ENOSE_MQTT, ENOSE_LISTEN, ENOSE_DATA,
ENOSE_KEEP, ENOSE_CLIENT_ID, ENOSE_TOKEN, ENOSE_RIG, ENOSE_ACCESS_LOG=1, ENOSE_LOG_FORMAT); the command
line wins.

Each verdict the centre has written to its log is acknowledged to its station on enose/<station>/ack
(QoS 1): a station started with --ack centre (the default) keeps a verdict in its spool until then.`,
  options: FLEET_OPTIONS,
  async run(argv, plainCtx) {
    const parsed = parseCommand('fleet', [...envArguments('fleet', FLEET_OPTIONS, argv, plainCtx.env ?? {}, [['token', 'token-file']]), ...argv], FLEET_OPTIONS);
    const log = commandLog('fleet', logFormatFromArgs(parsed), plainCtx);
    const ctx = log.ctx;
    const broker = brokerAddress(requireString('fleet', parsed, 'mqtt'));
    const [sub, ...rest] = parsed.positionals;
    if (sub === 'publish-model') return publishModel(rest, parsed, broker, ctx);
    if (sub !== undefined) throw new EnoseError('bad-usage', `unexpected argument "${sub}" (see enose fleet --help)`);
    const listen = parseListen(stringOption(parsed, 'listen') ?? '127.0.0.1:8090');
    const keep = numberOption('fleet', parsed, 'keep', { integer: true, min: 1, max: 100_000 }) ?? 50;
    const dataDir = stringOption(parsed, 'data') ?? 'enose-fleet';
    const sse = sseLimitsFromArgs('fleet', parsed);
    const token = tokenFromArgs('fleet', parsed); // or ENOSE_TOKEN / ENOSE_TOKEN_FILE, as every flag (envOptions.ts)
    if (token === null && !isLoopbackAddress(listen.host)) {
      ctx.stderr(`enose fleet: warning: listening on ${listen.host} without --token: anyone who reaches this address can read the fleet's verdicts\n`);
    }
    let centre;
    try {
      centre = await startFleetCentre({
        broker,
        dataDir,
        host: listen.host,
        port: listen.port,
        token,
        recentPerStation: keep,
        ...sse,
        clientId: stringOption(parsed, 'client-id') ?? 'enose-fleet-centre',
        log: (line) => ctx.stderr(`enose fleet: ${line}\n`),
        ...(parsed.values['access-log'] === true && { accessLog: log.access }),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new EnoseError('bad-option', `cannot listen on ${listen.host}:${listen.port}: ${code}`);
      throw error;
    }
    ctx.stdout(`enose fleet: listening on ${centre.url} (broker ${broker.url}, data ${dataDir}, ${centre.state.stations.size} station(s) and ${centre.state.received} verdict(s) from the log${token !== null ? ', token required' : ''})\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await centre.close();
    ctx.stderr('enose fleet: stopped\n');
    return 0;
  },
});

async function publishModel(files: string[], parsed: Parsed<typeof FLEET_OPTIONS>, broker: ReturnType<typeof brokerAddress>, ctx: CommandContext): Promise<number> {
  const rig = stringOption(parsed, 'rig');
  if (files.length !== 1) throw new EnoseError('bad-usage', 'publish-model takes one model file (see enose fleet --help)');
  if (rig === undefined || !STATION_ID.test(rig)) throw new EnoseError('bad-usage', 'publish-model needs --rig <id> (letters, digits, . _ -)');
  const model = readModelFile(files[0], { allowNoSuspiciousClass: parsed.values['allow-no-suspicious-class'] === true });
  if (!model.ok) throw new EnoseError('bad-model', formatIssue(model.error));
  const signaturePath = stringOption(parsed, 'signature') ?? `${files[0]}.sig`;
  const signature = readSignatureFile(signaturePath);
  if (!signature.ok) throw new EnoseError('bad-model', formatIssue(signature.error));
  if (signature.value === undefined && stringOption(parsed, 'signature') !== undefined) throw new EnoseError('bad-option', `${signaturePath}: no such file`);
  // A signature for another model would only be refused by every station: say so here.
  if (signature.value !== undefined) {
    const self = signatureFor(model.value, signature.value);
    if (!self.ok) throw new EnoseError('bad-model', `${signaturePath}: ${self.error}`);
  }
  const rollout: Rollout = {
    kind: 'enose-model-rollout',
    rig,
    publishedAt: new Date().toISOString(),
    model: model.value,
    ...(signature.value !== undefined && { signature: signature.value }),
  };
  const payload = gzipSync(JSON.stringify(rollout), { level: 9 });
  const client = connect(broker.url, clientOptions(broker, `enose-publish-${process.pid}`, { reconnectPeriod: 0 }));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    await client.publishAsync(topics.model(rig), payload, { qos: 1, retain: true });
  } catch (error) {
    throw new EnoseError('bad-option', `cannot publish to ${broker.url}: ${(error as Error).message}`);
  } finally {
    await client.endAsync(true);
  }
  const signed = signature.value === undefined ? 'unsigned' : 'signed';
  ctx.stdout(`enose fleet: model ${model.value.id} published (retained, ${signed}) on ${topics.model(rig)} (${payload.length} bytes)\n`);
  return 0;
}
