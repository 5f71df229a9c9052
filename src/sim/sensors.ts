/**
 * The simulated MOX sensors: datasheet response curves, temperature and humidity cross-sensitivity,
 * dynamics, noise, drift, and the drawing of individual units with unit-to-unit spread.
 *
 * Response law (per sensor and compound class): Rs/R0 = 1 / (1 + k C^beta), C in ppm, R0 the resistance
 * in clean air at 20 degC / 65 %RH; for a mixture the conductance increments add (an assumption). The
 * power law is the usual form for sintered SnO2 (Yamazoe and Shimanoe, Sens. Actuators B 128 (2008) 566).
 * Every number is listed with its source in datasets/container-sim/README.md.
 */

import { EnoseError } from '../errors.js';
import type { Rng } from './random.js';

export type SensorModel = 'tgs2600' | 'tgs2602' | 'tgs2610' | 'tgs2620';
export const SENSOR_MODELS: readonly SensorModel[] = ['tgs2600', 'tgs2602', 'tgs2610', 'tgs2620'];

/** Compound classes that share a datasheet proxy curve on each sensor. */
export type ResponseClass = 'oxygenated' | 'hydrocarbon' | 'aromatic' | 'amine' | 'hydride' | 'halocarbon';
export const RESPONSE_CLASSES: readonly ResponseClass[] = ['oxygenated', 'hydrocarbon', 'aromatic', 'amine', 'hydride', 'halocarbon'];

/** Dynamic classes: time constants are the unit's times these multipliers (sticky compounds are slower). */
export const STICKINESS_TAU_MULTIPLIER: readonly number[] = [1, 2, 4];
export type Stickiness = 0 | 1 | 2;

/** Rs/Rair = 1 / (1 + k C^beta) with C in ppm. */
export interface PowerLaw {
  readonly k: number;
  readonly beta: number;
}

/**
 * Fits k and beta through two points (C in ppm, Rs/Rair) of a datasheet curve: with g = 1/r - 1,
 * beta = ln(g2/g1) / ln(C2/C1), k = g1 / C1^beta.
 */
export function powerLawFromPoints(c1Ppm: number, r1: number, c2Ppm: number, r2: number): PowerLaw {
  if (!(c1Ppm > 0 && c2Ppm > c1Ppm && r1 > r2 && r1 < 1 && r2 > 0)) {
    throw new EnoseError('internal', `bad curve points (${c1Ppm}, ${r1}), (${c2Ppm}, ${r2})`);
  }
  const g1 = 1 / r1 - 1;
  const g2 = 1 / r2 - 1;
  const beta = Math.log(g2 / g1) / Math.log(c2Ppm / c1Ppm);
  return { k: g1 / Math.pow(c1Ppm, beta), beta };
}

/** Rs/Ro on a curve digitised as ppm = a * (Rs/Ro)^b (the MySensors AirQuality sketch's form). */
function ratioFromDigitised(a: number, b: number, ppm: number): number {
  return Math.pow(ppm / a, 1 / b);
}

/**
 * Rs/Ro of a datasheet whose Ro is a gas reference (TGS2610: 1800 ppm iso-butane; TGS2620: 300 ppm
 * ethanol), from its specified slope: Rs(C)/Ro = (C / cRef)^(-n), n = -ln(ratio) / ln(c2/c1).
 */
function ratioFromSpecSlope(specRatio: number, specC1: number, specC2: number, cRef: number, ppm: number): number {
  const n = -Math.log(specRatio) / Math.log(specC2 / specC1);
  return Math.pow(ppm / cRef, -n);
}

/**
 * Rs(clean air)/Ro on the TGS2610 and TGS2620 sheets, whose Ro is measured in a reference gas. Read
 * approximately from the "Air" line of their sensitivity figures: about 10, uncertain by a factor of 2.
 */
export const AIR_OVER_REFERENCE = 10;

