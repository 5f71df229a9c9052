/**
 * `npm run bench` (and `npm run bench -- --quick`): runs every benchmark under benchmarks/, each in its own
 * child process (one at a time, so that they do not share the two cores), prints one table and writes
 * benchmarks/results/latest.json (a quick run writes node_modules/.cache/enose-bench/results-quick.json and a
 * partial run node_modules/.cache/enose-bench/results-only.json, so that neither replaces the committed figures,
 * which come from one full run). The npm script compiles the benchmarks and the
 * sources they import into node_modules/.cache/enose-bench first (benchmarks/tsconfig.json, incremental).
 *
 * Options: --quick (smoke run, under a minute), --only a,b (benchmark names, e.g. verdict-latency,peer),
 * --out <file> (where to write the JSON; the file is replaced whole: a partial run is reported as its own run,
 * never merged into an earlier one),
 * --render <file> (print the table of an earlier run's JSON and
 * rewrite the Markdown beside it; runs nothing).
 * Exit code: 0 when every benchmark ran (skips included), 3 when a pre-timing check failed, 1 otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatValue, host, hostLine, type Host, type ReportedRow } from './harness.js';

const QUICK = process.argv.includes('--quick');
const only = argValue('--only')?.split(',').filter(Boolean) ?? null;
const compiledDir = dirname(fileURLToPath(import.meta.url)); // <cache>/benchmarks
const root = resolve(compiledDir, '..', '..', '..', '..');
const sourceDir = resolve(root, 'benchmarks');
const cacheDir = resolve(root, 'node_modules', '.cache', 'enose-bench');
const outFile = argValue('--out') ?? (QUICK ? resolve(cacheDir, 'results-quick.json') : only ? resolve(cacheDir, 'results-only.json') : resolve(sourceDir, 'results', 'latest.json'));
/** The order benchmarks run in; any other *.bench.ts runs after these, by name. */
const ORDER = ['verdict-latency', 'ingest', 'rigs', 'training', 'peer', 'sim', 'link-latency', 'e2e-verdict'];
/** Benchmarks over a socat pty (not named *.bench.ts): they need socat and the built dist/. */
const LINK_BENCHES = ['link-latency', 'e2e-verdict'];
const TIMEOUT_S = QUICK ? 120 : 3600;

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

interface BenchResult {
  name: string;
  source: string;
  exitCode: number | null;
  seconds: number;
  host: Host;
  skipped?: string;
  error?: string;
  rows: ReportedRow[];
}

interface Bench {
  name: string;
  source: string;
  compiled: string;
  /** Extra arguments (the link benchmark measures fewer frames in a quick run, to stay within the minute). */
  args: string[];
  /** Why it cannot run here, or null. */
  missing: () => string | null;
}

