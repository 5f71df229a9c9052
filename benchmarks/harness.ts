/**
 * The benchmark harness: what every benchmark under benchmarks/ uses so that its figures can be trusted and
 * compared. A benchmark (one file, one child process of `benchmarks/run.ts`)
 * 1. builds seeded inputs (`mulberry32`, `gaussian`),
 * 2. checks that the path it times gives the reference answer (`check`, `checkClose`) and exits non-zero
 *    before timing anything when it does not,
 * 3. warms up, then times each call with `process.hrtime.bigint` (`timeEach`) and reduces the times to
 *    percentiles (`summarize`: p50, p99, p99.9, max),
 * 4. reports rows (`report`), each carrying the host (CPU model, cores, Node version, date).
 * Shape after spectra-processing's benchmark/xHilbertTransform.ts (check, then time) and pino's
 * benchmarks/utils/runbench.js (the host beside every figure).
 *
 * Rows go to the file named by ENOSE_BENCH_OUT (JSON lines, one row a line) when the runner sets it, and are
 * printed either way, so a benchmark can also be run alone:
 *   npx tsc -p benchmarks/tsconfig.json && node node_modules/.cache/enose-bench/benchmarks/<name>.bench.js [--quick]
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The machine a figure was measured on. */
export interface Host {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the figure was taken: above the core count, other work shared the CPUs. */
  readonly loadavg1: number;
  /** ISO date and time of the measurement. */
  readonly date: string;
}

export function host(): Host {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg1: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    date: new Date().toISOString(),
  };
}

/** One line describing the host, printed beside every table of figures. */
export function hostLine(h: Host = host()): string {
  return `${h.cpu}, ${h.cores} cores, ${h.memoryGiB} GiB, node ${h.node}, ${h.platform}, load ${h.loadavg1}, ${h.date}`;
}

/** True for a smoke run (`--quick` on the command line, or ENOSE_BENCH_QUICK=1 from the runner). */
export const QUICK = process.argv.includes('--quick') || process.env['ENOSE_BENCH_QUICK'] === '1';

/** The repository root (this file is benchmarks/harness.ts, compiled to <cache>/benchmarks/harness.js). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Source: <repo>/benchmarks; compiled: <repo>/node_modules/.cache/enose-bench/benchmarks.
  return here.includes('node_modules') ? resolve(here, '..', '..', '..', '..') : resolve(here, '..');
}

/** The shared data folder beside the repository (or $ENOSE_SHARED), as the tests resolve it. */
export function sharedRoot(): string {
  return process.env['ENOSE_SHARED'] ?? resolve(repoRoot(), '..', 'shared');
}

// ---------------------------------------------------------------------------------------------------------
// Seeded inputs

/** mulberry32: the project's small seeded generator of uniform numbers in [0, 1). */
export { mulberry32 } from '../src/model/numeric/rng.js';
import { mulberry32 } from '../src/model/numeric/rng.js';

/** Standard normal numbers from a uniform generator (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Checks before timing

/** A failed pre-timing check: the benchmark stops, nothing it would have timed is reported. */
export class BenchCheckError extends Error {
  override readonly name = 'BenchCheckError';
}

/** Stops the benchmark (exit code 3) when `condition` is false. */
export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new BenchCheckError(`check failed before timing: ${what}`);
}

/**
 * Checks that two arrays are equal within `tolerance` (absolute, or relative to the larger magnitude when that
 * exceeds 1). Returns the largest difference seen.
 */
