/**
 * The house's import rules, read from the sources themselves (TypeScript's own import scanner, type-only
 * imports included): no import cycle between files, and imports run only down the data flow
 * io -> signal -> model -> engine -> report/shipped -> service -> cli (docs/ARCHITECTURE.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Top-level files and folders of src/ that a layer may import besides its own files. */
const FOUNDATION = ['types', 'errors'];
/** What each layer may import (besides itself and the foundation); a layer not named here is an error. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  types: [],
  errors: [],
  signal: [],
  model: [],
  sim: [],
  io: ['model'],
  engine: ['signal', 'model'],
  report: ['io', 'signal', 'model', 'engine', 'sim'],
  /** The shipped recipes and data sets, and a model run over a simulated set. */
  shipped: ['io', 'signal', 'model', 'engine', 'sim'],
  service: ['io', 'signal', 'model', 'engine', 'report', 'sim'],
  /** Stations over MQTT and the fleet's centre: beside the service, above the engine. */
  fleet: ['io', 'signal', 'model', 'engine', 'service'],
  cli: ['io', 'signal', 'model', 'engine', 'report', 'service', 'fleet', 'shipped', 'sim'],
  index: ['io', 'signal', 'model', 'engine', 'report', 'shipped', 'sim'],
};

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** File -> the src files it imports (relative specifiers only; packages are outside the rules). */
function importGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    graph.set(relative(root, file), [...new Set(targets)].map((t) => relative(root, t)));
  }
  return graph;
}

/** `io/protocol.ts` -> `io`, `types.ts` -> `types`. */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
}

/** Every strongly connected component of more than one file, or a file importing itself (Tarjan 1972). */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** `from -> to (file -> file)` for every import that crosses a layer boundary it may not cross. */
function upwardImports(graph: Graph): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    for (const target of targets) {
      const to = layerOf(target);
      const foundation = FOUNDATION.includes(to) && !FOUNDATION.includes(from);
      if (to === from || foundation) continue;
      if (allowed === undefined || !allowed.includes(to)) bad.push(`${from} -> ${to} (${file} -> ${target})`);
    }
  }
  return bad.sort();
}

describe('layer rules of src/', () => {
  const graph = importGraph(SRC);

  it('reads the real import graph (the scanner sees the imports the rules are about)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('engine/engine.ts')).toContain('types.ts');
    const engineLayers = new Set([...graph].filter(([f]) => layerOf(f) === 'engine').flatMap(([, ts]) => ts.map(layerOf)));
    expect(engineLayers).toContain('model');
    expect(engineLayers).toContain('signal');
    for (const file of graph.keys()) expect(ALLOWED[layerOf(file)], `${file} is in no known layer: add it to ALLOWED and docs/ARCHITECTURE.md`).toBeDefined();
    // Every target is a file that exists (a wrong resolution would make the rules vacuous).
    for (const targets of graph.values()) for (const t of targets) expect(graph.has(t), t).toBe(true);
  });

  it('has no import cycle between files', () => {
    expect(cycles(graph), JSON.stringify(cycles(graph))).toEqual([]);
  });

  it('imports only down the data flow: signal, model and sim import no other layer; engine no io, report, service or cli; io no engine, report, service or cli', () => {
    expect(upwardImports(graph), upwardImports(graph).join('\n')).toEqual([]);
  });

  it('the checks find what they are for (a cycle, an upward import)', () => {
    const bad: Graph = new Map([
      ['model/a.ts', ['engine/b.ts', 'types.ts']],
      ['engine/b.ts', ['model/a.ts', 'io/c.ts']],
      ['io/c.ts', []],
      ['types.ts', []],
    ]);
    expect(cycles(bad)).toEqual([['engine/b.ts', 'model/a.ts']]);
    expect(upwardImports(bad)).toEqual(['engine -> io (engine/b.ts -> io/c.ts)', 'model -> engine (model/a.ts -> engine/b.ts)']);
  });
});
