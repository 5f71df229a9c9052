/**
 * The report's charts as Vega-Lite 5 specifications (pure: data in, specification out), and their rendering
 * to SVG strings with Vega 5 in Node (`renderer: 'none'`, no browser, no canvas). Satyanarayan et al.,
 * "Vega-Lite: A Grammar of Interactive Graphics", IEEE TVCG 23 (2017).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { EvaluationReport } from '../model/fitting/evaluation.js';
import type { ReportSample, RocCurve } from './data.js';

/** Cool colours for the classes a policy clears, warm ones for suspicious classes. */
const CLEAR_COLOURS = ['#64748b', '#0d9488', '#2563eb', '#0891b2', '#4d7c0f'];
const SUSPICIOUS_COLOURS = ['#ea580c', '#7c3aed', '#db2777', '#a16207', '#dc2626', '#9333ea', '#f59e0b', '#be185d'];
const NEUTRAL_COLOURS = ['#2563eb', '#ea580c', '#0d9488', '#9333ea', '#b45309', '#c026d3', '#64748b', '#4d7c0f', '#e11d48', '#0891b2'];

const CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  view: { stroke: '#d1d5db' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eef0f3' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start' as const },
} as const;

/** Colour of each class: by the policy when there is one. */
export function classColours(bundle: ModelBundle, classes: readonly string[]): string[] {
  const policy = bundle.policy;
  let c = 0;
  let s = 0;
  return classes.map((name, k) => {
    if (!policy) return NEUTRAL_COLOURS[k % NEUTRAL_COLOURS.length];
    const listed = policy.labels.includes(name);
    const suspicious = policy.rule === 'suspicious-listed' ? listed : !listed;
    return suspicious ? SUSPICIOUS_COLOURS[s++ % SUSPICIOUS_COLOURS.length] : CLEAR_COLOURS[c++ % CLEAR_COLOURS.length];
  });
}

const pctText = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * PCA score plots of the samples: PC1 x PC2, and PC1 x PC3 when there is a third component, coloured by true
 * class, a cross for a sample whose predicted class is not its label. At most `maxPoints` (an even stride).
 */
export function pcaSpec(bundle: ModelBundle, samples: readonly ReportSample[], maxPoints = 4000): TopLevelSpec | null {
  const scored = samples.filter((s) => s.pc !== null);
  if (scored.length === 0) return null;
  const stride = Math.max(1, Math.ceil(scored.length / maxPoints));
  const values = [];
  for (let i = 0; i < scored.length; i += stride) {
    const s = scored[i];
    values.push({ pc1: s.pc![0], pc2: s.pc![1] ?? 0, pc3: s.pc![2] ?? 0, class: s.label, prediction: s.predicted === s.label ? 'right class' : 'wrong class' });
  }
  const classes = [...new Set([...bundle.classes, ...values.map((v) => v.class)])];
  const ratio = bundle.pca.varianceRatio;
  const panel = (y: 'pc2' | 'pc3', title: string) => ({
    width: 340,
    height: 300,
    mark: { type: 'point' as const, filled: true, size: 28, opacity: 0.7 },
    encoding: {
      x: { field: 'pc1', type: 'quantitative' as const, title: `PC1 (${pctText(ratio[0] ?? 0)} of variance)`, scale: { zero: false } },
      y: { field: y, type: 'quantitative' as const, title, scale: { zero: false } },
      color: { field: 'class', type: 'nominal' as const, title: 'true class', scale: { domain: classes, range: classColours(bundle, classes) } },
      shape: { field: 'prediction', type: 'nominal' as const, title: 'prediction', scale: { domain: ['right class', 'wrong class'], range: ['circle', 'cross'] } },
    },
  });
  const panels = [panel('pc2', `PC2 (${pctText(ratio[1] ?? 0)} of variance)`)];
  if (bundle.pca.components >= 3) panels.push(panel('pc3', `PC3 (${pctText(ratio[2] ?? 0)} of variance)`));
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', config: CONFIG, data: { values }, hconcat: panels };
}

