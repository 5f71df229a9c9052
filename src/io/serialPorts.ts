/** Listing this machine's serial ports, and `--port auto`: the one port whose USB ids are a rig's. */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { EnoseError } from '../errors.js';

/** A serial port as `enose ports` shows it. USB ids are 4 lower-case hex digits, null when unknown. */
export interface SerialPortInfo {
  readonly path: string;
  readonly manufacturer: string | null;
  readonly vendorId: string | null;
  readonly productId: string | null;
  readonly serialNumber: string | null;
  /** How the port was found: serialport's udev listing, or the fallback scan of /dev and sysfs. */
  readonly via: 'serialport' | 'scan';
}

export interface ListPortsOptions {
  /** @default SerialPort.list */
  readonly list?: () => Promise<readonly { path: string; manufacturer?: string | undefined; vendorId?: string | undefined; productId?: string | undefined; serialNumber?: string | undefined }[]>;
  /** Where the fallback scan looks. @default '/dev' */
  readonly devDir?: string;
  /** @default '/sys/class/tty' */
  readonly sysTtyDir?: string;
}

/**
 * The serial ports of this machine. `SerialPort.list()` needs `udevadm` on Linux and throws `spawn udevadm
 * ENOENT` where udev is absent (containers): the fallback then scans `/dev/ttyUSB*` and `/dev/ttyACM*` and
 * reads their USB ids from sysfs.
 */
export async function listPorts(options: ListPortsOptions = {}): Promise<SerialPortInfo[]> {
  const list = options.list ?? (() => SerialPort.list());
  try {
    const ports = await list();
    return ports.map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer ?? null,
      vendorId: normaliseId(p.vendorId),
      productId: normaliseId(p.productId),
      serialNumber: p.serialNumber ?? null,
      via: 'serialport' as const,
    }));
  } catch {
    return scanPorts(options.devDir ?? '/dev', options.sysTtyDir ?? '/sys/class/tty');
  }
}

function normaliseId(id: string | undefined | null): string | null {
  if (id === undefined || id === null || id === '') return null;
  const t = id.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(t) ? t.padStart(4, '0') : null;
}

async function scanPorts(devDir: string, sysTtyDir: string): Promise<SerialPortInfo[]> {
  let names: string[];
  try {
    names = await readdir(devDir);
  } catch {
    return [];
  }
  const ttys = names.filter((n) => /^tty(USB|ACM)\d+$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const out: SerialPortInfo[] = [];
  for (const name of ttys) {
    const usb = await usbAttributes(join(sysTtyDir, name, 'device'));
    out.push({ path: join(devDir, name), ...usb, via: 'scan' });
  }
  return out;
}

/** Walks up from the tty's sysfs device to the USB device that holds idVendor/idProduct. */
async function usbAttributes(deviceLink: string): Promise<Pick<SerialPortInfo, 'manufacturer' | 'vendorId' | 'productId' | 'serialNumber'>> {
  const none = { manufacturer: null, vendorId: null, productId: null, serialNumber: null };
  let dir: string;
  try {
    dir = await realpath(deviceLink);
  } catch {
    return none;
  }
  const read = async (file: string): Promise<string | null> => {
    try {
      return (await readFile(join(dir, file), 'utf8')).trim() || null;
    } catch {
      return null;
    }
  };
  for (let up = 0; up < 5 && dir !== '/' && dir !== '.'; up++) {
    const vendor = await read('idVendor');
    if (vendor !== null) {
      return { manufacturer: await read('manufacturer'), vendorId: normaliseId(vendor), productId: normaliseId((await read('idProduct')) ?? undefined), serialNumber: await read('serial') };
    }
    dir = join(dir, '..');
  }
  return none;
}

/** A USB id to match; `productId` null matches any product of the vendor. */
export interface UsbId {
  readonly vendorId: string;
  readonly productId: string | null;
}

/** Common USB-serial chips of Arduino-class rigs: Arduino (any product), CH340, FTDI FT232R, CP210x. */
export const DEFAULT_RIG_IDS: readonly UsbId[] = Object.freeze([
  { vendorId: '2341', productId: null },
  { vendorId: '1a86', productId: '7523' },
  { vendorId: '0403', productId: '6001' },
  { vendorId: '10c4', productId: 'ea60' },
]);

/** Parses `vvvv:pppp,vvvv,...` (as in ENOSE_RIG_IDS; `vvvv` or `vvvv:*` matches any product). */
export function parseRigIds(text: string, origin = 'ENOSE_RIG_IDS'): UsbId[] {
  const ids: UsbId[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([0-9a-fA-F]{4})(?::([0-9a-fA-F]{4}|\*))?$/.exec(item);
    if (!m) throw new EnoseError('bad-option', `${origin}: "${item}" is not a USB id of the form vvvv:pppp (4 hex digits each) or vvvv`);
    ids.push({ vendorId: m[1].toLowerCase(), productId: m[2] === undefined || m[2] === '*' ? null : m[2].toLowerCase() });
  }
  if (ids.length === 0) throw new EnoseError('bad-option', `${origin} holds no USB id`);
  return ids;
}

/** The rig ids in force: ENOSE_RIG_IDS when set, else DEFAULT_RIG_IDS. */
export function configuredRigIds(env: Readonly<Record<string, string | undefined>> = process.env): readonly UsbId[] {
  const text = env['ENOSE_RIG_IDS'];
  return text === undefined || text.trim() === '' ? DEFAULT_RIG_IDS : parseRigIds(text);
}

export function formatUsbId(port: Pick<SerialPortInfo, 'vendorId' | 'productId'>): string {
  return port.vendorId === null ? 'no USB ids' : `${port.vendorId}:${port.productId ?? '????'}`;
}

export function matchesRigIds(port: Pick<SerialPortInfo, 'vendorId' | 'productId'>, ids: readonly UsbId[]): boolean {
  return ids.some((id) => port.vendorId === id.vendorId && (id.productId === null || port.productId === id.productId));
}

/** The one port whose USB ids match; none or several: `EnoseError('port-error')` naming the candidates. */
export function pickRigPort(ports: readonly SerialPortInfo[], ids: readonly UsbId[]): SerialPortInfo {
  const matches = ports.filter((p) => matchesRigIds(p, ids));
  const wanted = ids.map((id) => `${id.vendorId}:${id.productId ?? '*'}`).join(', ');
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    const seen = ports.length === 0 ? 'no serial ports found' : `ports seen: ${ports.map((p) => `${p.path} (${formatUsbId(p)})`).join(', ')}`;
    throw new EnoseError('port-error', `--port auto: no port matches the rig ids ${wanted} (${seen}); give --port <path> or set ENOSE_RIG_IDS`);
  }
  throw new EnoseError('port-error', `--port auto: ${matches.length} ports match the rig ids: ${matches.map((p) => `${p.path} (${formatUsbId(p)})`).join(', ')}; give --port <path>`);
}

/** `--port auto`: lists the ports and picks the one rig whose ids match `knownIds` (default: `configuredRigIds()`). */
export async function resolveAutoPort(knownIds?: readonly UsbId[], options: ListPortsOptions = {}): Promise<SerialPortInfo> {
  return pickRigPort(await listPorts(options), knownIds ?? configuredRigIds());
}
