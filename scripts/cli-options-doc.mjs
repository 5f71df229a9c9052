#!/usr/bin/env node
/**
 * Writes each command's option tables into docs/CLI.md from the commands' own option tables (src/cli/options.ts),
 * between `<!-- options: <command> -->` and `<!-- /options: <command> -->`; a command without the markers gets
 * them at the end of its section (`## ... enose <command> ...`). tests/cli/options-doc.test.ts checks the page.
 * Run after `npm run build`: node scripts/cli-options-doc.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { optionsDocBlock } from '../dist/cli/help.js';
import { COMMANDS } from '../dist/cli/run.js';

const page = fileURLToPath(new URL('../docs/CLI.md', import.meta.url));
let text = readFileSync(page, 'utf8');
for (const command of COMMANDS) {
  const { open, close, block } = optionsDocBlock(command.name, command.help);
  const at = text.indexOf(open);
  if (at >= 0) {
    const end = text.indexOf(close, at);
    if (end < 0) throw new Error(`docs/CLI.md: ${open} without ${close}`);
    text = text.slice(0, at) + block + text.slice(end + close.length);
    continue;
  }
  const heading = new RegExp(`^## .*\`enose ${command.name}\``, 'm').exec(text);
  if (!heading) throw new Error(`docs/CLI.md has no section for enose ${command.name}`);
  const next = text.indexOf('\n## ', heading.index + 1);
  const end = next < 0 ? text.length : next + 1;
  text = `${text.slice(0, end).trimEnd()}\n\n${block}\n\n${text.slice(end)}`;
}
writeFileSync(page, text);
console.log(`docs/CLI.md: the options of ${COMMANDS.length} commands written`);
