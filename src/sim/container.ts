/**
 * Ground truth of one container: what it holds, the air inside it, and the port weather at the time. A
 * container is identified by (seed, day, k-th container of the day), so the same container comes out of
 * any run that covers that day, whatever the run's length, and training and evaluation days never share
 * containers. Everything here is drawn from the container's own sub-streams; the rig plays no part.
 */

import { EnoseError } from '../errors.js';
import {
  BACKGROUND,
  COMPOUNDS,
  COMPOUND_INDEX,
  CONTAINER_LABELS,
  MARKER_JITTER_LN_SD,
  REEFER_SHARE,
  SUBSTANCE_MARKERS,
  type CompoundId,
  type ContainerLabel,
} from './compounds.js';
import { createRng } from './random.js';

/** Conditions forced on every container of a run (tests, detection-versus-concentration curves). */
export interface FixedConditions {
  /** Every container holds this (markers drawn as usual unless given in concentrationsPpb). */
  readonly label?: ContainerLabel;
  /** Concentrations in container air that replace the drawn ones (0 removes a compound). */
  readonly concentrationsPpb?: Readonly<Partial<Record<CompoundId, number>>>;
  /** 'none' draws no background or confounders (default 'random'). */
  readonly background?: 'random' | 'none';
  readonly reefer?: boolean;
  readonly ambientTempC?: number;
  readonly ambientRhPct?: number;
  readonly containerTempC?: number;
  readonly containerRhPct?: number;
}

export interface ContainerOptions {
  readonly seed: number;
  /** Share of each label; need not sum to 1 (normalised). */
  readonly composition: Readonly<Record<ContainerLabel, number>>;
  /** Multiplies every drawn marker concentration (not the background). */
  readonly concentrationScale: number;
  readonly fixed: FixedConditions;
}

/** Ground truth of one container as the simulator drew it (plain data: JSON.stringify gives the manifest). */
export interface ContainerTruth {
  readonly day: number;
  /** Position of the container within its day (0-based). */
  readonly indexInDay: number;
  /** Unique sample id within a seed: `d<day>-<k>`. */
  readonly sample: string;
  /** An ISO 6346-style container number with a valid check digit (decorative; may repeat across days). */
  readonly containerId: string;
  readonly label: ContainerLabel;
  readonly reefer: boolean;
  /** Concentration of each compound present in the container air, ppb (before any pre-concentration). */
  readonly concentrationsPpb: Readonly<Partial<Record<CompoundId, number>>>;
  /** Marker compounds of the label (empty for clear). */
  readonly markers: readonly CompoundId[];
  /** Background compounds and confounders present. */
  readonly confounders: readonly CompoundId[];
  readonly ambientTempC: number;
  readonly ambientRhPct: number;
  readonly containerTempC: number;
  readonly containerRhPct: number;
}

const OWNER_CODES = ['MSC', 'MAE', 'CMA', 'HLX', 'EVE', 'ONE', 'COS', 'ZIM', 'YML', 'HMM', 'TGH', 'TCL', 'SEG', 'CAI'];

/** ISO 6346 check digit of the first 10 characters (owner code, category, serial). */
export function iso6346CheckDigit(first10: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const ch = first10.charCodeAt(i);
    let v: number;
    if (ch >= 48 && ch <= 57) v = ch - 48;
    else {
      // Letters count from A = 10 upwards, skipping multiples of 11.
      v = 10 + (ch - 65);
      v += Math.floor((v - 1) / 10); // 11, 22, 33 are skipped
    }
    sum += v * 2 ** i;
  }
  return (sum % 11) % 10;
}

