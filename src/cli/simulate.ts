/** `enose simulate`: writes simulated container cycles as a recording folder with its ground truth. */
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EnoseError } from '../errors.js';
import { formatFramesCsvRow, framesCsvHeader } from '../io/datasets/framesCsv.js';
import { writeFileAtomic } from '../io/files.js';
import { FRAMES_FILE_MAX_BYTES, RECORDING_ENGINE_VERSION, RECORDING_FORMAT, RECORDING_FORMAT_VERSION } from '../io/recording.js';
import { simulatedRigInfo } from '../sim/events.js';
import { createSimulation } from '../sim/simulate.js';
import { defineCommand, numberOption, parseCommand, requireString, stringOption, type Command } from './args.js';
import type { OptionTable } from './options.js';
import { createProgress } from './progress.js';

/** `enose simulate`'s options, declared once (options.ts): the parser's and the help's. */
export const SIMULATE_OPTIONS = {
  containers: { type: 'string', value: 'n', description: 'container cycles', required: true },
  seed: { type: 'string', value: 's', description: 'seed of everything drawn', required: true },
  out: { type: 'string', value: 'dir', description: 'folder to create (must not exist)', required: true },
  days: { type: 'string', value: 'd', description: 'containers spread over this many days', default: '1' },
  'start-day': { type: 'string', value: 'd', description: 'first day since the sensors were installed', default: '1' },
  'rig-id': {
    type: 'string',
    value: 'id',
    description:
      'rig id (another id: other sensor units). The rig is named after its id and rig seed: SIM<rig seed> for the default id (SIM1 for seed 1), <id>-s<rig seed> for another',
    default: 'SIM1',
  },
  'rig-seed': {
    type: 'string',
    value: 's',
    description: "seed of the rig's units and their drift: the same rig with other containers, weather and noise when --seed differs",
    default: '--seed',
  },
  'unit-spread': { type: 'string', value: 'x', description: 'unit-to-unit spread, times the default', default: '1' },
  'concentration-scale': { type: 'string', value: 'x', description: 'multiplies every marker concentration', default: '1' },
  preconcentration: { type: 'string', value: 'x', description: 'sorbent pre-concentration factor', default: '1' },
  'idle-s': { type: 'string', value: 's', description: 'idle seconds after each cycle', default: '0' },
  'max-file-mb': { type: 'string', value: 'm', description: 'start the next frames file after this many MiB', default: '256' },
} as const satisfies OptionTable;

