/**
 * What `npm pack` ships: the built library, its sources (so that the source maps resolve), the shipped models,
 * the hardware files and the docs; no research script, no log, no build cache (docs/ARCHITECTURE.md, "The
 * package"). Needs a built dist/ (the suite's setup builds it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function packedFiles(): string[] {
  // npm prints the JSON on stdout; notices go to stderr. process.execPath's npm may be absent: use npm on PATH.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const parsed = JSON.parse(out) as { files: { path: string }[] }[];
  return parsed[0]!.files.map((f) => f.path).sort();
}

describe('the npm package', () => {
  const files = packedFiles();

  it('ships the library, its sources, the shipped models, the hardware files, the licence and the docs', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'src/index.ts',
      'datasets/container-sim/default-model.json.gz',
      'datasets/container-sim/exposure-model.json.gz',
      'datasets/container-sim/recovery-start-model.json.gz',
      'hardware/PROTOCOL.md',
      'docs/ARCHITECTURE.md',
    ]) {
      expect(files, f).toContain(f);
    }
  });

  it('ships no research script, no evaluation script, no log, no Python and no build cache', () => {
    const unwanted = files.filter(
      (f) => f.startsWith('research/') || f.startsWith('scripts/') || f.startsWith('tests/') || f.startsWith('benchmarks/') || /\.(log|py|mjs|tsbuildinfo)$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('every source map in the package points at a source file the package holds', () => {
    const maps = files.filter((f) => f.endsWith('.js.map') || f.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(50);
    const shipped = new Set(files);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(resolve(ROOT, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? '', source));
        if (!shipped.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
