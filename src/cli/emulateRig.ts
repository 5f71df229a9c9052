/**
 * `enose emulate-rig`: an ENL/1 rig on a pseudo-terminal, fed by the simulator or a recording, with faults
 * on demand (src/io/emulator.ts does the work; this file reads the options and builds the rig's script).
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EnoseError, formatIssue } from '../errors.js';
import { parseFaultSpecs, runEmulator, type RigScript, type ScriptCycle, type ScriptFrame } from '../io/emulator.js';
import { createReplaySource } from '../io/replay.js';
import { createSimulation } from '../sim/simulate.js';
import type { Phase } from '../types.js';
import { defineCommand, numberOption, parseCommand, stringOption, type Command, type NumberRule, type OptionName } from './args.js';
import type { HelpGroup, OptionTable } from './options.js';

const DATA_GROUP: HelpGroup = { title: 'Data (one of)' };
const RIG_GROUP: HelpGroup = { title: 'Rig' };
const FAULTS_GROUP: HelpGroup = {
  title: 'Faults (repeat --fault or separate with commas; seeded; rates are probabilities)',
  items: [
    ['bitflip:<p>', 'flip one bit of a frame-line byte, per byte (never makes a line break)'],
    ['drop-byte:<p>', 'drop a byte, per byte (line breaks too)'],
    ['truncate:<p>', 'cut a frame line short, per line (its line break kept)'],
    ['garbage:<p>', 'insert 1-32 random bytes into a frame line, per line'],
    ['repeat-seq:<p>', 'send a frame twice, per frame'],
    ['skip-seq:<p>', 'skip a seq number, per frame'],
    ['reboot-at:<frame>', 'reboot at that frame: info line again, seq and t_ms from 0'],
    [
      'disconnect-at:<frame>',
      'close the port at that frame. On its own pty pair it also stops socat and, --replug-after-ms later, starts it again with the same names. With --link it prints "disconnect-at: frame N" on stdout: the owner of the pair kills socat (and restarts it, and with --on-disconnect exit restarts the emulator too)',
    ],
    ['clock-jump:<frame>:<ms>', 'the rig clock (t_ms) jumps by ms at that frame'],
    ['stall:<frame>:<ms>', 'no bytes for ms from that frame on (the stream then resumes where it was)'],
  ],
};
const LOGS_GROUP: HelpGroup = { title: 'Logs' };

/** `enose emulate-rig`'s options, declared once (options.ts): the parser's and the help's. */
export const EMULATE_RIG_OPTIONS = {
  from: { type: 'string', value: 'path', description: 'a recording folder or a frames CSV, played cycle by cycle (one per sample)', group: DATA_GROUP },
  'sim-seed': { type: 'string', value: 'n', description: 'the container simulator with this seed', default: '1', group: DATA_GROUP },
  containers: { type: 'string', value: 'n', description: 'simulated containers (cycles)', default: '1000', group: DATA_GROUP },
  'sim-start-day': { type: 'string', value: 'd', description: 'first day since the sensors were installed', default: '1', group: DATA_GROUP },
  'baseline-s': { type: 'string', value: 's', description: 'simulated baseline seconds', default: '30', group: DATA_GROUP },
  'exposure-s': { type: 'string', value: 's', description: 'simulated exposure seconds', default: '60', group: DATA_GROUP },
  'recovery-s': { type: 'string', value: 's', description: 'simulated recovery seconds', default: '60', group: DATA_GROUP },
  link: { type: 'string', value: 'path', description: 'use this existing pty (the rig end of a pair you made with socat)', group: RIG_GROUP },
  'rig-id': { type: 'string', value: 'id', description: 'rig id in the info line', default: "SIM1, or the recording's rig", group: RIG_GROUP },
  'rate-hz': { type: 'string', value: 'n', description: 'frames per second of rig time', default: "10, or the recording's rate", group: RIG_GROUP },
  speed: { type: 'string', value: 'x|max', description: 'rig seconds per wall second; max: as fast as the link takes', default: '1', group: RIG_GROUP },
  'auto-cycle': { type: 'boolean', description: 'run cycles without START', group: RIG_GROUP },
  'no-end-command': {
    type: 'boolean',
    description: 'answer END with ERR,unknown-command, as a rig from before it (the host then keeps full cycles); by default END ends the exposure and, once the sensors are clean, the recovery',
    group: RIG_GROUP,
  },
  'idle-s': { type: 'string', value: 's', description: 'idle rig seconds before each automatic cycle', default: '1', group: RIG_GROUP },
  'first-seq': { type: 'string', value: 'n', description: 'seq of the first frame', default: '0', group: RIG_GROUP },
  frames: { type: 'string', value: 'n', description: 'stop after n frames', group: RIG_GROUP },
  'on-disconnect': {
    type: 'string',
    value: 'm',
    description: 'when the link goes away: exit (a USB-powered rig) or wait (a powered rig keeps counting; the link is reopened when it is back)',
    default: 'exit',
    group: RIG_GROUP,
  },
  'replug-after-ms': { type: 'string', value: 'ms', description: 'outage of a disconnect-at fault on its own pty pair', default: '2000', group: RIG_GROUP },
  fault: { type: 'string', value: 'spec', multiple: true, description: 'a fault to inject: one of the specs above, or several separated with commas', group: FAULTS_GROUP },
  'fault-seed': { type: 'string', value: 'n', description: 'seed of the fault draws', default: '1', group: FAULTS_GROUP },
  report: { type: 'string', value: 'file', description: 'the JSON report goes to this file (written whole, then renamed)' },
  timing: { type: 'string', value: 'file', description: '"seq,abs_ms" of every frame written (abs_ms: performance.timeOrigin + now)' },
  'frames-log': { type: 'string', value: 'file', description: '"seq,hash,faults" of every frame produced (hash of the clean line)' },
  verbose: { type: 'boolean', description: 'cycles and link events on stderr' },
} as const satisfies OptionTable;

