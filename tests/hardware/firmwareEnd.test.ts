/**
 * The reference sketch (host build on the Arduino stub) ends cycles on END: acknowledged in B, E and R, refused in
 * I; the recovery after END runs until the sensors are clean again (the protocol's rule, from the frames alone);
 * and the build with a short baseline carries a clean recovery over. The rest of the firmware: firmware.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/io/protocol.js';
import { buildHostFirmware, cleanEndMs, haveCompilers, phaseRuns, runSketch, type HostFirmware } from '../helpers/firmwareBuild.js';

if (!haveCompilers) console.warn('firmware END tests skipped: gcc and g++ are not both on PATH');

let fw: HostFirmware | null = null;
let rigBin = '';
let rigBinShort = '';

beforeAll(() => {
  if (!haveCompilers) return;
  fw = buildHostFirmware();
  ({ rigBin, rigBinShort } = fw);
});

afterAll(() => fw?.remove());

describe.skipIf(!haveCompilers)('the reference sketch ends cycles on END', () => {
  const cmd = (c: Parameters<typeof encodeCommand>[0]): string => encodeCommand(c).trimEnd();
  // END 15 s into E; END 5 s into R of a full exposure; END in I; END during B.
  const schedule = [
    `1000 ${cmd({ command: 'START', sampleId: 'C-1' })}`,
    `46000 ${cmd({ command: 'END', reason: 'clear' })}`,
    `47000 ${cmd({ command: 'END', reason: 'clear' })}`,
    `100000 ${cmd({ command: 'START', sampleId: 'C-2' })}`,
    `195000 ${cmd({ command: 'END', reason: 'suspicious' })}`,
    `260000 ${cmd({ command: 'END', reason: 'clear' })}`,
    `270000 ${cmd({ command: 'START', sampleId: 'C-3' })}`,
    `275000 ${cmd({ command: 'END', reason: 'clear' })}`,
  ];
  const run = (): ReturnType<typeof runSketch> => runSketch(rigBin, schedule, 300000);

  it('acknowledges END in B, E and R (again: OK), refuses it in I, and prints only valid lines', () => {
    const { outputs } = run();
    expect(outputs.filter((o) => o.type === 'issue' || o.type === 'gap' || o.type === 'reboot')).toEqual([]);
    expect(outputs.flatMap((o) => (o.type === 'ack' ? [o.ack] : []))).toEqual([
      { command: 'START', ok: true },
      { command: 'END', ok: true },
      { command: 'END', ok: true },
      { command: 'START', ok: true },
      { command: 'END', ok: true },
      { command: 'END', ok: false, detail: 'idle' },
      { command: 'START', ok: true },
      { command: 'END', ok: true },
    ]);
  });

  it('cuts the exposure at END and ends the recovery when the sensors are clean, at least 10 s and at most 60 s in', () => {
    const { frames, pins } = run();
    const runs = phaseRuns(frames);
    expect(runs.map((r) => r[0]).join('')).toBe('IBERIBERIBRI');
    // Cycle 1: E from 31 s, cut at 46 s by END.
    const [, b1, e1, r1, i1] = runs;
    expect([b1![1], e1![1], r1![1]]).toEqual([1000, 31000, 46000]);
    const end1 = cleanEndMs(frames, b1![1], r1![1]);
    expect(end1).not.toBeNull();
    expect(i1![1]).toBe(end1);
    expect(i1![1] - r1![1]).toBeGreaterThanOrEqual(10000);
    expect(i1![1] - r1![1]).toBeLessThan(60000);
    // Cycle 2: a full exposure; END 5 s into R: the recovery still ends when clean, earlier than 60 s.
    const [, , , , , b2, e2, r2, i2] = runs;
    expect([b2![1], e2![1], r2![1]]).toEqual([100000, 130000, 190000]);
    expect(i2![1]).toBe(cleanEndMs(frames, b2![1], r2![1]));
    expect(i2![1] - r2![1]).toBeLessThan(60000);
    // Cycle 3: END in B: clean air all along, so R ends at its 10 s minimum.
    const [, , , , , , , , , b3, r3, i3] = runs;
    expect([b3![1], r3![1], i3![1]]).toEqual([270000, 275000, 285000]);
    // The valve leaves sample air at END; the pump stops when the recovery ends.
    expect(pins).toEqual([
      [1000, 7, 1],
      [31000, 8, 1],
      [46000, 8, 0],
      [i1![1], 7, 0],
      [100000, 7, 1],
      [130000, 8, 1],
      [190000, 8, 0],
      [i2![1], 7, 0],
      [270000, 7, 1],
      [285000, 7, 0],
    ]);
  });

  it('keeps the fixed 60 s recovery of a cycle without END', () => {
    const { frames } = runSketch(rigBin, [`1000 ${cmd({ command: 'START', sampleId: 'C-1' })}`], 160000);
    expect(phaseRuns(frames).map((r) => [r[0], r[1]])).toEqual([['I', 100], ['B', 1000], ['E', 31000], ['R', 91000], ['I', 151000]]);
  });

  it('with SHORT_BASELINE_MS set, shortens the baseline of a START that follows a clean recovery, and only then', () => {
    const sched = [
      `1000 ${cmd({ command: 'START', sampleId: 'C-1' })}`,
      `46000 ${cmd({ command: 'END', reason: 'clear' })}`,
      // The recovery ends clean near 69 s; this START is within 30 s of it.
      `80000 ${cmd({ command: 'START', sampleId: 'C-2' })}`,
      `100000 ${cmd({ command: 'STOP' })}`,
      // After a STOP the next baseline is full again.
      `101000 ${cmd({ command: 'START', sampleId: 'C-3' })}`,
    ];
    const runs = phaseRuns(runSketch(rigBinShort, sched, 140000).frames);
    expect(runs.map((r) => r[0]).join('')).toBe('IBERIBEIBE');
    const b2 = runs[5]!;
    const b3 = runs[8]!;
    expect([b2[1], runs[6]![1]]).toEqual([80000, 90000]);
    expect([b3[1], runs[9]![1]]).toEqual([101000, 131000]);
  });
});
