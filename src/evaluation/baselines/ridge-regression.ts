/**
 * The classical reference for tables: ridge regression on standardised features, solved exactly
 * (normal equations, Cholesky). Used for regression targets as is.
 */
export class RidgeRegression {
  private means = new Float64Array(0);
  private scales = new Float64Array(0);
  private weights: Float64Array = new Float64Array(0);
  private intercept = 0;

  /** `alpha` is scikit-learn's Ridge penalty on the standardised weights. */
  constructor(private readonly alpha = 1) {}

  fit(rows: ArrayLike<number>[], targets: ArrayLike<number>): this {
    const n = rows.length;
    if (n === 0 || targets.length !== n) {
      throw new Error('fit needs as many targets as rows, and at least one row');
    }
    const d = rows[0].length;
    this.means = new Float64Array(d);
    this.scales = new Float64Array(d);
    for (const row of rows) {
      for (let j = 0; j < d; j++) {
        this.means[j] += row[j] / n;
      }
    }
    for (const row of rows) {
      for (let j = 0; j < d; j++) {
        this.scales[j] += (row[j] - this.means[j]) ** 2 / n;
      }
    }
    // A constant column gets scale 1: its standardised values are all 0 and its weight stays 0.
    this.scales = this.scales.map((variance) => (variance > 0 ? Math.sqrt(variance) : 1));
    let targetMean = 0;
    for (let i = 0; i < n; i++) {
      targetMean += targets[i] / n;
    }
    // Centred data: the intercept is the target mean and drops out of the normal equations.
    const gram = new Float64Array(d * d);
    const moment = new Float64Array(d);
    const standardised = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        standardised[j] = (rows[i][j] - this.means[j]) / this.scales[j];
      }
      const centredTarget = targets[i] - targetMean;
      for (let j = 0; j < d; j++) {
        moment[j] += standardised[j] * centredTarget;
        for (let k = 0; k <= j; k++) {
          gram[j * d + k] += standardised[j] * standardised[k];
        }
      }
    }
    for (let j = 0; j < d; j++) {
      gram[j * d + j] += this.alpha;
    }
    this.weights = choleskySolve(gram, moment, d);
    this.intercept = targetMean;
    return this;
  }

  predict(row: ArrayLike<number>): number {
    let value = this.intercept;
    for (let j = 0; j < this.weights.length; j++) {
      value += this.weights[j] * ((row[j] - this.means[j]) / this.scales[j]);
    }
    return value;
  }
}

/** Solves A x = b for a symmetric positive-definite A given by its lower triangle (row-major, d x d). */
export function choleskySolve(lower: Float64Array, b: Float64Array, d: number): Float64Array<ArrayBuffer> {
  const factor = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let diagonal = lower[j * d + j];
    for (let k = 0; k < j; k++) {
      diagonal -= factor[j * d + k] ** 2;
    }
    if (!(diagonal > 0)) {
      throw new Error('the matrix is not positive definite');
    }
    factor[j * d + j] = Math.sqrt(diagonal);
    for (let i = j + 1; i < d; i++) {
      let value = lower[i * d + j];
      for (let k = 0; k < j; k++) {
        value -= factor[i * d + k] * factor[j * d + k];
      }
      factor[i * d + j] = value / factor[j * d + j];
    }
  }
  const forward = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let value = b[i];
    for (let k = 0; k < i; k++) {
      value -= factor[i * d + k] * forward[k];
    }
    forward[i] = value / factor[i * d + i];
  }
  const solution = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let value = forward[i];
    for (let k = i + 1; k < d; k++) {
      value -= factor[k * d + i] * solution[k];
    }
    solution[i] = value / factor[i * d + i];
  }
  return solution;
}
