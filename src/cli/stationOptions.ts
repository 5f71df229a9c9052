/**
 * The fleet options of `enose watch` and `enose serve`: `--mqtt <url> --station <id> [--spool <file>]
 * [--ack centre|broker] [--ack-timeout-s <s>] [--follow-models]`, turned into a station link (src/fleet/station.ts) that the command feeds its engine's events.
 */
import { resolve } from 'node:path';
import type { Engine } from '../engine/engine.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { EnoseError } from '../errors.js';
import { brokerAddress } from '../fleet/connection.js';
import { startStation, type StationEngine, type StationLink } from '../fleet/station.js';
import { MODEL_TRUST_OPTIONS, trustedKeysFromArgs } from './modelOption.js';
import type { STATION_OPTION } from './stationOption.js';
import { numberOption, stringOption, type CommandContext, type Parsed } from './args.js';
import type { HelpGroup, OptionTable } from './options.js';

export const FLEET_STATION_GROUP: HelpGroup = { title: 'Fleet options (MQTT; credentials from ENOSE_MQTT_USERNAME and ENOSE_MQTT_PASSWORD)' };

/** The fleet options; `--station` (stationOption.ts), which names the station's topics, is the command's own. */
export const STATION_OPTIONS = {
  mqtt: { type: 'string', value: 'url', description: 'publish verdicts, status and health to this broker (mqtt://host:1883)', group: FLEET_STATION_GROUP },
  spool: {
    type: 'string',
    value: 'file',
    description: 'the store-and-forward spool: verdicts wait here until they are acknowledged',
    default: './enose-spool/<station>.jsonl',
    group: FLEET_STATION_GROUP,
  },
  ack: {
    type: 'string',
    value: 'centre|broker',
    description:
      "who takes a verdict out of the spool: centre (end to end: enose fleet acks it once it is on the centre's disk; unacknowledged ones are sent again) or broker (its PUBACK: for a station without an enose fleet centre; a broker crash can lose verdicts)",
    default: 'centre',
    group: FLEET_STATION_GROUP,
  },
  'ack-timeout-s': {
    type: 'string',
    value: 's',
    description: 'send a verdict again when the centre has not acknowledged it after s seconds (doubling while the centre stays silent, up to 300 s)',
    default: '10',
    group: FLEET_STATION_GROUP,
  },
  'follow-models': {
    type: 'boolean',
    description:
      'run the model published (retained) on enose/models/<rig> (enose fleet publish-model): checked (hash, rig, channels; with --trusted-keys its signature too), switched between cycles',
    group: FLEET_STATION_GROUP,
  },
} as const satisfies OptionTable;

/** The station link the options ask for, or null without --mqtt. */
export function stationFromArgs(command: string, parsed: Parsed<typeof STATION_OPTIONS & typeof STATION_OPTION & typeof MODEL_TRUST_OPTIONS>, engine: StationEngine, ctx: CommandContext): StationLink | null {
  const url = stringOption(parsed, 'mqtt');
  const station = stringOption(parsed, 'station');
  const follow = parsed.values['follow-models'] === true;
  if (url === undefined) {
    if (follow || (['spool', 'ack', 'ack-timeout-s'] as const).some((o) => stringOption(parsed, o) !== undefined)) {
      throw new EnoseError('bad-usage', `--spool, --ack, --ack-timeout-s and --follow-models need --mqtt (see enose ${command} --help)`);
    }
    return null;
  }
  const ackFrom = stringOption(parsed, 'ack') ?? 'centre';
  if (ackFrom !== 'centre' && ackFrom !== 'broker') throw new EnoseError('bad-option', `--ack must be centre or broker, got "${ackFrom}"`);
  const ackTimeoutS = numberOption(command, parsed, 'ack-timeout-s', { above: 0, max: 3600 }) ?? 10;
  if (station === undefined) throw new EnoseError('bad-usage', `--mqtt needs --station <id> (see enose ${command} --help)`);
  const broker = brokerAddress(url);
  const spoolPath = resolve(stringOption(parsed, 'spool') ?? `enose-spool/${station}.jsonl`);
  return startStation({
    station,
    broker,
    spoolPath,
    engine,
    followModels: follow,
    trustedKeys: trustedKeysFromArgs(parsed),
    allowNoSuspiciousClass: parsed.values['allow-no-suspicious-class'] === true,
    ackFrom,
    ackTimeoutMs: ackTimeoutS * 1000,
    log: (line) => ctx.stderr(`enose ${command}: fleet: ${line}\n`),
  });
}

/** A StationEngine whose engine is attached once created (the link starts first, so that it sees every event). */
export function lateEngine(modelId: string): StationEngine & { attach(engine: Engine): void } {
  let engine: Engine | null = null;
  let held: ModelBundle | null = null;
  return {
    attach(created) {
      engine = created;
      try {
        if (held) created.setModel(held);
      } catch {
        // checked again against the rig when the roll-out is next delivered (every reconnect: it is retained)
      }
      held = null;
    },
    setModel(model) {
      if (engine) engine.setModel(model);
      else held = model;
    },
    modelId: () => engine?.modelId() ?? modelId,
    stats: () => engine?.stats() ?? { verdicts: 0 },
  };
}
