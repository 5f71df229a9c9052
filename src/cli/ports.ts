/** `enose ports`: the serial ports of this machine with their USB ids, and which of them look like a rig. */
import { configuredRigIds, formatUsbId, listPorts, matchesRigIds } from '../io/serial.js';
import { defineCommand, parseCommand, type Command } from './args.js';
import type { OptionTable } from './options.js';

/** `enose ports`'s options, declared once (options.ts): the parser's and the help's. */
export const PORTS_OPTIONS = {
  json: { type: 'boolean', description: 'one JSON array of { path, manufacturer, vendorId, productId, serialNumber, rig, via }' },
} as const satisfies OptionTable;

export const portsCommand: Command = defineCommand({
  name: 'ports',
  summary: 'list serial ports with their USB ids (and which look like a rig)',
  usage: 'enose ports [--json]',
  about: `Lists the serial ports with their USB vendor and product ids and manufacturer, and marks those whose ids
match the rig list that --port auto uses: 2341 (Arduino), 1a86:7523 (CH340), 0403:6001 (FTDI),
10c4:ea60 (CP210x), or ENOSE_RIG_IDS="vvvv:pppp,..." when set. Where udev is absent (containers) the
ports are found by scanning /dev/ttyUSB* and /dev/ttyACM* and their ids read from sysfs.`,
  options: PORTS_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('ports', argv, PORTS_OPTIONS);
    const ids = configuredRigIds();
    const ports = (await listPorts()).map((p) => ({ ...p, rig: matchesRigIds(p, ids) }));
    if (parsed.values['json'] === true) {
      ctx.stdout(`${JSON.stringify(ports)}\n`);
      return 0;
    }
    if (ports.length === 0) {
      ctx.stdout('no serial ports found\n');
      return 0;
    }
    const rows = [['PATH', 'USB ID', 'MANUFACTURER', 'SERIAL', 'RIG'], ...ports.map((p) => [p.path, formatUsbId(p), p.manufacturer ?? '-', p.serialNumber ?? '-', p.rig ? 'yes' : ''])];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) ctx.stdout(`${r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()}\n`);
    return 0;
  },
});
