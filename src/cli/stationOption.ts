/** `--station <id>`: the station each verdict names; absent, the engine names the rig (its default). */
import { EnoseError } from '../errors.js';
import { STATION_ID } from '../types.js';
import { stringOption, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

export const STATION_OPTION = {
  station: {
    type: 'string',
    value: 'id',
    description: 'the station each verdict names (field station); with --mqtt also its topics enose/<id>/...',
    default: "the rig's id",
    required: 'with --mqtt',
  },
} as const satisfies OptionTable;

export function stationOption(parsed: Parsed<typeof STATION_OPTION>): { stationId?: string } {
  const station = stringOption(parsed, 'station');
  if (station === undefined) return {};
  if (!STATION_ID.test(station)) throw new EnoseError('bad-option', `--station must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit: ${JSON.stringify(station)}`);
  return { stationId: station };
}
