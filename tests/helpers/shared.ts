/** Paths of the real data beside the project (../shared), and a loud skip when it is absent. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_ROOT = process.env['ENOSE_SHARED'] ?? resolve(REPO_ROOT, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED_ROOT, ...parts);
}

/**
 * True when the shared file or folder exists; otherwise prints why the tests that need it are skipped
 * (once per path), so a skip is never silent.
 */
export function haveShared(...parts: string[]): boolean {
  const path = sharedPath(...parts);
  if (existsSync(path)) return true;
  console.warn(`SKIPPED: real data not found at ${path} (see datasets/README.md to download it)`);
  return false;
}

export const DRIFT_RAW = sharedPath('datasets', 'uci-gas-drift', 'raw');
export const BEVERAGE = sharedPath('datasets', 'beverage-enose-2016-05', 'frames.csv');
export const CLI = resolve(REPO_ROOT, 'dist', 'cli', 'main.js');