/** Datasheet curves (relative to clean air) the compound classes map to. */
export const CURVES = {
  // TGS2600: Ro = Rs in clean air. Curves of the "Sensitivity characteristics" figure as digitised in the
  // public MySensors AirQuality sketch (ppm = a (Rs/Ro)^b); fitted through 1 and 10 ppm (inside 1-100 ppm).
  tgs2600_hydrogen: powerLawFromPoints(1, ratioFromDigitised(0.3417050674, -2.887154835, 1), 10, ratioFromDigitised(0.3417050674, -2.887154835, 10)),
  tgs2600_ethanol: powerLawFromPoints(1, ratioFromDigitised(0.2995093465, -3.148170562, 1), 10, ratioFromDigitised(0.2995093465, -3.148170562, 10)),
  tgs2600_isobutane: powerLawFromPoints(1, ratioFromDigitised(0.3555567714, -3.337882361, 1), 10, ratioFromDigitised(0.3555567714, -3.337882361, 10)),
  // TGS2602: Ro = Rs in clean air. Points (ppm, Rs/Ro) of the figure as digitised in the same sketch.
  tgs2602_ethanol: powerLawFromPoints(1, 0.75, 10, 0.3),
  tgs2602_toluene: powerLawFromPoints(1, 0.3, 10, 0.08),
  tgs2602_ammonia: powerLawFromPoints(1, 0.8, 10, 0.5),
  // TGS2610: Ro = Rs in 1800 ppm iso-butane; slope from the specification Rs(3000)/Rs(1000) = 0.56;
  // points at 1000 and 3000 ppm divided by the Air line (AIR_OVER_REFERENCE).
  tgs2610_isobutane: powerLawFromPoints(
    1000, ratioFromSpecSlope(0.56, 1000, 3000, 1800, 1000) / AIR_OVER_REFERENCE,
    3000, ratioFromSpecSlope(0.56, 1000, 3000, 1800, 3000) / AIR_OVER_REFERENCE,
  ),
  // TGS2620: Ro = Rs in 300 ppm ethanol; slope from the specification Rs(300)/Rs(50) = 0.3..0.5 (0.4 taken);
  // points at 50 and 300 ppm divided by the Air line.
  tgs2620_ethanol: powerLawFromPoints(
    50, ratioFromSpecSlope(0.4, 50, 300, 300, 50) / AIR_OVER_REFERENCE,
    300, ratioFromSpecSlope(0.4, 50, 300, 300, 300) / AIR_OVER_REFERENCE,
  ),
} as const satisfies Record<string, PowerLaw>;

export type CurveName = keyof typeof CURVES;

/** How a compound class responds on a sensor: a datasheet curve and a factor on k (1 = the curve itself). */
export interface ClassResponse {
  readonly curve: CurveName;
  readonly factor: number;
  /** True when the curve is the class's own gas on the datasheet; false when it is a proxy (assumption). */
  readonly onDatasheet: boolean;
}

export interface SensorModelSpec {
  readonly model: SensorModel;
  /** Range of Rs in clean air from the datasheet's specification (or derived from it), ohm. */
  readonly r0MinOhm: number;
  readonly r0MaxOhm: number;
  /** Load resistor of the rig's voltage divider for this model, ohm (geometric middle of the R0 range). */
  readonly loadOhm: number;
  readonly classes: Readonly<Record<ResponseClass, ClassResponse>>;
  /** d ln(Rs) / d RH (per %RH) and d ln(Rs) / dT (per degC), around 20 degC / 65 %RH. */
  readonly humidityLnPerPct: number;
  readonly temperatureLnPerC: number;
}

function modelSpec(
  model: SensorModel,
  r0MinOhm: number,
  r0MaxOhm: number,
  classes: Record<ResponseClass, ClassResponse>,
  humidityLnPerPct: number,
  temperatureLnPerC: number,
): SensorModelSpec {
  return Object.freeze({
    model,
    r0MinOhm,
    r0MaxOhm,
    loadOhm: Math.round(Math.sqrt(r0MinOhm * r0MaxOhm)),
    classes: Object.freeze(classes),
    humidityLnPerPct,
    temperatureLnPerC,
  });
}

const c = (curve: CurveName, factor: number, onDatasheet: boolean): ClassResponse => ({ curve, factor, onDatasheet });

