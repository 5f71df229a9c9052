/**
 * Bosch BME AI-Studio raw data (`.bmerawdata`, JSON): `rawDataBody.dataColumns` names the columns (each with
 * `name`, `unit`, `format`, `key`) and `rawDataBody.dataBlock` holds one row per reading: sensor index, time,
 * temperature, pressure, humidity, gas resistance (ohm), heater profile step index, label tag, error code, ...
 * A BME688 runs a heater profile of several temperature steps and reads the gas resistance at each; one pass
 * of the profile (steps 0 to the last, one sensor, in order) is one sample here, and the resistance at each
 * step a feature (`gas_step<k>`): the resistance over the heater temperatures is the sensor's odour signature
 * (Bosch Sensortec, BME688 datasheet, "heater profiles"). The label is the pass's label tag, named by the
 * `labelInformation` list (`labelTag`, `labelName`) of a `.bmelabelinfo` file of the same name, or of the raw
 * data file itself; tag 0 without a name is unlabelled. Passes cut short, with a reading flagged by its error
 * code, or mixing label tags are left out and counted in the warnings.
 */
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { columnsReason, ReadBudget } from './limits.js';
import { baseName, fileName } from './text.js';

export const BME_EXTENSION = '.bmerawdata';

interface Column {
  readonly name?: unknown;
  readonly key?: unknown;
}

/** Index of a column by its key or, failing that, its name (case-insensitive). */
function columnIndex(columns: readonly Column[], key: string, name: string): number {
  const byKey = columns.findIndex((c) => typeof c.key === 'string' && c.key.toLowerCase() === key);
  if (byKey >= 0) return byKey;
  return columns.findIndex((c) => typeof c.name === 'string' && c.name.toLowerCase() === name);
}

/** Label names from a `labelInformation` list; anything else gives none. */
export function labelNames(json: unknown): Map<number, string> {
  const names = new Map<number, string>();
  const list = (json as { labelInformation?: unknown } | null)?.labelInformation;
  if (!Array.isArray(list)) return names;
  for (const l of list as { labelTag?: unknown; labelName?: unknown }[]) {
    if (typeof l?.labelTag === 'number' && typeof l.labelName === 'string' && l.labelName !== '') names.set(l.labelTag, l.labelName);
  }
  return names;
}

/**
 * Parses a `.bmerawdata` text (and the parsed `.bmelabelinfo`, when there is one) into a feature table of one
 * row per heater-profile pass.
 */
