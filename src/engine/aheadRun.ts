/**
 * The model run one frame ahead (EngineCore's `predictAhead`): the frame that ends a phase is the next phase's
 * first and carries nothing the features read, so the core runs the model on the frame that completes the
 * deciding phase's last window and keeps the row here, with the extractor's change count. At the verdict, an
 * extractor that took nothing since (the same count) holds the same row, which is then not finished again; else the
 * finished row is compared with the kept one, bit for bit (as 32-bit words: no allocation). The same row, the
 * verdict takes the result computed ahead; else the model runs again. A rig whose deciding phase outlasts the
 * model's windows moves the row every time: after AHEAD_MISSES such verdicts in a row the session stops running
 * ahead (deterministic, so a replay does the same).
 */

/** Verdicts in a row that found the row moved since the run ahead, after which a rig session stops running ahead. */
export const AHEAD_MISSES = 3;

export class AheadRun {
  /** The cycle in progress was looked at (once its windows were complete). */
  tried = false;
  /** The model ran ahead on this cycle's row, kept in `kept`. */
  private ran = false;
  /** The verdict being judged took the result run ahead: adaptation's parent takes its own too (`takeUsed`). */
  private used = false;
  private misses = 0;
  /** The extractor's change count when the row was kept. */
  private keptAt = -1;
  private readonly kept: Float64Array;
  private readonly keptBits: Uint32Array;
  private readonly rowBits: Uint32Array;

  /**
   * @param row the core's feature row buffer, which the model reads ahead and at the verdict alike
   * @param enabled whether this rig session runs ahead at all (the option, and a model whose row is complete before its cycle ends)
   */
  constructor(
    private readonly row: Float64Array,
    private readonly enabled: boolean,
  ) {
    this.kept = new Float64Array(row.length);
    this.keptBits = new Uint32Array(this.kept.buffer);
    this.rowBits = new Uint32Array(row.buffer, row.byteOffset, row.length * 2);
  }

  /** Whether this rig session runs ahead now: enabled, and fewer than AHEAD_MISSES moved rows in a row. */
  get active(): boolean {
    return this.enabled && this.misses < AHEAD_MISSES;
  }

  /** A new cycle: nothing looked at, nothing run. */
  reset(): void {
    this.tried = false;
    this.ran = false;
  }

  /** The model has just run on the row, finished at the extractor's change count `changes`: keep it. */
  keep(changes: number): void {
    this.kept.set(this.row);
    this.keptAt = changes;
    this.ran = true;
  }

  /**
   * Whether the model ran ahead and the extractor took nothing since (its change count is `changes`): the row
   * and the gates it finished then stand, and so does what was measured on them.
   */
  current(changes: number): boolean {
    return this.ran && changes === this.keptAt;
  }

  /**
   * At the verdict, on the finished row: true when the model ran ahead on this same row (its results stand), false
   * when it must run now. `unchanged` (from `current`) says so without comparing. Counts the moved rows in a row.
   */
  take(unchanged: boolean): boolean {
    const reuse = this.ran && (unchanged || this.sameRow());
    if (this.ran) this.misses = reuse ? 0 : this.misses + 1;
    this.used = reuse;
    this.ran = false;
    return reuse;
  }

  /** Whether the verdict being judged took the result run ahead (once: it clears). */
  takeUsed(): boolean {
    const used = this.used;
    this.used = false;
    return used;
  }

  private sameRow(): boolean {
    const a = this.keptBits;
    const b = this.rowBits;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
    return true;
  }
}