export const emulateRigCommand: Command = defineCommand({
  name: 'emulate-rig',
  summary: 'an ENL/1 rig on a pseudo-terminal (simulator or recording), with fault injection',
  usage: `enose emulate-rig [--link <path>] [--from <recording|frames.csv> | --sim-seed S --containers N
                         --sim-start-day D] [--speed 50|max] [--rate-hz 10] [--auto-cycle] [--fault <spec>]...
                         [--rig-id R7] [--report <file>] [--timing <file>]`,
  about: `An ENL/1 rig in software, in place of a real one. Without --link it makes its own pseudo-terminal pair with
socat and prints the host end first, as "device: <path>", for: enose monitor --port <path>. It sends its
info line at start and on INFO, answers START (OK, then one baseline/exposure/recovery cycle, then idle
frames) and STOP, and with --auto-cycle runs the cycles on its own and ends after the last one. When it
ends (Ctrl-C, SIGTERM, end of data, --frames) it prints one JSON line of what it did and injected
(frames, faults per kind) on stderr, or writes it to --report.`,
  options: EMULATE_RIG_OPTIONS,
  main: LOGS_GROUP,
  groups: [DATA_GROUP, RIG_GROUP, FAULTS_GROUP, LOGS_GROUP],
  async run(argv, ctx) {
    const parsed = parseCommand('emulate-rig', argv, EMULATE_RIG_OPTIONS);
    if (parsed.positionals.length > 0) throw new EnoseError('bad-usage', `unexpected argument "${parsed.positionals[0]}" (see enose emulate-rig --help)`);
    const n = (name: OptionName<typeof EMULATE_RIG_OPTIONS>, rule: NumberRule) => numberOption('emulate-rig', parsed, name, rule);
    const faults = parseFaultSpecs((parsed.values['fault'] as string[] | undefined) ?? []);
    const speedText = stringOption(parsed, 'speed') ?? '1';
    const speed = speedText === 'max' ? 'max' : n('speed', { above: 0 }) ?? 1;
    const onDisconnect = stringOption(parsed, 'on-disconnect') ?? 'exit';
    if (onDisconnect !== 'exit' && onDisconnect !== 'wait') throw new EnoseError('bad-option', `--on-disconnect must be exit or wait, got "${onDisconnect}"`);
    const from = stringOption(parsed, 'from');
    const simOnly = (['sim-seed', 'containers', 'sim-start-day', 'baseline-s', 'exposure-s', 'recovery-s'] as const).filter((k) => parsed.values[k] !== undefined);
    if (from !== undefined && simOnly.length > 0) throw new EnoseError('bad-usage', `--${simOnly[0]} is for the simulator; it cannot be combined with --from`);

    let script: RigScript;
    let rigId = stringOption(parsed, 'rig-id');
    let rateHz = n('rate-hz', { above: 0 });
    if (from !== undefined) {
      const file = await recordingScript(from);
      for (const w of file.warnings) ctx.stderr(`enose emulate-rig: warning: ${w}\n`);
      script = file.script;
      rigId ??= file.rig;
      rateHz ??= file.rateHz;
    } else {
      rateHz ??= 10;
      script = simulationScript({
        seed: n('sim-seed', { integer: true }) ?? 1,
        containers: n('containers', { integer: true, min: 1 }) ?? 1000,
        startDay: n('sim-start-day', { integer: true, min: 0 }) ?? 1,
        rateHz,
        baselineS: n('baseline-s', { above: 0 }) ?? 30,
        exposureS: n('exposure-s', { above: 0 }) ?? 60,
        recoveryS: n('recovery-s', { min: 0 }) ?? 60,
      });
      rigId ??= 'SIM1';
    }
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(rigId)) throw new EnoseError('bad-option', `--rig-id must be 1-64 of [A-Za-z0-9_.:-], got "${rigId}"`);

    const link = stringOption(parsed, 'link');
    const verbose = parsed.values['verbose'] === true;
    const reportPath = stringOption(parsed, 'report');
    if (reportPath !== undefined && !existsSync(dirname(resolve(reportPath)))) throw new EnoseError('bad-option', `--report ${reportPath}: no such folder`);
    const firstSeq = n('first-seq', { integer: true, min: 0, max: 0xffffffff });
    const maxFrames = n('frames', { integer: true, min: 1 });
    const idleS = n('idle-s', { min: 0 });
    const replugAfterMs = n('replug-after-ms', { min: 0 });
    const faultSeed = n('fault-seed', { integer: true });
    const timingPath = stringOption(parsed, 'timing');
    const framesLogPath = stringOption(parsed, 'frames-log');
    const ptyDir = link === undefined ? await mkdtemp(join(tmpdir(), 'enose-rig-')) : undefined;
    try {
      const report = await runEmulator(
        {
          script,
          ...(link === undefined ? { ptyDir: ptyDir! } : { link }),
          rigId,
          rateHz,
          speed,
          autoCycle: parsed.values['auto-cycle'] === true,
          endCommand: parsed.values['no-end-command'] !== true,
          faults,
          onDisconnect,
          ...(idleS === undefined ? {} : { idleS }),
          ...(firstSeq === undefined ? {} : { firstSeq }),
          ...(maxFrames === undefined ? {} : { maxFrames }),
          ...(replugAfterMs === undefined ? {} : { replugAfterMs }),
          ...(faultSeed === undefined ? {} : { faultSeed }),
          ...(timingPath === undefined ? {} : { timingPath }),
          ...(framesLogPath === undefined ? {} : { framesLogPath }),
          onDevice: (host) => ctx.stdout(`device: ${host}\n`),
          onNotice: (line) => ctx.stdout(`${line}\n`),
          ...(verbose ? { log: (line: string) => ctx.stderr(`emulate-rig: ${line}\n`) } : {}),
        },
        ctx.signal,
      );
      const text = `${JSON.stringify(report)}\n`;
      if (reportPath === undefined) ctx.stderr(text);
      else {
        await writeFile(`${reportPath}.tmp`, text);
        await rename(`${reportPath}.tmp`, reportPath);
      }
    } finally {
      if (ptyDir !== undefined) await rm(ptyDir, { recursive: true, force: true });
    }
    return 0;
  },
});

