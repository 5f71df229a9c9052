// How much the host interrupts a plain computation: arithmetic loops on 32 KiB (nothing of the engine) of about
// 4.5, 10, 23, 47 and 94 us, each timed 20,000 times; per length the p50, the p99 and the share of calls that took
// 30 us more than the p50. On a quiet host the share stays near 0.1 % or below; when other machines share the
// hardware it rises to several percent and the p50 itself grows. Run before a benchmark whose p99 matters.
// node research/host-noise.mjs
const a = new Float64Array(4096).map((_, i) => Math.sin(i));
function work(n) {
  let s = 0;
  for (let r = 0; r < n; r++) for (let i = 0; i < 4096; i++) s += a[i] * a[(i + r) & 4095];
  return s;
}
let sink = 0;
console.log(new Date().toISOString());
for (const n of [1, 3, 6, 12, 24]) {
  const t = [];
  for (let k = 0; k < 20000; k++) {
    const t0 = process.hrtime.bigint();
    sink += work(n);
    t.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  t.sort((p, q) => p - q);
  const p50 = t[10000];
  const over = t.filter((v) => v > p50 + 30).length / 200;
  console.log(`${n} x 4,096 multiply-adds: p50 ${p50.toFixed(1)} us, p99 ${t[19800].toFixed(1)} us, ${over.toFixed(2)} % of calls 30 us over the p50`);
}
if (sink === 42) console.log('');