export function checkClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): number {
  check(actual.length === expected.length, `${what}: ${actual.length} values where ${expected.length} were expected`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const scale = Math.max(1, Math.abs(a), Math.abs(e));
    const d = Math.abs(a - e) / scale;
    if (!(d <= tolerance)) throw new BenchCheckError(`check failed before timing: ${what}: value ${i} is ${a}, expected ${e} (tolerance ${tolerance})`);
    if (d > worst) worst = d;
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------------
// Timing

/** Percentiles of a set of times, in microseconds. */
export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of sorted values (q in [0, 1]). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50, p99, p99.9, max and mean of times in nanoseconds, returned in microseconds. */
export function summarize(timesNs: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(timesNs).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    n: sorted.length,
    p50: quantileSorted(sorted, 0.5) / 1e3,
    p99: quantileSorted(sorted, 0.99) / 1e3,
    p999: quantileSorted(sorted, 0.999) / 1e3,
    max: (sorted[sorted.length - 1] ?? NaN) / 1e3,
    mean: sorted.length > 0 ? sum / sorted.length / 1e3 : NaN,
  };
}

/**
 * Times `count` calls of `fn(i)` one by one (nanoseconds each, the clock's own cost included: see
 * `clockOverheadNs`). `warmup` untimed calls come first, so that the JIT has compiled the path.
 */
export function timeEach(count: number, fn: (i: number) => void, warmup = Math.min(count, 2000)): Float64Array {
  for (let i = 0; i < warmup; i++) fn(i % count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

/** Median cost of two back-to-back `process.hrtime.bigint()` calls: the floor under every timed call. */
export function clockOverheadNs(): number {
  const times = timeEach(20_000, () => undefined, 5000);
  return summarize(times).p50 * 1e3;
}

/** Seconds taken by `fn` (once). */
export function timeOnce<T>(fn: () => T): { seconds: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Resident set size now, in MiB. */
export function rssMiB(): number {
  return process.memoryUsage.rss() / 2 ** 20;
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

/**
 * One measured figure. `group` is the table section (e.g. "verdict latency"), `name` the configuration
 * (e.g. "lda, 16 features"), `metric` what was measured (e.g. "p99"). `target` states the goal when the
 * issues give one ("<= 50 us"), and `pass` whether it was met. A peer figure sits beside the engine's in
 * `peer`, with `ratio` = engine / peer.
 */
export interface Row {
  readonly group: string;
  readonly name: string;
  readonly metric: string;
  readonly value: number | null;
  readonly unit: string;
  readonly n?: number;
  readonly peer?: number | null;
  readonly ratio?: number | null;
  readonly target?: string;
  readonly pass?: boolean | null;
  readonly note?: string;
}

/** A row as written: the figure plus the benchmark that made it and the host it ran on. */
export interface ReportedRow extends Row {
  readonly bench: string;
  readonly host: Host;
}

/** The running benchmark's name (its file name without `.bench.js`). */
export function benchName(): string {
  const file = process.argv[1] ?? 'bench';
  return file.replace(/^.*[\\/]/, '').replace(/\.(bench\.)?[jt]s$/, '');
}

function formatValue(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  const s = abs >= 1e5 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
  return unit ? `${s} ${unit}` : s;
}

export { formatValue };

/** Records rows: appended to ENOSE_BENCH_OUT (JSON lines) when set, and printed. */
export function report(rows: readonly Row[]): void {
  const h = host();
  const bench = benchName();
  const out = process.env['ENOSE_BENCH_OUT'];
  for (const row of rows) {
    const full: ReportedRow = { bench, host: h, ...row };
    if (out) appendFileSync(out, `${JSON.stringify(full)}\n`);
    const peer = row.peer !== undefined ? `  peer ${formatValue(row.peer, row.unit)}  ratio ${formatValue(row.ratio)}` : '';
    const target = row.target ? `  target ${row.target} ${row.pass === true ? 'MET' : row.pass === false ? 'MISSED' : ''}` : '';
    const note = row.note ? `  (${row.note})` : '';
    console.log(`${row.group} | ${row.name} | ${row.metric}: ${formatValue(row.value, row.unit)}${peer}${target}${note}`);
  }
}

/** Prints the host line; every benchmark calls it first so its output carries the machine. */
export function announce(title: string): void {
  console.log(`# ${title}${QUICK ? ' (quick)' : ''}`);
  console.log(`# host: ${hostLine()}`);
}

/**
 * Runs a benchmark's main function: a failed check exits 3 with its message, any other error exits 1.
 */
export function main(fn: () => Promise<void> | void): void {
  Promise.resolve()
    .then(fn)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        if (error instanceof BenchCheckError) {
          console.error(error.message);
          process.exit(3);
        }
        console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        process.exit(1);
      },
    );
}
