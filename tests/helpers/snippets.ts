/**
 * Code blocks of the user docs, compiled and run by tests so that a documented example cannot rot. A block is
 * a fenced block tagged `ts` or `js` (```ts / ```js); each is a complete program (its own module).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export interface Snippet {
  /** `README.md#2`: the file and the block's number (from 1) within the section. */
  readonly name: string;
  readonly lang: 'ts' | 'js';
  readonly code: string;
  /** Line of the opening fence in the file (1-based). */
  readonly line: number;
}

/**
 * The ts/js blocks of a markdown file: of the whole file, or of the section under the first `## ` heading that
 * matches `heading` (up to the next `## ` heading). Throws, saying what is missing, when the file, the section or
 * the blocks are not there.
 */
export function markdownSnippets(file: string, heading?: RegExp): Snippet[] {
  const path = join(REPO_ROOT, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${file} is missing: the documented examples cannot be checked`);
  }
  const lines = text.split('\n');
  let from = 0;
  let to = lines.length;
  if (heading) {
    from = lines.findIndex((l) => /^## /.test(l) && heading.test(l));
    if (from < 0) throw new Error(`${file} has no "## " heading matching ${String(heading)}: the section whose code blocks this test runs is gone or renamed`);
    const next = lines.findIndex((l, i) => i > from && /^## /.test(l));
    to = next < 0 ? lines.length : next;
  }
  const out: Snippet[] = [];
  for (let i = from; i < to; i++) {
    const open = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block is not closed`);
    const lang = open[1]!.startsWith('t') ? 'ts' : 'js';
    out.push({ name: `${file}#${out.length + 1}`, lang, code: lines.slice(i + 1, end).join('\n') + '\n', line: i + 1 });
    i = end;
  }
  if (out.length === 0) {
    throw new Error(`${file}${heading ? ` (section ${String(heading)})` : ''} holds no \`\`\`ts or \`\`\`js code block: the embedding example this test runs is missing`);
  }
  return out;
}

/**
 * Writes the snippets into `dir` (inside an ES-module package that depends on, or is, `enose`), type-checks
 * them with the project's compiler settings and emits JavaScript to `dir/out`. Returns the paths of the emitted
 * files, or throws with the compiler's messages mapped to the doc's lines.
 */
export function compileSnippets(snippets: readonly Snippet[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = snippets.map((s, i) => {
    const file = `snippet-${i + 1}.${s.lang}`;
    writeFileSync(join(dir, file), s.code);
    return file;
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        allowJs: true,
        checkJs: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        rootDir: '.',
        outDir: 'out',
      },
      files,
    }),
  );
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    const where = (text: string) =>
      text.replace(/snippet-(\d+)\.(?:ts|js)\((\d+),(\d+)\)/g, (_m, n: string, line: string, col: string) => {
        const s = snippets[Number(n) - 1]!;
        return `${s.name} (line ${s.line + Number(line)}, col ${col})`;
      });
    throw new Error(`the documented example does not type-check:\n${where(r.stdout)}${where(r.stderr)}`);
  }
  return files.map((f) => join(dir, 'out', f.replace(/\.ts$/, '.js')));
}
