/**
 * docs/CLI.md and the option tables agree: each command's options block is what its table makes (rewrite it with
 * `npm run build && node scripts/cli-options-doc.mjs`), and the synopses name only options the command has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsDocBlock } from '../../src/cli/help.js';
import { COMMANDS } from '../../src/cli/run.js';
import { REPO_ROOT } from '../helpers/shared.js';

const page = readFileSync(join(REPO_ROOT, 'docs', 'CLI.md'), 'utf8');

describe('docs/CLI.md documents the options the tables declare', () => {
  for (const command of COMMANDS) {
    it(`enose ${command.name}: the options block is the table's (node scripts/cli-options-doc.mjs rewrites it)`, () => {
      const { open, close, block } = optionsDocBlock(command.name, command.help);
      const at = page.indexOf(open);
      expect(at, `docs/CLI.md has no ${open}`).toBeGreaterThanOrEqual(0);
      const end = page.indexOf(close, at);
      expect(end).toBeGreaterThan(at);
      expect(page.slice(at, end + close.length)).toBe(block);
      for (const name of Object.keys(command.options)) expect(block).toContain(`\`--${name}`);
    });
  }

  it('every option in a synopsis (the sh blocks) is an option of the command it runs', () => {
    const blocks = [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    let checked = 0;
    for (const block of blocks) {
      for (const line of block.split('\n')) {
        const name = /^enose ([a-z-]+)/.exec(line)?.[1];
        const command = COMMANDS.find((c) => c.name === name);
        if (!command) continue;
        const synopsis = line.replace(/#.*$/, '');
        for (const m of synopsis.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
          expect(Object.keys(command.options), `enose ${command.name}: --${m[1]} in docs/CLI.md`).toContain(m[1]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