/** Weather of a port day: mean temperature and relative humidity (README: assumption near KNMI normals). */
export function portWeather(seed: number, day: number): { tempC: number; rhPct: number } {
  const rng = createRng(seed, 'weather', day);
  const tempC = 11 + 7 * Math.sin((2 * Math.PI * (day - 110)) / 365) + 3 * rng.normal();
  const rhPct = clamp(80 - 1.5 * (tempC - 11) + 8 * rng.normal(), 35, 100);
  return { tempC, rhPct };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function pickLabel(composition: Readonly<Record<ContainerLabel, number>>, u: number): ContainerLabel {
  let total = 0;
  for (const label of CONTAINER_LABELS) total += composition[label];
  let acc = 0;
  for (const label of CONTAINER_LABELS) {
    acc += composition[label] / total;
    if (u < acc) return label;
  }
  return 'clear';
}

/** Concentrations of a truth as an array in COMPOUNDS order (0 when absent), ppb. */
export function concentrationVector(truth: ContainerTruth): Float64Array {
  const out = new Float64Array(COMPOUNDS.length);
  for (const [id, ppb] of Object.entries(truth.concentrationsPpb) as [CompoundId, number][]) out[COMPOUND_INDEX[id]] = ppb;
  return out;
}

/** Draws the ground truth of the k-th container of a day. */
export function drawContainer(day: number, indexInDay: number, options: ContainerOptions): ContainerTruth {
  const { seed, fixed } = options;
  if (!Number.isInteger(day) || day < 0) throw new EnoseError('bad-option', `day must be an integer >= 0, got ${day}`);
  const idRng = createRng(seed, 'container', day, indexInDay, 'id');
  const owner = OWNER_CODES[idRng.int(OWNER_CODES.length)];
  const serial = String(idRng.int(1_000_000)).padStart(6, '0');
  const first10 = `${owner}U${serial}`;
  const containerId = `${first10}${iso6346CheckDigit(first10)}`;

  const labelRng = createRng(seed, 'container', day, indexInDay, 'label');
  const label = fixed.label ?? pickLabel(options.composition, labelRng.float());

  const conc = new Float64Array(COMPOUNDS.length);
  const markers: CompoundId[] = [];
  if (label !== 'clear') {
    const markerRng = createRng(seed, 'container', day, indexInDay, 'markers');
    const common = markerRng.normal();
    for (const m of SUBSTANCE_MARKERS[label]) {
      const z = Math.log(m.gsd) * common + MARKER_JITTER_LN_SD * markerRng.normal();
      conc[COMPOUND_INDEX[m.compound]] = options.concentrationScale * m.medianPpb * Math.exp(z);
      markers.push(m.compound);
    }
  }

  const kindRng = createRng(seed, 'container', day, indexInDay, 'kind');
  const reefer = fixed.reefer ?? kindRng.chance(REEFER_SHARE);
  if ((fixed.background ?? 'random') === 'random') {
    for (const b of BACKGROUND) {
      // One stream per background compound: adding a compound shifts no other draw.
      const rng = createRng(seed, 'container', day, indexInDay, 'background', b.compound);
      const present = rng.chance(b.probability);
      const value = b.medianPpb * Math.exp(Math.log(b.gsd) * rng.normal());
      if (present && (b.among === 'all' || reefer)) {
        conc[COMPOUND_INDEX[b.compound]] += b.maxPpb === undefined ? value : Math.min(value, b.maxPpb);
      }
    }
  }
  if (fixed.concentrationsPpb) {
    for (const [id, ppb] of Object.entries(fixed.concentrationsPpb) as [CompoundId, number | undefined][]) {
      if (ppb === undefined) continue;
      if (!(ppb >= 0) || !Number.isFinite(ppb)) throw new EnoseError('bad-option', `fixed concentration of ${id} must be >= 0 ppb`);
      const i = COMPOUND_INDEX[id];
      if (i === undefined) throw new EnoseError('bad-option', `unknown compound ${id}`);
      conc[i] = ppb;
    }
  }

  const envRng = createRng(seed, 'container', day, indexInDay, 'environment');
  const weather = portWeather(seed, day);
  const ambientTempC = fixed.ambientTempC ?? weather.tempC + envRng.normal();
  const ambientRhPct = fixed.ambientRhPct ?? clamp(weather.rhPct + 3 * envRng.normal(), 20, 100);
  const inReeferTempC = envRng.uniform(2, 14);
  const inReeferRhPct = envRng.uniform(85, 95);
  const inDryTempC = ambientTempC + 2 + 2 * envRng.normal();
  const inDryRhPct = clamp(70 + 12 * envRng.normal(), 25, 98);
  const containerTempC = fixed.containerTempC ?? (reefer ? inReeferTempC : inDryTempC);
  const containerRhPct = fixed.containerRhPct ?? (reefer ? inReeferRhPct : inDryRhPct);

  const concentrationsPpb: Partial<Record<CompoundId, number>> = {};
  const confounders: CompoundId[] = [];
  COMPOUNDS.forEach((c, i) => {
    if (conc[i] > 0) {
      concentrationsPpb[c.id] = conc[i];
      if (!markers.includes(c.id)) confounders.push(c.id);
    }
  });
  return Object.freeze({
    day,
    indexInDay,
    sample: `d${day}-${indexInDay}`,
    containerId,
    label,
    reefer,
    concentrationsPpb: Object.freeze(concentrationsPpb),
    markers: Object.freeze(markers),
    confounders: Object.freeze(confounders),
    ambientTempC,
    ambientRhPct,
    containerTempC,
    containerRhPct,
  });
}