/** Loadings: the `top` features with the largest absolute weight on each of PC1 and PC2. */
export function loadingsSpec(bundle: ModelBundle, top = 12): TopLevelSpec {
  const k = bundle.pca.components;
  const names = bundle.input.featureNames;
  const panels = [];
  for (let c = 0; c < Math.min(2, k); c++) {
    const rows = names.map((feature, j) => ({ feature, loading: bundle.pca.axes[j * k + c] }));
    rows.sort((a, b) => Math.abs(b.loading) - Math.abs(a.loading));
    const values = rows.slice(0, top);
    panels.push({
      title: `PC${c + 1}: the ${values.length} largest loadings`,
      width: 260,
      height: { step: 16 },
      data: { values },
      mark: { type: 'bar' as const },
      encoding: {
        y: { field: 'feature', type: 'nominal' as const, sort: { field: 'loading', order: 'descending' as const }, title: null },
        x: { field: 'loading', type: 'quantitative' as const, title: 'loading (weight of the standardised feature)' },
        color: { condition: { test: 'datum.loading < 0', value: '#0d9488' }, value: '#ea580c' },
      },
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', config: CONFIG, hconcat: panels } as TopLevelSpec;
}

/** Confusion matrix: counts, shaded by the share of the true class's row. */
export function confusionSpec(report: EvaluationReport): TopLevelSpec {
  const values = [];
  for (let i = 0; i < report.classes.length; i++) {
    const row = report.confusion[i];
    const total = row.reduce((s, v) => s + v, 0);
    for (let j = 0; j < report.classes.length; j++) {
      values.push({ truth: report.classes[i], predicted: report.classes[j], count: row[j], share: total > 0 ? row[j] / total : 0 });
    }
  }
  const size = Math.max(160, Math.min(420, 48 * report.classes.length));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    data: { values },
    width: size,
    height: size,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: [...report.classes], title: 'predicted class', axis: { labelAngle: -30 } },
      y: { field: 'truth', type: 'nominal', sort: [...report.classes], title: 'true class' },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: { color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] } } },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#111827' },
        },
      },
    ],
  };
}

/** ROC curve with the policy's threshold marked. */
export function rocSpec(roc: RocCurve, operating: { fpr: number; tpr: number }, threshold: number): TopLevelSpec {
  const curve = roc.points.map((p, order) => ({ fpr: p.fpr, tpr: p.tpr, order }));
  const label = `threshold ${threshold.toFixed(3)}: detection ${pctText(operating.tpr)}, false alarms ${pctText(operating.fpr)}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    width: 340,
    height: 300,
    title: `AUC ${roc.auc.toFixed(3)} (${roc.positives} suspicious, ${roc.negatives} clear samples)`,
    layer: [
      {
        data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#9ca3af' },
        encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } },
      },
      {
        data: { values: curve },
        mark: { type: 'line', interpolate: 'step-after', color: '#2563eb', strokeWidth: 2 },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false-alarm rate (clear samples over the threshold)', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'detection rate (suspicious samples over it)', scale: { domain: [0, 1] } },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      {
        data: { values: [{ ...operating, label }] },
        layer: [
          { mark: { type: 'point', filled: true, size: 90, color: '#dc2626' }, encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } } },
          {
            // Right of the point, below it near the top of the plot and above it elsewhere; left of it near the right edge.
            mark: { type: 'text', align: operating.fpr > 0.5 ? 'right' : 'left', dx: operating.fpr > 0.5 ? -8 : 8, dy: operating.tpr > 0.85 ? 14 : -12, fontSize: 11, color: '#991b1b' },
            encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

/** Accuracy per batch (the file each sample came from), in the data's order. */
export function perGroupSpec(report: EvaluationReport): TopLevelSpec | null {
  const values = Object.entries(report.perGroup).map(([group, v]) => ({ group, accuracy: v.accuracy, n: v.n, text: `${pctText(v.accuracy)} (${v.n})` }));
  if (values.length < 2) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    data: { values },
    width: Math.min(700, Math.max(240, 46 * values.length)),
    height: 220,
    encoding: {
      x: { field: 'group', type: 'nominal', sort: null, title: 'batch (file)', axis: { labelAngle: -30 } },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
    },
    layer: [
      { mark: { type: 'bar', color: '#2563eb' } },
      { mark: { type: 'text', dy: -8, fontSize: 10 }, encoding: { text: { field: 'text' } } },
    ],
  };
}

/** Renders a Vega-Lite specification to an SVG string, in Node, without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