export const simulateCommand: Command = defineCommand({
  name: 'simulate',
  summary: 'write simulated container cycles with their ground truth',
  usage: 'enose simulate --containers N --seed S --out <dir> [options]',
  about: `Simulates container sampling cycles (src/sim, see datasets/container-sim/README.md) and writes them as a
recording folder: frames.csv (sample, label, t_s, phase, seq, t_rig_ms, 16 gas channels, temp_c, rh_pct;
frames-2.csv, ... after each 256 MiB, at a container boundary, as the recorder does: the readers read a file whole),
meta.json (the rig), an empty events.jsonl (no link events) and manifest.jsonl (the ground truth of each container: label, concentrations,
confounders, weather, injected faults). The same options give byte-identical files.`,
  options: SIMULATE_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('simulate', argv, SIMULATE_OPTIONS);
    const containers = numberOption('simulate', parsed, 'containers', { integer: true, min: 1 });
    const seed = numberOption('simulate', parsed, 'seed', { integer: true, min: 0 });
    if (containers === undefined || seed === undefined) throw new EnoseError('bad-usage', '--containers and --seed are required (see enose simulate --help)');
    const out = requireString('simulate', parsed, 'out');
    const maxFileMb = numberOption('simulate', parsed, 'max-file-mb', { above: 0, max: FRAMES_FILE_MAX_BYTES / 2 ** 20 });
    const maxFileBytes = maxFileMb === undefined ? FRAMES_FILE_MAX_BYTES : Math.floor(maxFileMb * 2 ** 20);
    if (existsSync(out)) throw new EnoseError('bad-usage', `${out}: already exists; choose a new folder`);
    const rigSeed = numberOption('simulate', parsed, 'rig-seed', { integer: true, min: 0 });
    const sim = createSimulation({
      seed,
      ...(rigSeed !== undefined && { rigSeed }),
      containers,
      days: numberOption('simulate', parsed, 'days', { integer: true, min: 1 }) ?? 1,
      startDay: numberOption('simulate', parsed, 'start-day', { integer: true, min: 0 }) ?? 1,
      rigId: stringOption(parsed, 'rig-id') ?? 'SIM1',
      unitSpread: numberOption('simulate', parsed, 'unit-spread', { min: 0 }) ?? 1,
      concentrationScale: numberOption('simulate', parsed, 'concentration-scale', { min: 0 }) ?? 1,
      preconcentrationFactor: numberOption('simulate', parsed, 'preconcentration', { min: 1 }) ?? 1,
      idleS: numberOption('simulate', parsed, 'idle-s', { min: 0 }) ?? 0,
    });
    mkdirSync(out, { recursive: true });
    const rig = simulatedRigInfo(sim);
    const columns = { withPhase: true, withSeq: true, withRigTime: true };
    const manifestFd = openSync(join(out, 'manifest.jsonl'), 'w');
    const progress = createProgress('simulate', containers, ctx.stderr, ctx.isTty);
    const frameFiles: { file: string; firstFrame: number; channels: string[] }[] = [];
    let framesFd = -1;
    let bytesInFile = 0;
    let frameCount = 0;
    /** The next frames file (the first holds a comment line naming the command). */
    const startFramesFile = () => {
      if (framesFd >= 0) closeSync(framesFd);
      const file = frameFiles.length === 0 ? 'frames.csv' : `frames-${frameFiles.length + 1}.csv`;
      frameFiles.push({ file, firstFrame: frameCount, channels: [...rig.channels] });
      framesFd = openSync(join(out, file), 'w');
      const head =
        (frameFiles.length === 1 ? `# simulated by enose simulate --containers ${containers} --seed ${seed}; ground truth in manifest.jsonl\n` : '') +
        framesCsvHeader(rig.channels, columns);
      writeSync(framesFd, head);
      bytesInFile = head.length;
    };
    try {
      startFramesFile();
      let chunk = '';
      for (const cycle of sim.cycles()) {
        const { truth } = cycle;
        if (bytesInFile + chunk.length >= maxFileBytes) {
          writeSync(framesFd, chunk);
          chunk = '';
          startFramesFile();
        }
        for (const frame of cycle.frames({ reuse: true })) {
          const inCycle = frame.phase !== 'I';
          // t_s: the rig's time, so a replay paces as the rig did; rising across the whole recording.
          chunk += formatFramesCsvRow(
            { sample: inCycle ? truth.sample : '', label: inCycle ? truth.label : '', tS: (frameCount * 1) / rig.rateHz, phase: frame.phase, seq: frame.seq, tRigMs: frame.tMs, values: frame.values },
            columns,
          );
          frameCount++;
          if (chunk.length > 1 << 20) {
            writeSync(framesFd, chunk);
            bytesInFile += chunk.length;
            chunk = '';
          }
        }
        writeSync(manifestFd, `${JSON.stringify({ ...truth, faults: cycle.faults })}\n`);
        progress.update(cycle.index + 1);
      }
      writeSync(framesFd, chunk);
    } finally {
      if (framesFd >= 0) closeSync(framesFd);
      closeSync(manifestFd);
      progress.finish();
    }
    // A simulated rig has no link events; an empty events.jsonl says so to a replay.
    writeFileAtomic(join(out, 'events.jsonl'), '');
    writeFileAtomic(
      join(out, 'meta.json'),
      `${JSON.stringify(
        {
          format: RECORDING_FORMAT,
          formatVersion: RECORDING_FORMAT_VERSION,
          engineVersion: RECORDING_ENGINE_VERSION,
          modelId: '',
          source: `sim:seed=${seed}${rigSeed === undefined ? '' : `,rigSeed=${rigSeed}`}`,
          startedAt: new Date(Date.UTC(2026, 0, sim.options.startDay)).toISOString(),
          endedAt: null,
          rig,
          channels: rig.channels,
          frameFiles,
          frameCount,
        },
        null,
        1,
      )}\n`,
    );
    const files = frameFiles.length === 1 ? 'frames.csv' : `frames.csv to ${frameFiles.at(-1)!.file}`;
    ctx.stdout(`${containers} containers, ${frameCount} frames written to ${out} (${files}, manifest.jsonl, meta.json)\n`);
    return 0;
  },
});
