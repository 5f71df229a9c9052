/**
 * The serial-port options every command that reads a rig takes (`monitor` now, `watch` and `serve` later):
 * `--port <path|auto> [--baud] [--protocol enl|csv]` and the csv mode's host timing, turned into a
 * `SerialSource`. `--port auto` picks the one port whose USB ids match the rig list and says which on stderr.
 */
import { EnoseError } from '../errors.js';
import { createSerialSource, formatUsbId, resolveAutoPort, type SerialProtocol, type SerialSource } from '../io/serial.js';
import { listOption, numberOption, requireString, stringOption, type CommandContext, type Parsed } from './args.js';
import type { HelpGroup, OptionTable } from './options.js';

export const SERIAL_GROUP: HelpGroup = { title: 'Serial options' };
export const SERIAL_CSV_GROUP: HelpGroup = { title: 'Serial options, csv mode only (phases come from the host\'s clock after a start)' };

export const SERIAL_OPTIONS = {
  port: {
    type: 'string',
    value: 'path|auto',
    description:
      'the rig\'s serial device, or auto: the one port whose USB ids match 2341 (Arduino), 1a86:7523 (CH340), 0403:6001 (FTDI), 10c4:ea60 (CP210x), or ENOSE_RIG_IDS="vvvv:pppp,..."',
    required: true,
    group: SERIAL_GROUP,
  },
  baud: { type: 'string', value: 'n', description: 'baud rate', default: '115200', group: SERIAL_GROUP },
  protocol: { type: 'string', value: 'enl|csv', description: 'enl (ENL/1, checksummed) | csv (plain values)', default: 'enl', group: SERIAL_GROUP },
  'baseline-s': { type: 'string', value: 's', description: 'baseline seconds', default: '30', group: SERIAL_CSV_GROUP },
  'exposure-s': { type: 'string', value: 's', description: 'exposure seconds', default: '60', group: SERIAL_CSV_GROUP },
  'recovery-s': { type: 'string', value: 's', description: 'recovery seconds', default: '60', group: SERIAL_CSV_GROUP },
  channels: { type: 'string', value: 'a,b,...', description: 'channel names when the rig prints no header line', group: SERIAL_CSV_GROUP },
  'csv-rate-hz': { type: 'string', value: 'n', description: 'frame rate to announce for the rig', default: '10', group: SERIAL_CSV_GROUP },
} as const satisfies OptionTable;

/** Resolves `--port` (auto: lists the ports and says which it picked) and builds the source. */
export async function serialSourceFromArgs(command: string, parsed: Parsed<typeof SERIAL_OPTIONS>, ctx: CommandContext): Promise<SerialSource> {
  let path = requireString(command, parsed, 'port');
  if (path === 'auto') {
    const port = await resolveAutoPort();
    ctx.stderr(`enose ${command}: --port auto: using ${port.path} (${formatUsbId(port)}${port.manufacturer ? `, ${port.manufacturer}` : ''})\n`);
    path = port.path;
  }
  const protocol = (stringOption(parsed, 'protocol') ?? 'enl') as SerialProtocol;
  if (protocol !== 'enl' && protocol !== 'csv') throw new EnoseError('bad-option', `--protocol must be enl or csv, got "${protocol}"`);
  const baudRate = numberOption(command, parsed, 'baud', { integer: true, min: 1 }) ?? 115200;
  const csvOnly = (['baseline-s', 'exposure-s', 'recovery-s', 'channels', 'csv-rate-hz'] as const).filter((k) => parsed.values[k] !== undefined);
  if (protocol === 'enl' && csvOnly.length > 0) throw new EnoseError('bad-usage', `--${csvOnly[0]} is for --protocol csv (an ENL/1 rig times its own cycles)`);
  const baselineS = numberOption(command, parsed, 'baseline-s', { min: 0 });
  const exposureS = numberOption(command, parsed, 'exposure-s', { min: 0 });
  const recoveryS = numberOption(command, parsed, 'recovery-s', { min: 0 });
  const rateHz = numberOption(command, parsed, 'csv-rate-hz', { above: 0 });
  const channels = listOption(parsed, 'channels');
  return createSerialSource({
    path,
    baudRate,
    protocol,
    csv: {
      ...(baselineS === undefined ? {} : { baselineS }),
      ...(exposureS === undefined ? {} : { exposureS }),
      ...(recoveryS === undefined ? {} : { recoveryS }),
      ...(rateHz === undefined ? {} : { rateHz }),
      ...(channels === undefined ? {} : { channels }),
    },
  });
}
