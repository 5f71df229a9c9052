/**
 * Compounds in container air: the drug markers and the container background and confounders, with how
 * each responds on the sensors (a compound class with a datasheet proxy curve), how sticky it is, whether a
 * sorbent pre-concentrator retains it, and how often and how much of it a container holds. Sources and
 * the assumptions made are listed in datasets/container-sim/README.md; numbers marked "assumption" there
 * are not from a measurement and were not tuned to any classifier result.
 */

import type { ResponseClass, Stickiness } from './sensors.js';

export type CompoundId =
  | 'methyl_benzoate'
  | 'limonene'
  | 'myrcene'
  | 'beta_caryophyllene'
  | 'acetic_acid'
  | 'piperonal'
  | 'formaldehyde'
  | 'toluene'
  | 'benzene'
  | 'methyl_bromide'
  | 'phosphine'
  | 'ethylene_oxide'
  | 'ethylene'
  | 'fruit_esters'
  | 'diesel'
  | 'ammonia';

export interface CompoundSpec {
  readonly id: CompoundId;
  readonly name: string;
  readonly responseClass: ResponseClass;
  /** Factor on the class's k for this compound (1 unless stated in the README). */
  readonly relativeResponse: number;
  /** Dynamic class: 0 fast, 1 medium, 2 slow (low volatility or polar, adsorbs on tubing and sensor). */
  readonly stickiness: Stickiness;
  /** Retained by a Tenax-type sorbent trap, so multiplied by the pre-concentration factor. */
  readonly trapped: boolean;
}

const compound = (
  id: CompoundId,
  name: string,
  responseClass: ResponseClass,
  relativeResponse: number,
  stickiness: Stickiness,
  trapped: boolean,
): CompoundSpec => Object.freeze({ id, name, responseClass, relativeResponse, stickiness, trapped });

/** Every simulated compound, in a fixed order (the order of concentration arrays). */
export const COMPOUNDS: readonly CompoundSpec[] = Object.freeze([
  compound('methyl_benzoate', 'methyl benzoate', 'oxygenated', 1, 1, true),
  compound('limonene', 'limonene', 'hydrocarbon', 1, 0, true),
  compound('myrcene', 'beta-myrcene', 'hydrocarbon', 1, 0, true),
  compound('beta_caryophyllene', 'beta-caryophyllene', 'hydrocarbon', 1, 2, true),
  compound('acetic_acid', 'acetic acid', 'oxygenated', 0.5, 2, false),
  compound('piperonal', 'piperonal', 'oxygenated', 1, 2, true),
  compound('formaldehyde', 'formaldehyde', 'oxygenated', 0.5, 0, false),
  compound('toluene', 'toluene', 'aromatic', 1, 0, true),
  compound('benzene', 'benzene', 'aromatic', 1, 0, true),
  compound('methyl_bromide', 'methyl bromide', 'halocarbon', 1, 0, false),
  compound('phosphine', 'phosphine', 'hydride', 1, 0, false),
  compound('ethylene_oxide', 'ethylene oxide', 'oxygenated', 0.5, 0, false),
  compound('ethylene', 'ethylene', 'hydrocarbon', 1, 0, false),
  compound('fruit_esters', 'fruit esters (as ethyl acetate)', 'oxygenated', 1, 0, true),
  compound('diesel', 'diesel exhaust and fuel VOC (as hexane)', 'hydrocarbon', 1, 1, true),
  compound('ammonia', 'ammonia', 'amine', 1, 2, false),
]);

export const COMPOUND_INDEX: Readonly<Record<CompoundId, number>> = Object.freeze(
  Object.fromEntries(COMPOUNDS.map((c, i) => [c.id, i])) as Record<CompoundId, number>,
);

export type Substance = 'cocaine' | 'cannabis' | 'heroin' | 'mdma';
export const SUBSTANCES: readonly Substance[] = ['cocaine', 'cannabis', 'heroin', 'mdma'];

/** A container's ground-truth class: `clear` or the substance it holds. */
export type ContainerLabel = 'clear' | Substance;
export const CONTAINER_LABELS: readonly ContainerLabel[] = ['clear', ...SUBSTANCES];

/** Log-normal concentration in container air: median (ppb) and geometric standard deviation. */
export interface ConcentrationSpec {
  readonly compound: CompoundId;
  readonly medianPpb: number;
  readonly gsd: number;
  /** Upper clip, ppb (the largest value a study reported), when there is one. */
  readonly maxPpb?: number;
}

