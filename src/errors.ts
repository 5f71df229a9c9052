/**
 * Errors of the engine. Expected bad input (a corrupt line, a ragged file, a wrong model) travels as a
 * value (`DataIssue`, `Result`); misuse of the API and bad input that must stop a command throw
 * `EnoseError` with a `code`, which the CLI turns into one line on stderr and exit code 2.
 */

export type EnoseErrorCode =
  | 'bad-usage'
  | 'bad-option'
  | 'file-not-found'
  | 'file-unreadable'
  | 'bad-data'
  | 'empty-data'
  | 'bad-model'
  | 'model-mismatch'
  | 'too-few-samples'
  | 'port-error'
  | 'internal';

/** Where and why an input was rejected; `line` is 1-based, 0 when the problem is the whole file. */
export interface DataIssue {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

export type Result<T, E = DataIssue> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<E = DataIssue>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** One line, as the CLI prints it: `file:line: reason`. */
export function formatIssue(issue: DataIssue): string {
  return issue.line > 0 ? `${issue.file}:${issue.line}: ${issue.reason}` : `${issue.file}: ${issue.reason}`;
}

export class EnoseError extends Error {
  readonly code: EnoseErrorCode;
  constructor(code: EnoseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnoseError';
    this.code = code;
  }

  static fromIssue(code: EnoseErrorCode, issue: DataIssue): EnoseError {
    return new EnoseError(code, formatIssue(issue));
  }
}
