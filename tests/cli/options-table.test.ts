/**
 * Each command's options are declared once (src/cli/options.ts): its --help lists every option of its table and
 * nothing else, the parser takes every option of the table, and an unknown option is one line and exit code 2.
 */
import { describe, expect, it } from 'vitest';
import { numberOption, parseCommand, stringOption } from '../../src/cli/args.js';
import { renderHelp } from '../../src/cli/help.js';
import type { OptionTable } from '../../src/cli/options.js';
import { COMMANDS } from '../../src/cli/run.js';
import { runEnose } from '../helpers/cli.js';

/** The option names of the rows of a help text: lines that start with two spaces, then `--name` or `-x, --name`. */
function helpOptions(help: string): string[] {
  return help
    .split('\n')
    .map((line) => /^ {2}(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9-]*)\b/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** argv that gives every option of the table once (a value for a string option). */
function everyOption(table: OptionTable): string[] {
  return Object.entries(table).flatMap(([name, row]) => (row.type === 'boolean' ? [`--${name}`] : [`--${name}`, 'v']));
}

describe('one option table per command', () => {
  it('the commands are the ones the CLI has', () => {
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(
      ['calibrate', 'demo', 'emulate-rig', 'evaluate', 'fleet', 'keygen', 'monitor', 'ports', 'replay', 'serve', 'sign', 'simulate', 'train', 'watch'].sort(),
    );
  });

  for (const command of COMMANDS) {
    it(`${command.name}: --help lists every option of the table once, and nothing else`, () => {
      const listed = helpOptions(command.usage);
      expect(listed.sort()).toEqual([...Object.keys(command.options), 'help'].sort());
      expect(new Set(listed).size).toBe(listed.length);
    });

    it(`${command.name}: the parser takes every option of the table (and nothing else)`, () => {
      const parsed = parseCommand(command.name, everyOption(command.options), command.options);
      for (const [name, row] of Object.entries(command.options)) {
        const value = parsed.values[name];
        if (row.type === 'boolean') expect(value, name).toBe(true);
        else expect(value, name).toEqual(row.multiple === true ? ['v'] : 'v');
      }
      expect(() => parseCommand(command.name, ['--no-such-option'], command.options)).toThrow(`Unknown option '--no-such-option' (see enose ${command.name} --help)`);
    });

    it(`${command.name}: every option names its value, says what it does, and fits the help's width`, () => {
      for (const [name, row] of Object.entries(command.options)) {
        expect(name, name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
        expect(row.description.trim().length, name).toBeGreaterThan(3);
        if (row.type === 'string') expect(row.value, name).not.toMatch(/[<>]/);
      }
      const lines = command.usage.split('\n');
      const firstHeading = lines.findIndex((l) => /^\S.*:$/.test(l));
      const rows = lines.slice(firstHeading).filter((l) => /^ {2}(-[a-zA-Z], )?--/.test(l) || /^ {10,}\S/.test(l));
      for (const line of rows) expect(line.length, line).toBeLessThanOrEqual(104);
    });
  }

  it('a command reads only the options its table declares (checked by tsc -p tests: a wrong name does not compile)', () => {
    const table = { 'timeout-s': { type: 'string', value: 's', description: 'how long' }, json: { type: 'boolean', description: 'JSON' } } as const satisfies OptionTable;
    const parsed = parseCommand('x', ['--timeout-s', '2.5', '--json'], table);
    expect(numberOption('x', parsed, 'timeout-s', { above: 0 })).toBe(2.5);
    const json: boolean | undefined = parsed.values.json;
    expect(json).toBe(true);
    // @ts-expect-error: --timeout is not in the table (the unit is part of the name)
    expect(stringOption(parsed, 'timeout')).toBeUndefined();
  });

  it('a table that changes changes the help (no second list to forget)', () => {
    const table: OptionTable = {
      'window-s': { type: 'string', value: 's', description: 'a window', default: '10' },
      verbose: { type: 'boolean', description: 'more lines' },
    };
    const help = renderHelp({ usage: 'enose x', about: '', options: table });
    expect(helpOptions(help).sort()).toEqual(['help', 'verbose', 'window-s']);
    const fewer = renderHelp({ usage: 'enose x', about: '', options: { verbose: table['verbose']! } });
    expect(helpOptions(fewer).sort()).toEqual(['help', 'verbose']);
  });
});

describe('the help as users read it', () => {
  it('keygen, whole', () => {
    const run = runEnose(['keygen', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'Usage: enose keygen --out <prefix>',
        '',
        'Makes an Ed25519 key pair for signing models (docs/signed-models.md): <prefix>.key, the private key (PEM,',
        'mode 0600: keep it off the stations, where only the public key is needed) and <prefix>.pub, the public key to',
        "put in the stations' --trusted-keys file. Existing files are never overwritten.",
        '',
        'Options:',
        '  --out <prefix>  where to write the two files                                                [required]',
        '  -h, --help      this help',
        '',
      ].join('\n'),
    );
  });

  it('train: rows with a default, a required option, a wrapped description and a shared group', () => {
    const run = runEnose(['train', '--help']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const expected of [
      '  --out <file>              model file to write, atomically; gzip if *.gz                     [required]',
      '  --k <n>                   neighbours for knn                                              [default: 5]',
      '  --cv <n>                  same as --cv-folds',
      '  --max-epochs <n>          mlp: at most this many epochs (early stopping on a 10% validation share,',
      '                            patience 10); the policy is calibrated on one held-out fold of --cv instead',
      '                            of a cross-validation                                         [default: 200]',
      '  --max-values <n>          at most n numbers held (rows x columns)               [default: 250,000,000]',
      '  -h, --help                this help',
    ]) {
      expect(lines).toContain(expected);
    }
  });

  it('serve: the shared groups under their headings, in order', () => {
    const run = runEnose(['serve', '--help']);
    expect(run.code).toBe(0);
    const headings = run.stdout.split('\n').filter((l) => /^\S.*:$/.test(l));
    expect(headings).toEqual([
      'Source (one of):',
      'Options:',
      'Serial options:',
      "Serial options, csv mode only (phases come from the host's clock after a start):",
      'Model trust (docs/signed-models.md):',
      'Fleet options (MQTT; credentials from ENOSE_MQTT_USERNAME and ENOSE_MQTT_PASSWORD):',
    ]);
    expect(run.stdout).toContain('  --baud <n>                baud rate                                                  [default: 115200]\n');
    expect(run.stdout).toContain("[required with --mqtt] [default: the rig's id]\n");
  });
});

describe('an unknown option through the real CLI', () => {
  it('is one line on stderr and exit code 2, for every command', () => {
    for (const command of COMMANDS) {
      const run = runEnose([command.name, '--frobnicate-s', '3']);
      expect(run.code, command.name).toBe(2);
      expect(run.stdout, command.name).toBe('');
      expect(run.stderr, command.name).toBe(`enose ${command.name}: Unknown option '--frobnicate-s' (see enose ${command.name} --help)\n`);
    }
  });
});