/**
 * Drug markers. Marker choice: Lorenzo et al., Anal. Bioanal. Chem. 376 (2003) 1212 (methyl benzoate for
 * cocaine, piperonal for MDMA, acetic acid for heroin); Rice and Koziel, PLoS ONE 10 (2015) e0144160
 * (limonene, myrcene, beta-caryophyllene among the main cannabis volatiles). Concentrations in container
 * air: assumptions (no published container-air measurement found), see the README.
 */
export const SUBSTANCE_MARKERS: Readonly<Record<Substance, readonly ConcentrationSpec[]>> = Object.freeze({
  cocaine: [{ compound: 'methyl_benzoate', medianPpb: 20, gsd: 3 }],
  cannabis: [
    { compound: 'myrcene', medianPpb: 40, gsd: 3 },
    { compound: 'limonene', medianPpb: 30, gsd: 3 },
    { compound: 'beta_caryophyllene', medianPpb: 10, gsd: 3 },
  ],
  heroin: [{ compound: 'acetic_acid', medianPpb: 200, gsd: 3 }],
  mdma: [{ compound: 'piperonal', medianPpb: 3, gsd: 3 }],
});

/** Within a substance, markers share one log-normal level; each adds this much own jitter (log sd). */
export const MARKER_JITTER_LN_SD = 0.3;

/** A background compound or confounder: present with a probability, then log-normal. */
export interface BackgroundSpec extends ConcentrationSpec {
  /** Probability that a container (of the stated kind) holds it. */
  readonly probability: number;
  /** Which containers can hold it. */
  readonly among: 'all' | 'reefer';
}

/** Log-normal sd from a median and inter-quartile range: ln(q3/q1) / (2 * 0.6745). */
export function gsdFromIqr(q1: number, q3: number): number {
  return Math.exp(Math.log(q3 / q1) / 1.349);
}

/**
 * Background and confounders. The first six: Hinz et al., Ann. Work Expo. Health 66 (2022) 481,
 * doi:10.1093/annweh/wxab090, grab samples of 490 sealed containers arriving in New Zealand: share above
 * the limit of detection, median and inter-quartile range among those (ppb), maximum. The others are
 * assumptions (README).
 */
export const BACKGROUND: readonly BackgroundSpec[] = Object.freeze([
  { compound: 'formaldehyde', probability: 0.81, among: 'all', medianPpb: 45.3, gsd: gsdFromIqr(26.4, 87.6), maxPpb: 6562 },
  { compound: 'toluene', probability: 0.318, among: 'all', medianPpb: 115.5, gsd: gsdFromIqr(61.2, 244.1), maxPpb: 6840.7 },
  { compound: 'benzene', probability: 0.035, among: 'all', medianPpb: 210, gsd: gsdFromIqr(112, 299), maxPpb: 3069.9 },
  { compound: 'methyl_bromide', probability: 0.035, among: 'all', medianPpb: 415.3, gsd: gsdFromIqr(78.6, 2734.7), maxPpb: 49890.9 },
  { compound: 'phosphine', probability: 0.01, among: 'all', medianPpb: 51.5, gsd: gsdFromIqr(20, 82.9), maxPpb: 144.03 },
  { compound: 'ethylene_oxide', probability: 0.047, among: 'all', medianPpb: 1241.5, gsd: gsdFromIqr(689.6, 1922.2), maxPpb: 9717 },
  // Assumptions (README): reefer cargo, port air drawn with the sample, odorous cargo.
  { compound: 'ethylene', probability: 0.8, among: 'reefer', medianPpb: 500, gsd: 3 },
  { compound: 'fruit_esters', probability: 0.5, among: 'reefer', medianPpb: 50, gsd: 3 },
  { compound: 'diesel', probability: 0.1, among: 'all', medianPpb: 200, gsd: 3 },
  { compound: 'ammonia', probability: 0.05, among: 'all', medianPpb: 500, gsd: 3 },
] satisfies BackgroundSpec[]);

/** Share of refrigerated containers (assumption, README). */
export const REEFER_SHARE = 0.1;

/** Default composition of a simulated set: a test-set mix, not field prevalence (which is far below 1 %). */
export const DEFAULT_COMPOSITION: Readonly<Record<ContainerLabel, number>> = Object.freeze({
  clear: 0.5,
  cocaine: 0.125,
  cannabis: 0.125,
  heroin: 0.125,
  mdma: 0.125,
});