/** The four sensor models. Factors marked onDatasheet=false are assumptions (see the README). */
export const SENSOR_SPECS: Readonly<Record<SensorModel, SensorModelSpec>> = Object.freeze({
  // Rs in air 10-90 kOhm (TGS2600 specification).
  tgs2600: modelSpec('tgs2600', 10e3, 90e3, {
    oxygenated: c('tgs2600_ethanol', 1, true),
    hydrocarbon: c('tgs2600_isobutane', 1, true),
    aromatic: c('tgs2600_isobutane', 1, false),
    amine: c('tgs2600_hydrogen', 0.3, false),
    hydride: c('tgs2600_hydrogen', 1, false),
    halocarbon: c('tgs2600_isobutane', 0.1, false),
  }, -0.008, -0.015),
  // Rs in air 10-100 kOhm (TGS2602 specification).
  tgs2602: modelSpec('tgs2602', 10e3, 100e3, {
    oxygenated: c('tgs2602_ethanol', 1, true),
    hydrocarbon: c('tgs2602_toluene', 0.3, false),
    aromatic: c('tgs2602_toluene', 1, true),
    amine: c('tgs2602_ammonia', 1, true),
    hydride: c('tgs2602_ethanol', 1, false),
    halocarbon: c('tgs2602_ethanol', 0.1, false),
  }, -0.008, -0.013),
  // Rs in 1800 ppm iso-butane 0.68-6.8 kOhm (specification) times the Air line (about 10).
  tgs2610: modelSpec('tgs2610', 0.68e3 * AIR_OVER_REFERENCE, 6.8e3 * AIR_OVER_REFERENCE, {
    oxygenated: c('tgs2610_isobutane', 0.3, false),
    hydrocarbon: c('tgs2610_isobutane', 1, true),
    aromatic: c('tgs2610_isobutane', 0.5, false),
    amine: c('tgs2610_isobutane', 0.1, false),
    hydride: c('tgs2610_isobutane', 1, false),
    halocarbon: c('tgs2610_isobutane', 0.1, false),
  }, -0.005, -0.012),
  // Rs in 300 ppm ethanol 1-5 kOhm (specification) times the Air line (about 10).
  tgs2620: modelSpec('tgs2620', 1e3 * AIR_OVER_REFERENCE, 5e3 * AIR_OVER_REFERENCE, {
    oxygenated: c('tgs2620_ethanol', 1, true),
    hydrocarbon: c('tgs2620_ethanol', 0.3, false),
    aromatic: c('tgs2620_ethanol', 0.5, false),
    amine: c('tgs2620_ethanol', 0.1, false),
    hydride: c('tgs2620_ethanol', 1, false),
    halocarbon: c('tgs2620_ethanol', 0.1, false),
  }, -0.006, -0.012),
});

/** Defaults shared by all models; each is an assumption or a figure from our own analysis (README). */
export const SENSOR_DEFAULTS = Object.freeze({
  /** First-order rise time constant of a fast compound, seconds (sensor plus chamber flush). */
  tauRiseS: 8,
  /** First-order decay (recovery) time constant of a fast compound, seconds. */
  tauDecayS: 20,
  /** Relative white noise of Rs per frame at 10 Hz (sd). */
  whiteNoise: 0.002,
  /** Relative 1/f (flicker) noise of Rs (sd of the Voss-McCartney sum). */
  flickerNoise: 0.002,
  /** Sensitivity loss: k is multiplied by exp(-rate * day). From the UCI drift data (own fit, README). */
  sensitivityLossPerDay: 0.0013,
  /** Baseline drift: ln R0 gains a per-unit trend (sd of the slope) plus a random walk (sd per sqrt(day)). */
  baselineTrendLnPerDaySd: 0.001,
  baselineWalkLnPerSqrtDay: 0.004,
});

