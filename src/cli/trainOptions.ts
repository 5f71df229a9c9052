/** The options of `enose train` (40 of its own, and the data files' delimiter and limits), declared once. */
import { DATA_LIMIT_OPTIONS } from './dataLimitsOption.js';
import { DELIMITER_OPTION } from './delimiterOption.js';
import type { OptionTable } from './options.js';

/** The parser's options and the help's rows (options.ts). */
export const TRAIN_OPTIONS = {
  out: { type: 'string', value: 'file', description: 'model file to write, atomically; gzip if *.gz', required: true },
  classifier: { type: 'string', value: 'name', description: 'knn | lda | logreg | mlp', default: 'chosen; feature files: lda' },
  features: {
    type: 'string',
    value: 'family',
    description:
      'frames: phase (responses against the baseline: ss, peak, area, slope, EMAs) | whole (levels and shape over the whole sample: mean, std, min, max, first 30 s, last 60 s, slope per minute) | phase+whole | windows (log response over six 10 s windows)',
    default: 'chosen',
  },
  'fixed-gates': {
    type: 'boolean',
    description: "frames: the fixed quality-gate limits instead of limits learned from the training data (each channel's resolution, range, movement)",
  },
  strict: {
    type: 'boolean',
    description: 'refuse (exit 2) when classes are lost to the gates, a class has fewer than --min-class-samples samples, or a gate skips over 10% of the cycles',
  },
  'min-class-samples': { type: 'string', value: 'n', description: 'frames: fewer samples in a class is a problem', default: '5' },
  k: { type: 'string', value: 'n', description: 'neighbours for knn', default: '5' },
  c: { type: 'string', value: 'C', description: "logreg: inverse L2 regularisation (scikit-learn's C)", default: '1' },
  hidden: { type: 'string', value: 'n,n,...', description: 'mlp: hidden layer sizes', default: '128,64' },
  alpha: { type: 'string', value: 'x', description: "mlp: L2 penalty (scikit-learn's alpha)", default: '0.001' },
  networks: { type: 'string', value: 'n', description: 'mlp: networks trained (seeds seed, seed+1, ...), probabilities averaged', default: '1' },
  threads: {
    type: 'string',
    value: 'n',
    description: 'mlp: networks trained side by side on worker threads, at most (the same model bit for bit)',
    default: 'the cores, up to 4',
  },
  'max-epochs': {
    type: 'string',
    value: 'n',
    description:
      'mlp: at most this many epochs (early stopping on a 10% validation share, patience 10); the policy is calibrated on one held-out fold of --cv instead of a cross-validation',
    default: '200',
  },
  components: { type: 'string', value: 'k', description: 'keep k principal components' },
  variance: { type: 'string', value: 'v', description: 'keep the fewest components explaining share v', default: '0.99' },
  suspicious: { type: 'string', value: 'a,b,...', description: 'these labels are suspicious, all others clear' },
  clear: {
    type: 'string',
    value: 'a,b,...',
    description:
      'these labels are clear, all others suspicious (neither: a label named "clear" is clear, all others suspicious; no such label: no policy, verdicts carry the class only)',
  },
  'allow-no-suspicious-class': {
    type: 'boolean',
    description: 'train on data in which no class is suspicious (refused otherwise: such a model can only clear)',
  },
  'max-false-alarm': { type: 'string', value: 'r', description: 'false-alarm rate the threshold must meet in cross-validation', default: '0.01' },
  'cv-folds': { type: 'string', value: 'n', description: 'folds of the cross-validation (2..20; 0 = none)', default: '5' },
  cv: { type: 'string', value: 'n', description: 'same as --cv-folds' },
  seed: { type: 'string', value: 'n', description: 'seed of the fold assignment and of the MLP networks', default: '1' },
  transform: { type: 'string', value: 't', description: 'none | signed-log: sign(x) ln(1+|x|) per feature', default: 'chosen; feature files: none' },
  views: {
    type: 'string',
    value: 'v,v,...',
    description:
      'feature files: one lda/logreg per view of the features (none, signed-log, log-abs), logits averaged, one model file; with "enose calibrate" the drift data\'s best unlabelled recalibration (datasets/README.md). No policy or novelty limit yet',
  },
  'novelty-quantile': {
    type: 'string',
    value: 'q',
    description: 'unknown-odour limit: this quantile of leave-one-out nearest-training-sample distances (0 = off)',
    default: '0.95',
  },
  'novelty-whiten': {
    type: 'boolean',
    description: 'measure that distance with each principal component divided by its training standard deviation (low-variance directions count)',
  },
  'baseline-s': { type: 'string', value: 's', description: 'frames without a phase column: baseline seconds', default: '30' },
  response: { type: 'string', value: 'r', description: 'frames: fractional (R-R0)/R0 | relative R/R0 | log', default: 'fractional' },
  'steady-state-share': { type: 'string', value: 'f', description: 'frames: share of the exposure, at its end, averaged for the steady state', default: '0.333' },
  'steady-state-s': { type: 'string', value: 's', description: 'frames: a fixed length in seconds instead of the share' },
  'window-s': {
    type: 'string',
    value: 's',
    description: 'frames: add the mean response over consecutive windows of s seconds of the exposure (win1, win2, ...; RH/T steps as dwin1, ...)',
    default: '0, none',
  },
  windows: { type: 'string', value: 'n', description: 'frames: how many windows', default: '6' },
  'windows-only': {
    type: 'boolean',
    description: "frames: windows instead of ss, peak, area, slope and EMAs (the default model's features: --response log --window-s 10 --windows-only)",
  },
  'decide-in-exposure': {
    type: 'boolean',
    description:
      'frames: the model decides inside the exposure, the moment its last window completes (--windows x --window-s into it), not when the exposure ends; needs --window-s and --windows-only, no recovery windows (docs/early-decision.md)',
  },
  'recovery-window-s': {
    type: 'string',
    value: 's',
    description:
      'frames: add the mean response over consecutive windows of s seconds of the recovery (rwin1, ...; RH/T as drwin1, ...). The model then gives its verdict when the recovery ends, not the exposure',
    default: '0, none',
  },
  'recovery-windows': { type: 'string', value: 'n', description: 'frames: how many recovery windows', default: '6' },
  'decide-in-recovery': {
    type: 'boolean',
    description:
      'frames: the model decides inside the recovery, the moment its last recovery window completes (--recovery-windows x --recovery-window-s into it), not when the recovery ends; needs --recovery-window-s (docs/early-decision.md)',
  },
  'baseline-window-s': {
    type: 'string',
    value: 's',
    description:
      'frames: add the mean response over the last windows of s seconds of the baseline before the exposure (bwin1, ...): what earlier cycles left on the sensors, still leaving them',
    default: '0, none',
  },
  'baseline-windows': { type: 'string', value: 'n', description: 'frames: how many baseline windows', default: '3' },
  'ignore-gates': {
    type: 'string',
    value: 'a,b',
    description:
      "frames: quality gates to report but not act on, in training and in the model's verdicts: channel-saturated, channel-dead, channel-spiking, baseline-unstable (for data whose known defects you accept)",
  },
  json: { type: 'boolean', description: 'print the training summary as one JSON object' },
  progress: { type: 'boolean', description: 'progress lines on stderr (stages, candidates, MLP epochs) also when stdout is not a terminal' },
  ...DELIMITER_OPTION,
  ...DATA_LIMIT_OPTIONS,
} as const satisfies OptionTable;
