/** The CLI without process globals: parses the command name, runs it, and maps errors to exit codes. */
import { EnoseError } from '../errors.js';
import type { Command, CommandContext } from './args.js';
import { calibrateCommand } from './calibrate.js';
import { demoCommand } from './demo.js';
import { emulateRigCommand } from './emulateRig.js';
import { evaluateCommand } from './evaluate.js';
import { fleetCommand } from './fleet.js';
import { keygenCommand } from './keygen.js';
import { monitorCommand } from './monitor.js';
import { portsCommand } from './ports.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { signCommand } from './sign.js';
import { writeErrorLine } from './logger.js';
import { StoppedBySignal } from './stopSignal.js';
import { simulateCommand } from './simulate.js';
import { trainCommand } from './train.js';
import { watchCommand } from './watch.js';

export const COMMANDS: readonly Command[] = [
  trainCommand,
  evaluateCommand,
  calibrateCommand,
  replayCommand,
  watchCommand,
  serveCommand,
  fleetCommand,
  keygenCommand,
  signCommand,
  simulateCommand,
  portsCommand,
  monitorCommand,
  emulateRigCommand,
  demoCommand,
];

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad usage or bad input. */
export const EXIT = { ok: 0, internal: 1, usage: 2 } as const;

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'enose: electronic-nose engine (gas-sensor arrays in, suspicious/clear/inconclusive verdicts out)',
    '',
    'Usage: enose <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `enose <command> --help` for the options of a command.',
    'Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 1 internal error.',
    '',
  ].join('\n');
}

export async function runCli(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout(mainUsage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    ctx.stdout('enose 0.1.0\n');
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    ctx.stderr(`enose: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    if (error instanceof StoppedBySignal) {
      writeErrorLine(ctx, `enose ${name}: ${error.message}`, 'stopped');
      return error.exitCode;
    }
    if (error instanceof EnoseError) {
      writeErrorLine(ctx, `enose ${name}: ${error.message.split('\n')[0]}`, error.code);
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    writeErrorLine(ctx, `enose ${name}: internal error: ${message.split('\n')[0]} (please report it)`, 'internal');
    if (process.env['ENOSE_DEBUG']) ctx.stderr(`${(error as Error).stack ?? ''}\n`);
    return EXIT.internal;
  }
}
