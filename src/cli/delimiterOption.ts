/** `--delimiter` of the commands that read data files (train, evaluate, replay): one declaration, one help line. */
import { parseDelimiter, type Delimiter } from '../io/datasets/delimited.js';
import { stringOption, type Parsed } from './args.js';

export const DELIMITER_OPTION = { delimiter: { type: 'string' } } as const;

export const DELIMITER_HELP = `  --delimiter <d>           cells of the text files: comma, semicolon or tab (with semicolon
                            or tab a decimal comma reads as a point)           [default: comma]`;

export function delimiterOf(parsed: Parsed): Delimiter {
  const raw = stringOption(parsed, 'delimiter');
  return raw === undefined ? ',' : parseDelimiter(raw);
}
