/**
 * The house's import rules, read from the sources themselves (TypeScript's own import scanner, type-only
 * imports included): no import cycle between files, and imports run only down the data flow
 * io -> signal -> model -> engine -> report/shipped -> service -> cli (docs/ARCHITECTURE.md); inside model/, imports
 * run numeric <- runtime <- fitting <- drift, so that what a station needs to judge (runtime) holds no training code.
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

/**
 * The parts of model/ and what each may import of model/ besides itself: numeric helpers, the runtime a station
 * judges with, fitting (which builds a runtime model) and drift (which corrects or adapts a fitted one).
 */
const MODEL_PARTS: Readonly<Record<string, readonly string[]>> = {
  numeric: [],
  runtime: ['numeric'],
  fitting: ['numeric', 'runtime'],
  drift: ['numeric', 'runtime', 'fitting'],
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

/** `model/runtime/bundle.ts` -> `runtime`; a file directly in model/ -> its own name; outside model/ -> null. */
function modelPartOf(file: string): string | null {
  const parts = file.split('/');
  if (parts[0] !== 'model') return null;
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

/** `from -> to (file -> file)` for every import inside model/ that runs against numeric <- runtime <- fitting <- drift. */
function modelUpwardImports(graph: Graph): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const from = modelPartOf(file);
    if (from === null) continue;
    for (const target of targets) {
      const to = modelPartOf(target);
      if (to === null || to === from) continue;
      if (!(MODEL_PARTS[from] ?? []).includes(to)) bad.push(`model/${from} -> model/${to} (${file} -> ${target})`);
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

  it('puts every file of model/ in one of its parts (numeric/, runtime/, fitting/, drift/)', () => {
    const modelFiles = [...graph.keys()].filter((f) => modelPartOf(f) !== null);
    expect(modelFiles.length).toBeGreaterThan(30);
    for (const file of modelFiles) expect(MODEL_PARTS[modelPartOf(file)!], `${file} is in no part of model/: add it to MODEL_PARTS and docs/ARCHITECTURE.md`).toBeDefined();
    for (const part of Object.keys(MODEL_PARTS)) expect(modelFiles.some((f) => modelPartOf(f) === part), part).toBe(true);
  });

  it('inside model/, imports run numeric <- runtime <- fitting <- drift: runtime imports neither fitting nor drift, fitting no drift', () => {
    expect(modelUpwardImports(graph), modelUpwardImports(graph).join('\n')).toEqual([]);
    // The rule sees real imports across the parts (a wrong part name would make it vacuous).
    const crossing = [...graph].flatMap(([f, ts]) => ts.filter((t) => modelPartOf(f) !== null && modelPartOf(t) !== null && modelPartOf(t) !== modelPartOf(f)));
    expect(crossing.length).toBeGreaterThan(10);
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
    const badModel: Graph = new Map([
      ['model/runtime/a.ts', ['model/fitting/b.ts', 'model/numeric/n.ts', 'types.ts']],
      ['model/fitting/b.ts', ['model/drift/c.ts', 'model/runtime/a.ts']],
      ['model/drift/c.ts', ['model/fitting/b.ts', 'model/runtime/a.ts']],
      ['model/numeric/n.ts', ['model/runtime/a.ts']],
      ['model/stray.ts', []],
    ]);
    expect(modelUpwardImports(badModel)).toEqual([
      'model/fitting -> model/drift (model/fitting/b.ts -> model/drift/c.ts)',
      'model/numeric -> model/runtime (model/numeric/n.ts -> model/runtime/a.ts)',
      'model/runtime -> model/fitting (model/runtime/a.ts -> model/fitting/b.ts)',
    ]);
    expect(MODEL_PARTS[modelPartOf('model/stray.ts')!]).toBeUndefined();
  });
});