function discover(): Bench[] {
  const names = readdirSync(sourceDir)
    .filter((f) => f.endsWith('.bench.ts') || LINK_BENCHES.includes(f.replace(/\.ts$/, '')))
    .map((f) => f.replace(/\.ts$/, ''));
  const benches = names.map((file) => {
    const name = file.replace(/\.bench$/, '');
    return {
      name,
      source: `benchmarks/${file}.ts`,
      compiled: resolve(compiledDir, `${file}.js`),
      args: name === 'link-latency' && QUICK ? ['400'] : [],
      missing: (): string | null =>
        LINK_BENCHES.includes(name) && !onPath('socat')
          ? 'socat not found on PATH (apt-get install socat)'
          : name === 'fleet' && !onPath('mosquitto') && !existsSync('/usr/sbin/mosquitto')
            ? 'mosquitto not installed (apt-get install mosquitto)'
            : null,
    };
  });
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return benches.filter((b) => !only || only.includes(b.name)).sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** True when every src/**\/*.ts has its dist/**\/*.js at least as new (then the build can be skipped). */
function distIsFresh(): boolean {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(resolve(dir, e.name)) : e.name.endsWith('.ts') ? [resolve(dir, e.name)] : []));
  const src = resolve(root, 'src');
  return walk(src).every((file) => {
    const out = resolve(root, 'dist', file.slice(src.length + 1).replace(/\.ts$/, '.js'));
    return existsSync(out) && statSync(out).mtimeMs >= statSync(file).mtimeMs;
  });
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function runOne(bench: Bench): Promise<BenchResult> {
  const rowsFile = resolve(root, 'node_modules', '.cache', 'enose-bench', `${bench.name}.rows.jsonl`);
  rmSync(rowsFile, { force: true });
  const started = performance.now();
  const h = host();
  return new Promise((done) => {
    const child = spawn(process.execPath, [bench.compiled, ...bench.args, ...(QUICK ? ['--quick'] : [])], {
      cwd: root,
      env: { ...process.env, ENOSE_BENCH_OUT: rowsFile, ...(QUICK && { ENOSE_BENCH_QUICK: '1' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_S * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const rows = existsSync(rowsFile)
        ? readFileSync(rowsFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as ReportedRow)
        : [];
      const result: BenchResult = { name: bench.name, source: bench.source, exitCode: code, seconds: (performance.now() - started) / 1000, host: h, rows };
      if (code !== 0) result.error = (stderr || stdout).trim().split('\n').slice(-8).join('\n');
      else if (rows.length === 0) result.error = `no rows reported through the harness; last output: ${stdout.trim().split('\n').slice(-3).join(' / ')}`;
      done(result);
    });
  });
}

/** Rows by group, groups in order of first appearance, rows in their order within a group. */
function byGroup(rows: readonly ReportedRow[]): [string, ReportedRow[]][] {
  const groups = new Map<string, ReportedRow[]>();
  for (const row of rows) {
    const list = groups.get(row.group) ?? [];
    list.push(row);
    groups.set(row.group, list);
  }
  return [...groups.entries()];
}

/**
 * A group of percentile rows (the same metrics for every configuration, no peer) laid out one configuration a
 * line, one metric a column; null when the group does not have that shape.
 */
function pivot(rows: readonly ReportedRow[]): { metrics: string[]; lines: { name: string; cells: string[]; target: string; met: string; note: string }[] } | null {
  if (rows.some((r) => r.peer !== undefined)) return null;
  const names = [...new Set(rows.map((r) => r.name))];
  const metrics = [...new Set(rows.map((r) => r.metric))];
  if (metrics.length < 2 || names.length * metrics.length !== rows.length) return null;
  const lines = names.map((name) => {
    const mine = rows.filter((r) => r.name === name);
    const judged = mine.filter((r) => r.target !== undefined);
    return {
      name,
      cells: metrics.map((m) => {
        const r = mine.find((x) => x.metric === m);
        return r ? formatValue(r.value, r.unit) : '';
      }),
      target: judged.map((r) => `${r.metric} ${r.target}`).join('; '),
      met: judged.map((r) => (r.pass === true ? 'yes' : r.pass === false ? 'NO' : '')).join('; '),
      note: mine
        .map((r) => r.note)
        .filter(Boolean)
        .join('; '),
    };
  });
  return { metrics, lines };
}

function table(results: BenchResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push('');
    lines.push(`== ${r.name} (${r.source}, ${r.seconds.toFixed(1)} s) on ${hostLine(r.host)}`);
    if (r.skipped) {
      lines.push(`   SKIPPED: ${r.skipped}`);
      continue;
    }
    if (r.error) lines.push(`   ${r.exitCode === 3 ? 'CHECK FAILED' : 'ERROR'} (exit ${r.exitCode}): ${r.error.replace(/\n/g, '\n   ')}`);
    const header = ['configuration', 'metric', 'engine', 'peer', 'engine/peer', 'target', 'met'];
    const render = (head: string[], body: string[][], numeric: (i: number) => boolean): void => {
      const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
      const fmt = (cells: string[]): string => `   ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')}`;
      lines.push(fmt(head));
      lines.push(`   ${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
      for (const b of body) lines.push(fmt(b));
    };
    for (const [group, rows] of byGroup(r.rows)) {
      lines.push(`  ${group}`);
      const p = pivot(rows);
      if (p) {
        render(['configuration', ...p.metrics, 'target', 'met'], p.lines.map((l) => [l.name, ...l.cells, l.target, l.met]), (i) => i >= 1 && i <= p.metrics.length);
        continue;
      }
      render(
        header,
        rows.map((row) => [
          row.name,
          row.metric,
          formatValue(row.value, row.unit),
          row.peer === undefined ? '' : formatValue(row.peer, row.unit),
          row.ratio === undefined || row.ratio === null ? '' : formatValue(row.ratio),
          row.target ?? '',
          row.pass === true ? 'yes' : row.pass === false ? 'NO' : '',
        ]),
        (i) => i >= 2 && i <= 4,
      );
    }
    const notes = r.rows.filter((x) => x.note);
    if (notes.length > 0) {
      lines.push('  notes:');
      for (const n of notes) lines.push(`   ${n.name} / ${n.metric}: ${n.note}`);
    }
  }
  return lines.join('\n');
}

/** The results as Markdown tables (one per group), for benchmarks/README.md. */
function markdown(results: BenchResult[], h: Host, command: string): string {
  const out: string[] = [`Written ${h.date} on ${h.cpu}, ${h.cores} cores, node ${h.node}, by \`${command}\`; each benchmark's own host line, load and date is under its heading.`];
  for (const r of results) {
    out.push('', `### ${r.name} (\`${r.source}\`)`, '');
    if (r.skipped) {
      out.push(`Skipped: ${r.skipped}`);
      continue;
    }
    if (r.error) out.push(`**${r.exitCode === 3 ? 'Check failed' : 'Error'}** (exit ${r.exitCode}): ${r.error.split('\n')[0]}`, '');
    out.push(`Host: ${hostLine(r.host)}`);
    const cell = (c: string): string => c.replace(/\|/g, '\\|');
    for (const [group, rows] of byGroup(r.rows)) {
      out.push('', `**${group}**`, '');
      const p = pivot(rows);
      if (p) {
        out.push(`| configuration | ${p.metrics.join(' | ')} | target | met | notes |`, `|---|${p.metrics.map(() => '---:').join('|')}|---|---|---|`);
        for (const l of p.lines) out.push(`| ${[l.name, ...l.cells, l.target, l.met === 'NO' ? '**no**' : l.met, l.note].map(cell).join(' | ')} |`);
        continue;
      }
      out.push('| configuration | metric | engine | peer | engine/peer | target | met | notes |', '|---|---|---:|---:|---:|---|---|---|');
      for (const row of rows) {
        const cells = [
          row.name,
          row.metric,
          formatValue(row.value, row.unit),
          row.peer === undefined ? '' : formatValue(row.peer, row.unit),
          row.ratio === undefined || row.ratio === null ? '' : formatValue(row.ratio),
          row.target ?? '',
          row.pass === true ? 'yes' : row.pass === false ? '**no**' : '',
          row.note ?? '',
        ];
        out.push(`| ${cells.map(cell).join(' | ')} |`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

async function runAll(): Promise<void> {
  const benches = discover();
  const h = host();
  console.log(`# enose benchmarks${QUICK ? ' (quick)' : ''}: ${benches.map((b) => b.name).join(', ')}`);
  console.log(`# host: ${hostLine(h)}`);
  if (h.loadavg1 > h.cores * 0.5) console.log(`# warning: load average ${h.loadavg1} on ${h.cores} cores: other work shares the CPUs, figures will be noisy`);
  const needsDist = benches.some((b) => (LINK_BENCHES.includes(b.name) || b.name === 'fleet') && b.missing() === null);
  if (needsDist && !distIsFresh()) {
    console.log('# building dist/ (npx tsc -p tsconfig.json) for the link and fleet benchmarks');
    const build = spawnSync(process.execPath, [resolve(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the build failed');
  }
  const results: BenchResult[] = [];
  for (const bench of benches) {
    const missing = bench.missing();
    if (missing !== null) {
      console.log(`\n# ${bench.name}: SKIPPED: ${missing}`);
      results.push({ name: bench.name, source: bench.source, exitCode: null, seconds: 0, host: host(), skipped: missing, rows: [] });
      continue;
    }
    console.log(`\n# ${bench.name} ...`);
    results.push(await runOne(bench));
  }
  console.log(`\n${'='.repeat(100)}\nResults${QUICK ? ' (quick run: smoke figures, not for the README)' : ''}`);
  console.log(table(results));
  const misses = results.flatMap((r) => r.rows.filter((row) => row.pass === false).map((row) => `${r.name}: ${row.group}: ${row.name} ${row.metric} (${formatValue(row.value, row.unit)}, target ${row.target})`));
  console.log(`\nTargets missed: ${misses.length === 0 ? 'none' : `\n  ${misses.join('\n  ')}`}`);
  mkdirSync(dirname(outFile), { recursive: true });
  const command = `npm run bench${QUICK ? ' -- --quick' : ''}${only ? ` -- --only ${only.join(',')}` : ''}`;
  const doc = {
    command,
    quick: QUICK,
    host: h,
    benchmarks: results,
  };
  writeFileSync(outFile, `${JSON.stringify(doc, null, 1)}\n`);
  const mdFile = outFile.replace(/\.json$/, '.md');
  writeFileSync(mdFile, markdown(results, h, command));
  console.log(`\nwritten: ${outFile} and ${mdFile}`);
  const failed = results.filter((r) => r.exitCode !== null && r.exitCode !== 0);
  process.exitCode = failed.length === 0 ? 0 : failed.some((r) => r.exitCode === 3) ? 3 : 1;
}

/** `--render <results.json>`: prints the table of an earlier run and rewrites its .md beside it. */
function renderOnly(file: string): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { host: Host; benchmarks: BenchResult[]; command: string };
  console.log(table(doc.benchmarks));
  writeFileSync(file.replace(/\.json$/, '.md'), markdown(doc.benchmarks, doc.host, doc.command));
}

const renderFile = argValue('--render');
if (renderFile) renderOnly(renderFile);
else runAll().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
