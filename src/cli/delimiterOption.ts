/** `--delimiter` of the commands that read data files (train, evaluate, replay): one table fragment. */
import { parseDelimiter, type Delimiter } from '../io/datasets/delimited.js';
import { stringOption, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

export const DELIMITER_OPTION = {
  delimiter: {
    type: 'string',
    value: 'd',
    description: 'cells of the text files: comma, semicolon or tab (with semicolon or tab a decimal comma reads as a point)',
    default: 'comma',
  },
} as const satisfies OptionTable;

export function delimiterOf(parsed: Parsed<typeof DELIMITER_OPTION>): Delimiter {
  const raw = stringOption(parsed, 'delimiter');
  return raw === undefined ? ',' : parseDelimiter(raw);
}