export function parseBmeRawData(
  text: string,
  source: string,
  labelInfo: unknown = null,
  budget: ReadBudget = new ReadBudget(),
  labelsRequired = false,
): Result<{ table: FeatureTable; warnings: DataIssue[] }> {
  const bad = (reason: string) => fail({ file: source, line: 0, reason });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return bad(`not JSON: ${(error as Error).message}`);
  }
  const body = (json as { rawDataBody?: { dataColumns?: unknown; dataBlock?: unknown } } | null)?.rawDataBody;
  if (!body || !Array.isArray(body.dataColumns) || !Array.isArray(body.dataBlock)) {
    return bad('not BME AI-Studio raw data: no rawDataBody with dataColumns and dataBlock');
  }
  const columns = body.dataColumns as Column[];
  const col = {
    sensor: columnIndex(columns, 'sensor_index', 'sensor index'),
    step: columnIndex(columns, 'heater_profile_step_index', 'heater profile step index'),
    gas: columnIndex(columns, 'resistance_gassensor', 'resistance gassensor'),
    label: columnIndex(columns, 'label_tag', 'label tag'),
    error: columnIndex(columns, 'error_code', 'error code'),
  };
  for (const [what, index] of [['resistance_gassensor', col.gas], ['heater_profile_step_index', col.step]] as const) {
    if (index < 0) return bad(`rawDataBody.dataColumns has no ${what} column`);
  }
  const names = labelNames(labelInfo);
  for (const [tag, name] of labelNames(json)) if (!names.has(tag)) names.set(tag, name);
  const rows = body.dataBlock as unknown[];
  if (rows.length > budget.limits.maxRows) return bad(`rawDataBody.dataBlock: ${rows.length.toLocaleString('en-US')} readings, more than ${budget.limits.maxRows.toLocaleString('en-US')} (--max-rows raises the bound)`);
  let steps = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== columns.length) return bad(`rawDataBody.dataBlock row ${r + 1}: ${Array.isArray(row) ? `${row.length} values, dataColumns has ${columns.length}` : 'not an array'}`);
    const step = row[col.step];
    if (!(Number.isInteger(step) && step >= 0 && step < 1_000_000)) return bad(`rawDataBody.dataBlock row ${r + 1}: heater profile step index ${JSON.stringify(step)} is not an integer from 0`);
    const gas = row[col.gas];
    if (typeof gas !== 'number') return bad(`rawDataBody.dataBlock row ${r + 1}: gas resistance ${JSON.stringify(gas)} is not a number`);
    steps = Math.max(steps, step + 1);
  }
  if (rows.length === 0) return bad('rawDataBody.dataBlock holds no readings');
  const wide = columnsReason(steps, budget.limits, 'heater-profile steps');
  if (wide !== null) return bad(wide);

  const featureNames = Array.from({ length: steps }, (_, k) => `gas_step${k}`);
  const x: number[] = [];
  const labels: string[] = [];
  const samples: string[] = [];
  const file = fileName(source);
  let overBudget: string | null = null;
  let cut = 0;
  let flagged = 0;
  let mixed = 0;
  // The pass in progress per sensor: its resistances by step, the steps seen, its label tags, a flagged reading.
  const open = new Map<number, { values: Float64Array; next: number; tags: Set<number>; error: boolean; count: number }>();
  const close = (sensor: number) => {
    const pass = open.get(sensor);
    if (!pass) return;
    open.delete(sensor);
    if (pass.next !== steps) return void cut++;
    if (pass.error) return void flagged++;
    if (pass.tags.size > 1) return void mixed++;
    const tag = [...pass.tags][0] ?? 0;
    const label = names.get(tag) ?? (tag === 0 ? '' : `tag${tag}`);
    overBudget ??= budget.addRow(steps) ?? budget.checkLabel(label, !labelsRequired);
    labels.push(label);
    samples.push(`${file}#s${sensor}-${pass.count}`);
    for (const v of pass.values) x.push(v);
  };
  const passes = new Map<number, number>();
  for (const row of rows as unknown[][]) {
    const sensor = col.sensor >= 0 && typeof row[col.sensor] === 'number' ? (row[col.sensor] as number) : 0;
    const step = row[col.step] as number;
    let pass = open.get(sensor);
    // A pass runs its steps in order from 0: a step that is not the next one ends it (a new one starts at 0).
    if (pass && step !== pass.next) close(sensor);
    pass = open.get(sensor);
    if (!pass) {
      if (step !== 0) {
        cut++;
        continue;
      }
      const count = (passes.get(sensor) ?? 0) + 1;
      passes.set(sensor, count);
      pass = { values: new Float64Array(steps), next: 0, tags: new Set(), error: false, count };
      open.set(sensor, pass);
    }
    pass.values[step] = row[col.gas] as number;
    pass.next = step + 1;
    if (col.label >= 0 && typeof row[col.label] === 'number') pass.tags.add(row[col.label] as number);
    if (col.error >= 0 && row[col.error] !== 0 && row[col.error] !== null) pass.error = true;
    if (pass.next === steps) close(sensor);
  }
  for (const sensor of [...open.keys()]) close(sensor);
  if (overBudget !== null) return bad(`rawDataBody.dataBlock: ${overBudget}`);
  const warnings: DataIssue[] = [];
  if (cut > 0) warnings.push({ file: source, line: 0, reason: `${cut} heater-profile pass(es) cut short (not all ${steps} steps in order) left out` });
  if (flagged > 0) warnings.push({ file: source, line: 0, reason: `${flagged} pass(es) with a reading flagged by its error code left out` });
  if (mixed > 0) warnings.push({ file: source, line: 0, reason: `${mixed} pass(es) spanning two label tags left out` });
  if (labels.length === 0) return bad(`no complete heater-profile pass (${steps} steps) in rawDataBody.dataBlock`);
  const group = baseName(source);
  return ok({
    table: { source, featureNames, width: steps, count: labels.length, x: Float64Array.from(x), labels, samples, groups: labels.map(() => group) },
    warnings,
  });
}
