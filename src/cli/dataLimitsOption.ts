/** The bounds on data files (`--max-columns`, `--max-rows`, ...) of the commands that read them: one table fragment. */
import { DEFAULT_DATA_LIMITS, type DataLimits } from '../io/datasets/limits.js';
import { numberOption, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

const d = DEFAULT_DATA_LIMITS;
const n = (x: number) => x.toLocaleString('en-US');

export const DATA_LIMIT_OPTIONS = {
  'max-columns': {
    type: 'string',
    value: 'n',
    description: "data files: at most n columns in a file (features, libsvm's highest index, channels, heater steps)",
    default: n(d.maxColumns),
  },
  'max-rows': { type: 'string', value: 'n', description: 'at most n rows in the data (samples, frames, readings)', default: n(d.maxRows) },
  'max-values': { type: 'string', value: 'n', description: 'at most n numbers held (rows x columns)', default: n(d.maxValues) },
  'max-file-mb': { type: 'string', value: 'm', description: 'at most m MiB a file (up to 500)', default: String(d.maxFileBytes / 2 ** 20) },
  'max-classes': { type: 'string', value: 'n', description: 'at most n distinct labels (each at most 128 characters)', default: n(d.maxClasses) },
} as const satisfies OptionTable;

/** The limits the options give (each bound past which a read stops with one line naming it). */
export function dataLimitsOf(command: string, parsed: Parsed<typeof DATA_LIMIT_OPTIONS>): DataLimits {
  const int = (name: keyof typeof DATA_LIMIT_OPTIONS, max = Number.MAX_SAFE_INTEGER) => numberOption(command, parsed, name, { integer: true, min: 1, max });
  const mib = numberOption(command, parsed, 'max-file-mb', { above: 0, max: 500 });
  return {
    maxColumns: int('max-columns', 1_000_000) ?? d.maxColumns,
    maxRows: int('max-rows') ?? d.maxRows,
    maxValues: int('max-values') ?? d.maxValues,
    maxFileBytes: mib === undefined ? d.maxFileBytes : Math.floor(mib * 2 ** 20),
    maxClasses: int('max-classes') ?? d.maxClasses,
  };
}
