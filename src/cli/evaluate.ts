/** `enose evaluate`: scores a model on labelled data. */
import { EnoseError, formatIssue } from '../errors.js';
import { loadModel, MODEL_TRUST_OPTIONS } from './modelOption.js';
import { throwIfStopped } from './stopSignal.js';
import { evaluateModel, type EvaluationReport } from '../model/fitting/evaluation.js';
import { defineCommand, parseCommand, requireString, stringOption, type Command } from './args.js';
import type { OptionTable } from './options.js';
import { loadData, matchModel } from './data.js';
import { DELIMITER_OPTION, delimiterOf } from './delimiterOption.js';
import { DATA_LIMIT_OPTIONS, dataLimitsOf } from './dataLimitsOption.js';
import { judgeRecordings } from '../engine/judge.js';
import { reportOf } from '../model/fitting/evaluation.js';

/** `enose evaluate`'s options, declared once (options.ts): the parser's and the help's. */
export const EVALUATE_OPTIONS = {
  model: { type: 'string', value: 'file', description: 'model file written by enose train', required: true },
  json: {
    type: 'boolean',
    description:
      'print one JSON object: {n, accuracy, classes, confusion, perClass, detectionRate, falseAlarmRate, inconclusive, unknownOdour, rigMismatch, perGroup, unpredicted, modelId}',
  },
  report: {
    type: 'string',
    value: 'file',
    description: 'also write a self-contained HTML report: PCA score plot, loadings, confusion matrix, ROC curve of the suspicious score with the threshold, accuracy per batch',
  },
  ...DELIMITER_OPTION,
  ...DATA_LIMIT_OPTIONS,
  ...MODEL_TRUST_OPTIONS,
} as const satisfies OptionTable;

export const evaluateCommand: Command = defineCommand({
  name: 'evaluate',
  summary: 'score a model on labelled data (accuracy, confusion, detection and false-alarm rates)',
  usage: 'enose evaluate <data...> --model model.json [--json] [--report report.html]',
  about: `Predicts every labelled sample of the data with the model and reports accuracy (share of samples whose most
probable class is their label), the confusion matrix, recall and precision per class, and, when the model has
a suspicious/clear policy, the detection rate (suspicious-labelled samples with verdict suspicious), the
false-alarm rate (clear-labelled samples with verdict suspicious) and the count of inconclusive verdicts.
Accuracy per file (batch) is shown when the data has several files.`,
  options: EVALUATE_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('evaluate', argv, EVALUATE_OPTIONS);
    const modelPath = requireString('evaluate', parsed, 'model');
    const model = loadModel(parsed, modelPath);
    const input = model.input;
    const data = matchModel(model, await loadData(parsed.positionals, input.kind === 'frames' ? input.extractor.baselineS : 30, delimiterOf(parsed), { limits: dataLimitsOf('evaluate', parsed), signal: ctx.signal }), parsed.positionals.join(','));
    for (const w of data.warnings) ctx.stderr(`enose evaluate: warning: ${w}\n`);
    let report;
    if (data.kind === 'features') {
      if (data.table.count === 0) throw new EnoseError('empty-data', `${parsed.positionals.join(', ')}: no samples to evaluate`);
      report = evaluateModel(model, data.table).report;
    } else {
      const judged = judgeRecordings(model, data.recordings);
      if (judged.samples.length === 0) {
        throw new EnoseError(
          'empty-data',
          `${parsed.positionals.join(', ')}: no labelled sample (${judged.unlabelled} cycle(s) without a label): evaluate scores against labels; enose replay judges unlabelled recordings`,
        );
      }
      // One line, however many recordings warned (each file runs on an engine of its own).
      if (judged.rigWarnings.length > 0) {
        const more = judged.rigWarnings.length - 1;
        ctx.stderr(`enose evaluate: warning: ${judged.rigWarnings[0]}${more > 0 ? ` (and ${more} more file(s))` : ''}\n`);
      }
      if (judged.unlabelled > 0) ctx.stderr(`enose evaluate: warning: ${judged.unlabelled} cycle(s) without a label were not scored\n`);
      report = reportOf(model, judged.samples);
    }
    throwIfStopped(ctx.signal, 'no report written');
    const reportPath = stringOption(parsed, 'report');
    if (reportPath !== undefined) {
      // Loaded only here: Vega is large, and the other commands do not need it.
      const { writeReport } = await import('../report/write.js');
      await writeReport(reportPath, model, data, parsed.positionals);
      ctx.stderr(`enose evaluate: report written to ${reportPath}\n`);
    }
    if (parsed.values['json']) {
      ctx.stdout(`${JSON.stringify({ ...report, modelId: model.id })}\n`);
    } else {
      ctx.stdout(formatReport(report, model.id));
    }
    return 0;
  },
});

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);

export function formatReport(report: EvaluationReport, modelId: string): string {
  const lines = [`model ${modelId}: ${report.n} samples, accuracy ${pct(report.accuracy)}`];
  const width = Math.max(5, ...report.classes.map((c) => c.length));
  lines.push('', `confusion (rows: true class, columns: predicted)`);
  lines.push(`${''.padEnd(width)}  ${report.classes.map((c) => c.padStart(Math.max(6, c.length))).join(' ')}   recall  precision`);
  report.classes.forEach((c, i) => {
    if (c === '(none)') return; // a column only: no sample's true class
    const cells = report.confusion[i].map((v, j) => String(v).padStart(Math.max(6, report.classes[j].length))).join(' ');
    // The `(none)` column (samples without a class) has no recall or precision of its own.
    const pc = report.perClass[c];
    const rates = pc ? `   ${pct(pc.recall).padStart(6)}  ${pct(pc.precision).padStart(9)}` : '';
    lines.push(`${c.padEnd(width)}  ${cells}${rates}`);
  });
  const missed = report.unpredicted ?? [];
  if (missed.length > 0) {
    const shown = missed.slice(0, 10).join(', ');
    lines.push('', `no prediction for ${missed.length} of ${report.n} samples (cut, too short or invalid features; counted as wrong): ${shown}${missed.length > 10 ? `, and ${missed.length - 10} more` : ''}`);
  }
  const groups = Object.entries(report.perGroup);
  if (groups.length > 1) {
    lines.push('', 'accuracy per file:');
    for (const [g, v] of groups) lines.push(`  ${g.padEnd(width)}  ${pct(v.accuracy).padStart(6)}  (${v.n} samples)`);
  }
  lines.push('');
  if (report.detectionRate === null && report.falseAlarmRate === null) {
    lines.push('verdicts: the model has no suspicious/clear policy (or the data has no labels it covers)');
  } else {
    lines.push(`detection rate ${pct(report.detectionRate)}, false-alarm rate ${pct(report.falseAlarmRate)}, inconclusive ${report.inconclusive}`);
  }
  if ((report.rigMismatch ?? 0) > 0) {
    lines.push(`rig-mismatch: ${report.rigMismatch} of ${report.n} samples are far outside the model's training data (never clear)`);
  }
  return `${lines.join('\n')}\n`;
}