/** Unit-to-unit spread at unitSpread = 1 (log-normal sd unless stated). */
export const UNIT_SPREAD = Object.freeze({
  /** k of each class on each unit: within-type spread of the response in the UCI drift data is 2-24 %. */
  sensitivity: 0.1,
  /** beta, absolute sd. */
  beta: 0.03,
  /** Humidity and temperature coefficients, relative. */
  environment: 0.15,
  /** Time constants. */
  tau: 0.15,
  /** Noise levels. */
  noise: 0.2,
  /** Sensitivity-loss rate, relative. */
  sensitivityLoss: 0.25,
});

/** One physical sensor unit of a rig, with its drawn parameters. */
export interface SensorUnit {
  readonly channel: string;
  readonly model: SensorModel;
  /** 1-based unit number within its model. */
  readonly unit: number;
  /** Rs in clean air at 20 degC / 65 %RH on day 0, ohm. */
  readonly r0Ohm: number;
  readonly loadOhm: number;
  /** k and beta per response class, in RESPONSE_CLASSES order. */
  readonly classK: Float64Array;
  readonly classBeta: Float64Array;
  readonly humidityLnPerPct: number;
  readonly temperatureLnPerC: number;
  readonly tauRiseS: number;
  readonly tauDecayS: number;
  readonly whiteNoise: number;
  readonly flickerNoise: number;
  readonly sensitivityLossPerDay: number;
  readonly baselineTrendLnPerDay: number;
}

/** Draws one unit of a model; `spread` scales every unit-to-unit sd (0 gives the nominal sensor). */
export function drawSensorUnit(model: SensorModel, unit: number, spread: number, rng: Rng): SensorUnit {
  const spec = SENSOR_SPECS[model];
  const d = SENSOR_DEFAULTS;
  const lnMid = 0.5 * (Math.log(spec.r0MinOhm) + Math.log(spec.r0MaxOhm));
  const lnSd = (Math.log(spec.r0MaxOhm) - Math.log(spec.r0MinOhm)) / 4; // 95 % inside the specified range
  const r0Ohm = Math.exp(lnMid + spread * lnSd * rng.normal());
  const classK = new Float64Array(RESPONSE_CLASSES.length);
  const classBeta = new Float64Array(RESPONSE_CLASSES.length);
  RESPONSE_CLASSES.forEach((cls, i) => {
    const resp = spec.classes[cls];
    const curve = CURVES[resp.curve];
    classK[i] = curve.k * resp.factor * Math.exp(spread * UNIT_SPREAD.sensitivity * rng.normal());
    classBeta[i] = Math.max(0.2, curve.beta + spread * UNIT_SPREAD.beta * rng.normal());
  });
  const envJitter = (): number => Math.exp(spread * UNIT_SPREAD.environment * rng.normal());
  const humidityLnPerPct = spec.humidityLnPerPct * envJitter();
  const temperatureLnPerC = spec.temperatureLnPerC * envJitter();
  const tauJitter = Math.exp(spread * UNIT_SPREAD.tau * rng.normal());
  const noiseJitter = (): number => Math.exp(spread * UNIT_SPREAD.noise * rng.normal());
  const whiteNoise = d.whiteNoise * noiseJitter();
  const flickerNoise = d.flickerNoise * noiseJitter();
  const sensitivityLossPerDay = d.sensitivityLossPerDay * Math.exp(UNIT_SPREAD.sensitivityLoss * rng.normal());
  const baselineTrendLnPerDay = d.baselineTrendLnPerDaySd * rng.normal();
  return Object.freeze({
    channel: `${model}_${unit}`,
    model,
    unit,
    r0Ohm,
    loadOhm: spec.loadOhm,
    classK,
    classBeta,
    humidityLnPerPct,
    temperatureLnPerC,
    tauRiseS: d.tauRiseS * tauJitter,
    tauDecayS: d.tauDecayS * tauJitter,
    whiteNoise,
    flickerNoise,
    sensitivityLossPerDay,
    baselineTrendLnPerDay,
  });
}

/** Steady-state conductance increment g = k C^beta of one class on one unit (Rs/R0 = 1/(1+g)). */
export function classResponse(unit: SensorUnit, classIndex: number, ppm: number): number {
  return ppm > 0 ? unit.classK[classIndex] * Math.pow(ppm, unit.classBeta[classIndex]) : 0;
}
