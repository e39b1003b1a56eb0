import * as tf from '@tensorflow/tfjs';

export const LOSS_NAMES = ['cross_entropy', 'binary_cross_entropy', 'mse', 'mae', 'huber'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface CrossEntropyOptions {
  /** torch.nn.CrossEntropyLoss(label_smoothing); in [0, 1]. */
  labelSmoothing?: number;
  /** One non-negative weight per class, torch `weight`. */
  classWeights?: number[];
}

function assertSameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  // Broadcasting [N,1] against [N] would silently compute an N×N loss.
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${what}: predictions have shape [${a.shape.join(',')}], targets [${b.shape.join(',')}]`);
  }
}

/** Reads integer ids (cheap next to the forward pass) so an out-of-range id fails loudly instead of adding 0 loss. */
function assertIdsInRange(ids: tf.Tensor, size: number, what: string): void {
  const values = ids.dataSync();
  for (const value of values) {
    if (!Number.isInteger(value) || value < 0 || value >= size) {
      throw new Error(`${what} ${value} is outside [0, ${size})`);
    }
  }
}

/**
 * torch.nn.CrossEntropyLoss (mean reduction). With weights w and smoothing ε over C classes:
 * (1-ε)·Σᵢ w_yᵢ·nllᵢ / Σᵢ w_yᵢ + (ε/C)·Σᵢ Σ_c w_c·(-log pᵢc) / Σᵢ w_yᵢ — torch normalises the smoothing term by the
 * target weights too. Uses a one-hot of [N,C], which is small for classification heads.
 */
export function crossEntropyLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: CrossEntropyOptions = {},
): tf.Scalar {
  const [n, classes] = logits.shape;
  if (labels.shape[0] !== n) {
    throw new Error(`crossEntropyLoss: ${n} rows of logits but ${labels.shape[0]} labels`);
  }
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  const weights = options.classWeights;
  if (weights !== undefined) {
    if (weights.length !== classes) {
      throw new Error(`classWeights has ${weights.length} entries for ${classes} classes`);
    }
    if (weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new Error('classWeights must be finite and >= 0');
    }
  }
  assertIdsInRange(labels, classes, 'crossEntropyLoss: label');
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
    const nll = tf.neg(tf.sum(tf.mul(oneHot, logProbs), 1));
    if (weights === undefined) {
      const hard = tf.mean(nll);
      if (smoothing === 0) {
        return hard as tf.Scalar;
      }
      const smooth = tf.mean(tf.neg(tf.sum(logProbs, 1)));
      return tf.add<tf.Scalar>(tf.mul(hard, 1 - smoothing), tf.mul(smooth, smoothing / classes));
    }
    const w = tf.tensor1d(weights, 'float32');
    const targetWeights = tf.sum(tf.mul(oneHot, w), 1);
    const normaliser = tf.sum(targetWeights);
    const hard = tf.div(tf.sum(tf.mul(nll, targetWeights)), normaliser);
    if (smoothing === 0) {
      return hard as tf.Scalar;
    }
    const smooth = tf.div(tf.neg(tf.sum(tf.mul(logProbs, w))), normaliser);
    return tf.add<tf.Scalar>(tf.mul(hard, 1 - smoothing), tf.mul(smooth, smoothing / classes));
  });
}

/**
 * torch.nn.BCEWithLogitsLoss (mean): (1-y)·x + (1+(p-1)·y)·softplus(-x). softplus keeps it stable for large |x| and,
 * unlike the max/abs/log1p form, has the exact gradient at x = 0 (where zero-initialised heads start).
 */
export function binaryCrossEntropyLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  options: { positiveWeight?: number } = {},
): tf.Scalar {
  assertSameShape(logits, targets, 'binaryCrossEntropyLoss');
  const positiveWeight = options.positiveWeight ?? 1;
  if (!Number.isFinite(positiveWeight) || positiveWeight < 0) {
    throw new Error(`positiveWeight must be finite and >= 0, got ${positiveWeight}`);
  }
  return tf.tidy(() => {
    const x = tf.cast(logits, 'float32');
    const y = tf.cast(targets, 'float32');
    const negativePart = tf.mul(tf.sub(1, y), x);
    const softplusNegX = tf.softplus(tf.neg(x));
    const weighted =
      positiveWeight === 1 ? softplusNegX : tf.mul(tf.add(1, tf.mul(y, positiveWeight - 1)), softplusNegX);
    return tf.mean<tf.Scalar>(tf.add(negativePart, weighted));
  });
}

export function mseLoss(predictions: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  assertSameShape(predictions, targets, 'mseLoss');
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.square(tf.sub(predictions, targets))));
}

export function maeLoss(predictions: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  assertSameShape(predictions, targets, 'maeLoss');
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.abs(tf.sub(predictions, targets))));
}

/** torch.nn.HuberLoss(delta): 0.5·d² where |d| < δ, else δ·(|d| - 0.5·δ); written as 0.5·q² + δ·(|d|-q), q = min(|d|, δ). */
export function huberLoss(predictions: tf.Tensor, targets: tf.Tensor, delta = 1): tf.Scalar {
  assertSameShape(predictions, targets, 'huberLoss');
  if (!Number.isFinite(delta) || delta <= 0) {
    throw new Error(`Huber delta must be finite and > 0, got ${delta}`);
  }
  return tf.tidy(() => {
    const absolute = tf.abs(tf.sub(predictions, targets));
    const quadratic = tf.minimum(absolute, delta);
    const linear = tf.sub(absolute, quadratic);
    return tf.mean<tf.Scalar>(tf.add(tf.mul(tf.square(quadratic), 0.5), tf.mul(linear, delta)));
  });
}

/** Σ l1·|w| + Σ l2·w² over all tensors (l2 without the ½). */
export function l1l2Penalty(params: tf.Tensor[], l1: number, l2: number): tf.Scalar {
  if (!Number.isFinite(l1) || l1 < 0 || !Number.isFinite(l2) || l2 < 0) {
    throw new Error(`l1 and l2 must be finite and >= 0, got ${l1} and ${l2}`);
  }
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (const p of params) {
      if (l1 > 0) {
        total = tf.add(total, tf.mul(tf.sum(tf.abs(p)), l1));
      }
      if (l2 > 0) {
        total = tf.add(total, tf.mul(tf.sum(tf.square(p)), l2));
      }
    }
    return total as tf.Scalar;
  });
}

interface ShiftedLm {
  /** [N, V] log-probabilities of the N = B·(T-1) predictions. */
  logProbs: tf.Tensor2D;
  /** [N] int32 next-token ids. */
  targets: tf.Tensor1D;
  /** [N] float 0/1. */
  mask: tf.Tensor1D;
  /** [N] -log p(target). */
  nll: tf.Tensor1D;
}

/** Must run inside tf.tidy. Position t predicts token t+1, so drop the last logit and the first id/mask entry. */
function shiftedLm(logits: tf.Tensor3D, inputIds: tf.Tensor2D, lossMask: tf.Tensor2D): ShiftedLm {
  const [b, t, v] = logits.shape;
  const n = b * (t - 1);
  const logProbs = tf.reshape<tf.Rank.R2>(tf.logSoftmax(tf.slice(logits, [0, 0, 0], [b, t - 1, v])), [n, v]);
  const targets = tf.reshape<tf.Rank.R1>(tf.cast(tf.slice(inputIds, [0, 1], [b, t - 1]), 'int32'), [n]);
  const mask = tf.reshape<tf.Rank.R1>(tf.cast(tf.slice(lossMask, [0, 1], [b, t - 1]), 'float32'), [n]);
  // Gather the target log-probs from the flattened [N·V] tensor instead of building an [N,V] one-hot. Its gradient
  // needs the UnsortedSegmentSum kernel, which the wasm backend only has once the trainer registers it.
  const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), targets);
  const nll = tf.neg<tf.Tensor1D>(tf.gather(tf.reshape(logProbs, [n * v]), flatIndex));
  return { logProbs, targets, mask, nll };
}

function checkLmShapes(logits: tf.Tensor3D, inputIds: tf.Tensor2D, lossMask: tf.Tensor2D, what: string): void {
  const [b, t, v] = logits.shape;
  const same = (s: number[]): boolean => s.length === 2 && s[0] === b && s[1] === t;
  if (!same(inputIds.shape) || !same(lossMask.shape)) {
    throw new Error(
      `${what}: logits [${logits.shape.join(',')}] need inputIds and lossMask of [${b},${t}], got [${inputIds.shape.join(',')}] and [${lossMask.shape.join(',')}]`,
    );
  }
  assertIdsInRange(inputIds, v, `${what}: token id`);
}

/**
 * Causal LM loss: logits [B,T,V] at position t predict inputIds[t+1]; lossMask [B,T] (0/1) marks which target tokens
 * count (prompt and padding are 0). Mean -log p over counted tokens. A batch with no counted token gives 0 (and
 * zero gradients) instead of torch's NaN, so one fully masked batch cannot poison the weights.
 */
export function causalLmLoss(logits: tf.Tensor3D, inputIds: tf.Tensor2D, lossMask: tf.Tensor2D): tf.Scalar {
  checkLmShapes(logits, inputIds, lossMask, 'causalLmLoss');
  if (logits.shape[1] < 2) {
    // Nothing to predict; stay connected to the logits so tf.variableGrads yields zeros instead of throwing.
    return tf.tidy(() => tf.mul<tf.Scalar>(tf.sum(logits), 0));
  }
  return tf.tidy(() => {
    const { nll, mask } = shiftedLm(logits, inputIds, lossMask);
    return tf.div<tf.Scalar>(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1));
  });
}

/** Sums for validation metrics (no gradient): summed -log p, counted target tokens, and argmax hits among them. */
export function causalLmStats(
  logits: tf.Tensor3D,
  inputIds: tf.Tensor2D,
  lossMask: tf.Tensor2D,
): { lossSum: number; tokens: number; correct: number } {
  checkLmShapes(logits, inputIds, lossMask, 'causalLmStats');
  if (logits.shape[1] < 2) {
    return { lossSum: 0, tokens: 0, correct: 0 };
  }
  const values = tf.tidy(() => {
    const { logProbs, targets, mask, nll } = shiftedLm(logits, inputIds, lossMask);
    const hits = tf.cast(tf.equal(tf.argMax(logProbs, 1), targets), 'float32');
    return tf.stack([tf.sum(tf.mul(nll, mask)), tf.sum(mask), tf.sum(tf.mul(hits, mask))]);
  });
  const [lossSum, tokens, correct] = values.dataSync();
  values.dispose();
  return { lossSum, tokens, correct };
}