/** The simulator as a rig script: one cycle per container, lazily. */
function simulationScript(options: Parameters<typeof createSimulation>[0]): RigScript {
  const sim = createSimulation(options);
  const cycles = sim.cycles();
  const first = sim.cycleAt(0).frames().next();
  if (first.done) throw new EnoseError('bad-option', 'the simulated cycles have no frames');
  return {
    channels: sim.channels,
    unit: sim.rig.unit,
    idleValues: first.value.values.slice(),
    nextCycle(): ScriptCycle | null {
      const r = cycles.next();
      if (r.done) return null;
      const cycle = r.value;
      return { sample: cycle.truth.sample, label: cycle.truth.label, frames: () => cycle.frames() };
    },
  };
}

/** A recording or frames CSV as a rig script: its cycles (runs of B/E/R frames of one sample) in file order. */
async function recordingScript(path: string): Promise<{ script: RigScript; rig: string; rateHz: number; warnings: string[] }> {
  const opened = await createReplaySource(path);
  if (!opened.ok) throw EnoseError.fromIssue('file-unreadable', opened.error);
  const replay = opened.value;
  const cycles: { sample: string; label: string; frames: ScriptFrame[] }[] = [];
  let current: (typeof cycles)[number] | null = null;
  let previous: Phase = 'I';
  let idleValues: Float64Array | null = null;
  const channelCount = replay.info.channels.length;
  let changed = false;
  await replay.run((event) => {
    if (event.type === 'info' && event.channels.length !== channelCount) changed = true;
    if (event.type !== 'frame') return;
    idleValues ??= event.values.slice();
    const sample = event.sample ?? '';
    if (event.phase === 'I') current = null;
    else {
      if (current === null || current.sample !== sample || (event.phase === 'B' && previous !== 'B')) {
        current = { sample, label: event.label ?? '', frames: [] };
        cycles.push(current);
      }
      current.frames.push({ phase: event.phase, values: event.values });
    }
    previous = event.phase;
  }, new AbortController().signal);
  if (changed) throw new EnoseError('bad-data', `${path}: the channels change within the recording; the emulator plays one channel layout`);
  if (idleValues === null || cycles.length === 0) throw new EnoseError('empty-data', `${path}: no sampling cycles (frames in phase B, E or R) to play`);
  let next = 0;
  const rig = replay.info.proto === 'file' ? basename(path).replace(/\.csv$/i, '').replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64) || 'EMU1' : replay.info.rig;
  return {
    warnings: replay.warnings.map(formatIssue),
    rig,
    rateHz: replay.info.rateHz,
    script: {
      channels: replay.info.channels,
      unit: replay.info.unit,
      idleValues,
      nextCycle(): ScriptCycle | null {
        const c = cycles[next++];
        if (c === undefined) return null;
        return { sample: c.sample, label: c.label, frames: () => c.frames[Symbol.iterator]() };
      },
    },
  };
}
