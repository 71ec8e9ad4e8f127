import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Binary logistic regression with an L2 penalty on the weights (not the intercept), fitted by
 * Newton's method (iteratively reweighted least squares) with step halving. On standardized inputs
 * it converges in a handful of iterations to the penalized maximum-likelihood solution, whatever
 * the class balance, deterministically. (ml-logistic-regression was the alternative: fixed-step
 * gradient descent without an intercept or penalty, 50k full passes by default.) ml-matrix solves
 * the Newton system.
 */
export interface LogisticFit {
  intercept: number;
  weights: number[];
  iterations: number;
  converged: boolean;
  /** Penalized negative log-likelihood at the solution. */
  loss: number;
}

export interface LogisticOptions {
  /** L2 penalty λ on the weights: loss + λ/2 ‖w‖². Default 1 (a light touch on standardized data). */
  l2?: number;
  maxIterations?: number;
  /** Converged when no coefficient moves more than this in a step. */
  tolerance?: number;
}

export function sigmoid(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}

/** log(1 + e^eta) without overflow. */
function softplus(eta: number): number {
  return eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
}

export function fitLogisticRegression(
  x: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  options: LogisticOptions = {},
): LogisticFit {
  const n = x.length;
  if (n === 0 || y.length !== n)
    throw new RangeError(`need rows and one label per row (${n} rows, ${y.length} labels)`);
  const d = x[0]!.length;
  const lambda = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`label ${i} is ${y[i]}, not 0 or 1`);
    positives += y[i]!;
  }
  // beta[0] is the intercept, started at the base rate's log-odds (clamped for one-class data).
  const beta = new Float64Array(d + 1);
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  beta[0] = Math.log(rate / (1 - rate));

  const eta = (b: Float64Array, row: ArrayLike<number>): number => {
    let s = b[0]!;
    for (let j = 0; j < d; j++) s += b[j + 1]! * row[j]!;
    return s;
  };
  const lossOf = (b: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const e = eta(b, x[i]!);
      loss += softplus(e) - y[i]! * e;
    }
    let penalty = 0;
    for (let j = 1; j <= d; j++) penalty += b[j]! * b[j]!;
    return loss + (lambda / 2) * penalty;
  };

  let loss = lossOf(beta);
  let converged = false;
  let iterations = 0;
  const gradient = new Float64Array(d + 1);
  const hessian = new Float64Array((d + 1) * (d + 1));
  while (iterations < maxIterations && !converged) {
    iterations++;
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      const row = x[i]!;
      const p = sigmoid(eta(beta, row));
      const residual = y[i]! - p;
      const w = Math.max(p * (1 - p), 1e-12);
      gradient[0]! += residual;
      hessian[0]! += w;
      for (let j = 0; j < d; j++) {
        const xj = row[j]!;
        gradient[j + 1]! += residual * xj;
        const wxj = w * xj;
        hessian[j + 1]! += wxj; // row 0, column j + 1
        const base = (j + 1) * (d + 1);
        for (let k = 0; k <= j; k++) hessian[base + k + 1]! += wxj * row[k]!;
      }
    }
    for (let j = 1; j <= d; j++) gradient[j]! -= lambda * beta[j]!;
    const h = new Matrix(d + 1, d + 1);
    for (let r = 0; r <= d; r++) {
      for (let c = 0; c <= r; c++) {
        const value = r === 0 ? hessian[0]! : c === 0 ? hessian[r]! : hessian[r * (d + 1) + c]!;
        h.set(r, c, value);
        h.set(c, r, value);
      }
    }
    for (let j = 1; j <= d; j++) h.set(j, j, h.get(j, j) + lambda);
    h.set(0, 0, h.get(0, 0) + 1e-9);
    const step = new CholeskyDecomposition(h).solve(Matrix.columnVector(Array.from(gradient))).to1DArray();

    let scale = 1;
    let candidate = new Float64Array(d + 1);
    let candidateLoss = Number.POSITIVE_INFINITY;
    for (let halving = 0; halving < 30; halving++) {
      candidate = beta.map((b, j) => b + scale * step[j]!);
      candidateLoss = lossOf(candidate);
      if (candidateLoss <= loss + 1e-12 * Math.abs(loss)) break;
      scale /= 2;
    }
    if (!(candidateLoss <= loss + 1e-12 * Math.abs(loss))) {
      converged = true; // no step improves: at the optimum to machine precision
      break;
    }
    let moved = 0;
    for (let j = 0; j <= d; j++) moved = Math.max(moved, Math.abs(candidate[j]! - beta[j]!));
    beta.set(candidate);
    loss = candidateLoss;
    converged = moved < tolerance;
  }
  return { intercept: beta[0]!, weights: Array.from(beta.subarray(1)), iterations, converged, loss };
}
