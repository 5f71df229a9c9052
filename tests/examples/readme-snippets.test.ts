/**
 * The embedding example of the docs, compiled and run: every ```ts / ```js block under README.md's
 * "## Embedding ..." heading, and every such block of docs/embedding.md, is a complete program that must
 * type-check against the package's own types (imported by its name, `enose`) and run to a verdict on a
 * recording that acts as the rig (ENOSE_REPLAY), with each shipped model (ENOSE_MODEL).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { ensureBuilt } from '../helpers/pty.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { compileSnippets, markdownSnippets, type Snippet } from '../helpers/snippets.js';

// Inside the package, so that `import ... from 'enose'` resolves to this package (its exports map) as it
// would in a consumer; .enose-tmp/ is git-ignored.
const work = mkdtempSync(join(REPO_ROOT, '.enose-tmp-snippets-'));
const recording = join(work, 'rec');
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  ensureBuilt();
  const sim = runEnose(['simulate', '--containers', '2', '--seed', '12', '--start-day', '23', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
});

const SOURCES: { readonly file: string; readonly heading?: RegExp }[] = [
  { file: 'README.md', heading: /embedding/i },
  { file: 'docs/embedding.md' },
];

describe.each(SOURCES)('the code blocks of $file', ({ file, heading }) => {
  let compiled: { snippet: Snippet; js: string }[] = [];

  it('are there and type-check against the package by its name', () => {
    const snippets = markdownSnippets(file, heading);
    const js = compileSnippets(snippets, join(work, file.replace(/\W/g, '_')));
    compiled = snippets.map((snippet, i) => ({ snippet, js: js[i]! }));
  });

  it.each(SHIPPED_MODELS)('run to a verdict on a replayed recording with the $name model', ({ path }) => {
    expect(compiled.length, 'the blocks did not compile (see the test above)').toBeGreaterThan(0);
    for (const { snippet, js } of compiled) {
      const r = spawnSync(process.execPath, [js], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, ENOSE_MODEL: join(REPO_ROOT, path), ENOSE_REPLAY: recording, ENOSE_PORT: '' },
      });
      expect(r.status, `${snippet.name} (line ${snippet.line}) exited with ${r.status}:\n${r.stderr}`).toBe(0);
      // The example prints the verdict of the container it started: its id and one of the three verdicts.
      expect(r.stdout, snippet.name).toMatch(/MSCU1234567 (suspicious|clear|inconclusive) /);
    }
  });
});
