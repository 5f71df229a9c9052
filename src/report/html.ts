/**
 * The evaluation report: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) with the
 * PCA score plot, the loadings, the confusion matrix, the ROC curve of the suspicious score with the policy's
 * threshold, and accuracy per batch. `renderReport` is data in, HTML string out (async only because Vega's
 * renderer is).
 */
import { isSuspiciousLabel } from '../model/runtime/policy.js';
import { confusionSpec, loadingsSpec, pcaSpec, perGroupSpec, renderSvg, rocSpec } from './charts.js';
import { operatingPoint, rocCurve, rocInput, type ReportData } from './data.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);

const CSS = `body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1f2937; margin: 0; background: #f8fafc; }
header { background: #0f172a; color: #e2e8f0; padding: 1rem 1.5rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.3rem; color: #fff; }
header p { margin: 0; font-size: .85rem; }
main { padding: 1rem 1.5rem; max-width: 1200px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
p.note { color: #6b7280; font-size: .85rem; margin: .4rem 0 0; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: .2rem .7rem .2rem 0; border-bottom: 1px solid #eef0f3; }
th { color: #6b7280; font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.chart svg { max-width: 100%; height: auto; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .85em; }`;

/** The report as one HTML document. */
export async function renderReport(data: ReportData): Promise<string> {
  const { bundle, evaluation: r } = data;
  const policy = bundle.policy;
  const sections: string[] = [];

  // Summary
  const rows: [string, string][] = [
    ['samples scored', String(r.n)],
    ['accuracy (most probable class = label)', pct(r.accuracy)],
  ];
  if (policy) {
    rows.push(['detection rate (suspicious samples with verdict suspicious)', pct(r.detectionRate)]);
    rows.push(['false-alarm rate (clear samples with verdict suspicious)', pct(r.falseAlarmRate)]);
  }
  rows.push(['inconclusive verdicts', String(r.inconclusive)], ['unknown odour (over the novelty limit)', String(r.unknownOdour)]);
  if (data.unlabelled > 0) rows.push(['cycles without a label (not scored)', String(data.unlabelled)]);
  const modelRows: [string, string][] = [
    ['model', bundle.id],
    ['classifier', bundle.classifier.type],
    ['principal components', `${bundle.pca.components} (${pct(bundle.pca.varianceRatio.reduce((s, v) => s + v, 0))} of variance)`],
    ['classes', bundle.classes.map((c) => (policy && isSuspiciousLabel(policy, c) ? `${c} (suspicious)` : c)).join(', ')],
    ['training', `${bundle.training.count} samples; ${bundle.classifier.type === 'mlp' ? 'accuracy on the held-out fold' : 'cross-validated accuracy'} ${pct(bundle.training.cvAccuracy)}`],
  ];
  if (policy) modelRows.push(['threshold on P(suspicious)', `${policy.threshold.toFixed(4)} (target false-alarm rate ${pct(policy.maxFalseAlarm)})`]);
  sections.push(`<section><h2>Summary</h2><div class="grid">${table(rows)}${table(modelRows)}</div></section>`);

  // Per class
  const classRows = r.classes
    .filter((c) => r.perClass[c])
    .map((c) => `<tr><td>${escapeHtml(c)}</td><td class="num">${pct(r.perClass[c].recall)}</td><td class="num">${pct(r.perClass[c].precision)}</td></tr>`)
    .join('');
  const confusion = await renderSvg(confusionSpec(r));
  sections.push(
    `<section><h2>Confusion matrix</h2><div class="grid"><div class="chart" id="confusion">${confusion}</div>` +
      `<table><thead><tr><th>class</th><th>recall</th><th>precision</th></tr></thead><tbody>${classRows}</tbody></table></div>` +
      `<p class="note">Rows: true class; columns: the model's most probable class. The shade is the share of the row.</p></section>`,
  );

  // PCA
  const pca = pcaSpec(bundle, data.samples);
  if (pca) {
    const drawn = data.samples.filter((s) => s.pc !== null).length;
    sections.push(
      `<section><h2>PCA score plot</h2><div class="chart" id="pca">${await renderSvg(pca)}</div>` +
        `<p class="note">${drawn} samples projected on the model's principal components (the standardised features of the training data); colour: true class; cross: a sample whose most probable class is not its label.</p></section>`,
    );
  }
  sections.push(
    `<section><h2>Loadings</h2><div class="chart" id="loadings">${await renderSvg(loadingsSpec(bundle))}</div>` +
      `<p class="note">The features that weigh most on the first two components (orange positive, teal negative).</p></section>`,
  );

  // ROC
  const input = rocInput(data);
  if (!policy || !input) {
    sections.push('<section><h2>ROC curve</h2><p class="note">The model has no suspicious/clear policy: there is no suspicious score to draw.</p></section>');
  } else {
    const roc = rocCurve(input.scores, input.positive);
    if (!roc) {
      sections.push('<section><h2>ROC curve</h2><p class="note">The data needs both suspicious and clear samples with a score for a ROC curve.</p></section>');
    } else {
      const operating = operatingPoint(input.scores, input.positive, policy.threshold);
      sections.push(
        `<section><h2>ROC curve of the suspicious score</h2><div class="chart" id="roc">${await renderSvg(rocSpec(roc, operating, policy.threshold))}</div>` +
          `<p class="note">Score: P(suspicious classes). The red point is the model's threshold (a sample is suspicious when its score is above it). ` +
          `Verdicts also send unknown odours to inspection and make cycles with quality problems inconclusive, so the verdict rates in the summary can differ from this point.` +
          `${input.unscored > 0 ? ` ${input.unscored} sample(s) without a score (no prediction) are left out.` : ''}</p></section>`,
      );
    }
  }

  // Per batch
  const groups = perGroupSpec(r);
  if (groups) {
    sections.push(`<section><h2>Accuracy per batch</h2><div class="chart" id="batches">${await renderSvg(groups)}</div><p class="note">Each batch is a data file; the number of samples is in brackets.</p></section>`);
  }

  const sources = data.sources.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}: ${escapeHtml(bundle.id)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}</h1><p>model <code>${escapeHtml(bundle.id)}</code> on ${sources}; ${escapeHtml(data.generatedAt)}</p></header>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

function table(rows: readonly [string, string][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}
