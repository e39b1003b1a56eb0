/**
 * Transformer building blocks with hand-written gradients (tf.customGrad). The tfjs tape keeps the
 * saved inputs of every op until backprop ends (as copies on wasm, where Identity copies), so a
 * LayerNorm or GELU composed of basic ops keeps a dozen activation-sized tensors per use; these
 * keep only what their gradient needs (about what Korthikanti et al. 2022 count for a fused
 * implementation). ops.spec.ts checks each against the plain-op composition.
 */
import * as tf from '@tensorflow/tfjs';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc };

/** tf.customGrad with the inputs as an array; gradFunc returns one gradient per input. */
function custom<T extends tf.Tensor>(inputs: tf.Tensor[], forward: Forward): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, gradFunc } = forward(args.slice(0, -1) as tf.Tensor[], save);
    return { value: value as T, gradFunc };
  });
  return op(...inputs);
}

/**
 * Saves `tensors` for backprop, except Variables: saving clones, and Identity copies the data on the
 * wasm backend, while a Variable is alive and unchanged until the optimizer runs after backprop.
 * Returns the lookup for gradFunc.
 */
function stash(save: tf.GradSaveFunc, tensors: tf.Tensor[]): (saved: tf.Tensor[]) => tf.Tensor[] {
  save(tensors.filter((t) => !(t instanceof tf.Variable)));
  return (saved) => {
    let next = 0;
    return tensors.map((t) => (t instanceof tf.Variable ? t : saved[next++]));
  };
}

/**
 * a @ b for 2-D tensors with the transposes done as separate Transpose ops: the wasm backend's
 * BatchMatMul is about 10x slower with transposeA/transposeB set (tfjs 4.22); cpu is indifferent.
 */
export function matMul2d(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  return tf.tidy(() =>
    tf.matMul(transposeA ? tf.transpose(a) : (a as tf.Tensor2D), transposeB ? tf.transpose(b) : (b as tf.Tensor2D)),
  );
}

/**
 * y = x W + b for x [N,in], W [in,out] (GPT-2 Conv1D layout), b [out]. Keeps x. The fused matmul
 * only without transposes: wasm's fused kernel adds the bias wrongly with transposeA/B (tfjs 4.22).
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return custom([x, weight, bias], ([input, w, b], save) => {
    const restore = stash(save, [input, w]);
    return {
      value: tf.fused.matMul({ a: input, b: w, bias: b }),
      gradFunc: (dy, saved) => {
        const [xs, ws] = restore(saved);
        return [matMul2d(dy, ws, false, true), matMul2d(xs, dy, true, false), tf.sum(dy, 0)];
      },
    };
  });
}

/** y = x W^T for x [N,d], W [V,d]: the LM head tied to the token embedding. Keeps x. */
export function tiedOutput(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  return custom([x, weight], ([input, w], save) => {
    const restore = stash(save, [input, w]);
    return {
      value: matMul2d(input, w, false, true),
      gradFunc: (dy, saved) => {
        const [xs, ws] = restore(saved);
        // dW = dy^T x computed as (x^T dy)^T: the transposed temporaries are [d,N] and [d,V], not [V,N].
        return [matMul2d(dy, ws), tf.tidy(() => tf.transpose(matMul2d(xs, dy, true, false)))];
      },
    };
  });
}

/** Rows of weight [V,d] for int32 ids [N]. Keeps the ids; the gradient is a segment sum into [V,d]. */
export function embedding(weight: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const rows = weight.shape[0];
  return custom([weight], ([w], save) => {
    save([ids]);
    return {
      value: tf.gather(w, ids),
      gradFunc: (dy, [indices]) => tf.unsortedSegmentSum(dy, indices as tf.Tensor1D, rows),
    };
  });
}

/** tokens [B*T,d] + the first T rows of positions [P,d], repeated over the batch; keeps nothing. */
export function addPositions(tokens: tf.Tensor2D, positions: tf.Tensor2D, length: number): tf.Tensor2D {
  const [rows, d] = tokens.shape;
  const available = positions.shape[0];
  return custom([tokens, positions], ([left, right]) => ({
    value: tf.reshape(tf.add(tf.reshape(left, [rows / length, length, d]), tf.slice(right, [0, 0], [length, d])), [
      rows,
      d,
    ]),
    gradFunc: (dy) =>
      tf.tidy(() => [
        tf.clone(dy),
        tf.pad(tf.sum(tf.reshape(dy, [rows / length, length, d]), 0), [
          [0, available - length],
          [0, 0],
        ]),
      ]),
  }));
}

/**
 * LayerNorm over the last axis of x [N,d] (biased variance, as torch). Keeps the normalised x and
 * 1/std; nested tidies free each stage's [N,d] temporaries before the next.
 */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D, epsilon: number): tf.Tensor2D {
  return custom([x, weight, bias], ([input, w, b], save) => {
    const [normalized, rstd] = tf.tidy((): tf.Tensor[] => {
      const centered = tf.sub(input, tf.mean(input, -1, true));
      const r = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), epsilon));
      return [tf.mul(centered, r), r];
    });
    const restore = stash(save, [normalized, rstd, w]);
    return {
      value: tf.tidy(() => tf.add(tf.mul(normalized, w), b)),
      gradFunc: (dy, saved) => {
        // dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy w
        const [xhat, r, ws] = restore(saved);
        const g = tf.mul(dy, ws);
        const dx = tf.tidy(() => {
          const meanG = tf.mean(g, -1, true);
          const meanGx = tf.tidy(() => tf.mean(tf.mul(g, xhat), -1, true));
          const centered = tf.tidy(() => tf.sub(g, tf.add(tf.mul(xhat, meanGx), meanG)));
          return tf.mul(centered, r);
        });
        g.dispose();
        return [dx, tf.tidy(() => tf.sum(tf.mul(dy, xhat), 0)), tf.sum(dy, 0)];
      },
    };
  });
}

const GELU_SCALE = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/**
 * HF "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Keeps x. The nested tidies free
 * each stage's temporaries (all the size of the 4d-wide MLP activation) before the next stage.
 */
export function geluNew<T extends tf.Tensor>(x: T): T {
  return custom([x], ([input], save) => {
    save([input]);
    const t = tanhInner(input);
    const value = tf.tidy(() => tf.mul(tf.mul(input, 0.5), tf.add(t, 1)));
    t.dispose();
    return {
      value,
      gradFunc: (dy, [xs]) => {
        // d/dx = 0.5 (1 + t) + 0.5 (1 - t^2) x sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        const th = tanhInner(xs);
        const slope = tf.tidy(() => tf.mul(xs, tf.add(tf.mul(tf.square(xs), 3 * GELU_CUBIC * GELU_SCALE), GELU_SCALE)));
        const derivative = tf.tidy(() => tf.mul(tf.add(tf.add(th, 1), tf.mul(tf.sub(1, tf.square(th)), slope)), 0.5));
        tf.dispose([th, slope]);
        const dx = tf.mul(dy, derivative);
        derivative.dispose();
        return dx;
      },
    };
  });
}

/** tanh(sqrt(2/pi) (x + 0.044715 x^3)), computed as tanh(x (sqrt(2/pi) + sqrt(2/pi) 0.044715 x^2)). */
function tanhInner(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.tanh(tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_SCALE * GELU_CUBIC), GELU_SCALE))));
}

/** a + b for equal shapes; keeps nothing (tf.add keeps both inputs for its broadcasting gradient). */
export function residualAdd<T extends tf.Tensor>(a: T, b: T): T {
  return custom([a, b], ([left, right]) => ({
    value: tf.add(left, right),
    gradFunc: (dy) => [tf.clone(dy), tf.clone(dy)],
  }));
}

/** Keep mask with probability 1 - rate, as bool (1 byte an element). */
function keepMask(shape: number[], rate: number, seed: number | undefined): tf.Tensor {
  return tf.tidy(() => tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate));
}

/** Inverted dropout (kept values scaled by 1/(1-rate)); keeps only the bool mask. Call only when training. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number | undefined): T {
  return custom([x], ([input], save) => {
    const mask = keepMask(input.shape, rate, seed);
    save([mask]);
    return { value: applyKeepMask(input, mask, rate), gradFunc: (dy, [kept]) => applyKeepMask(dy, kept, rate) };
  });
}

/**
 * Attention weights from raw scores q k^T [B,H,T,T]: scale, causal mask (-1e9 above the diagonal,
 * which exp() turns into exactly 0 in float32, as HF's finfo.min does), softmax, then dropout when
 * `dropoutRate` > 0. Keeps the softmax output and the bool dropout mask.
 */
export function causalAttentionWeights(
  scores: tf.Tensor4D,
  scale: number,
  dropoutRate: number,
  seed: number | undefined,
): tf.Tensor4D {
  const t = scores.shape[3];
  // Each stage in its own tidy: every temporary here is [B,H,T,T], the largest tensors in the model.
  return custom([scores], ([input], save) => {
    const maskValues = new Float32Array(t * t);
    for (let q = 0; q < t; q++) {
      maskValues.fill(-1e9, q * t + q + 1, (q + 1) * t);
    }
    const probs = tf.tidy(() => tf.softmax(tf.add(tf.mul(input, scale), tf.tensor4d(maskValues, [1, 1, t, t])), -1));
    if (dropoutRate === 0) {
      save([probs]);
      return { value: probs, gradFunc: (dy, [p]) => softmaxBackward(dy, p, scale) };
    }
    const mask = keepMask(input.shape, dropoutRate, seed);
    save([probs, mask]);
    return {
      value: applyKeepMask(probs, mask, dropoutRate),
      gradFunc: (dy, [p, kept]) => {
        const dProbs = applyKeepMask(dy, kept, dropoutRate);
        const dScores = softmaxBackward(dProbs, p, scale);
        dProbs.dispose();
        return dScores;
      },
    };
  });
}

/** x * mask / (1 - rate) for a bool keep mask. */
function applyKeepMask(x: tf.Tensor, mask: tf.Tensor, rate: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.cast(mask, 'float32'), tf.mul(x, 1 / (1 - rate))));
}

/** d scores = scale * p * (dp - sum(dp * p)); masked positions have p = 0 and get 0. */
function softmaxBackward(dProbs: tf.Tensor, probs: tf.Tensor, scale: number): tf.Tensor {
  const rowDot = tf.tidy(() => tf.sum(tf.mul(dProbs, probs), -1, true));
  const result = tf.tidy(() => tf.mul(tf.sub(dProbs, rowDot), tf.mul(probs, scale)));
  rowDot.dispose();
  return result;
}

/** qkv [B*T, 3d] -> [3,B,H,T,headDim] (q, k, v stacked); keeps nothing. */
export function splitHeads(qkv: tf.Tensor2D, batch: number, length: number, nHead: number): tf.Tensor5D {
  const d = qkv.shape[1] / 3;
  const headDim = d / nHead;
  return custom([qkv], ([input]) => ({
    value: tf.transpose(tf.reshape(input, [batch, length, 3, nHead, headDim]), [2, 0, 3, 1, 4]),
    gradFunc: (dy) => tf.tidy(() => tf.reshape(tf.transpose(dy, [1, 3, 0, 2, 4]), [batch * length, 3 * d])),
  }));
}

/** context [B,H,T,headDim] -> [B*T, d]; keeps nothing. */
export function mergeHeads(context: tf.Tensor4D): tf.Tensor2D {
  const [batch, nHead, length, headDim] = context.shape;
  return custom([context], ([input]) => ({
    value: tf.reshape(tf.transpose(input, [0, 2, 1, 3]), [batch * length, nHead * headDim]),
    gradFunc: (dy) => tf.tidy(() => tf.transpose(tf.reshape(dy, [batch, length, nHead, headDim]), [0, 2, 1, 3])),
  }));
}

function flatTargetIndex(targets: tf.Tensor, rows: number, classes: number): tf.Tensor1D {
  return tf.tidy(() => tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(classes, 'int32')), targets));
}

/**
 * Cross-entropy per row of logits [N,C] for int32 targets [N], with torch-style label smoothing.
 * Written out rather than with tf.logSumExp so that no more than two [N,C] tensors (C is the
 * vocabulary for an LM) are alive at once; `ownLogits` lets it free the logits midway.
 */
function rowCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, labelSmoothing: number, ownLogits: boolean): tf.Tensor {
  const [n, classes] = logits.shape as [number, number];
  // -log p_target = lse - z_target; smoothing mixes in the mean of -log p over all classes.
  const subtracted = tf.tidy(() => {
    const targetLogit = tf.gather(tf.reshape(logits, [n * classes]), flatTargetIndex(targets, n, classes));
    return tf.add(tf.mul(targetLogit, 1 - labelSmoothing), tf.mul(tf.mean(logits, -1), labelSmoothing));
  });
  const max = tf.max(logits, -1, true);
  const shifted = tf.sub(logits, max);
  if (ownLogits) {
    logits.dispose();
  }
  const exp = tf.exp(shifted);
  shifted.dispose();
  const sumExp = tf.sum(exp, -1);
  exp.dispose();
  const perRow = tf.tidy(() => tf.sub(tf.add(tf.log(sumExp), tf.reshape(max, [n])), subtracted));
  tf.dispose([subtracted, max, sumExp]);
  return perRow;
}

/**
 * (softmax(z) - smoothed one-hot) * rowScale [N,1]: the cross-entropy gradient, with at most two
 * [N,C] tensors alive (the target entries are corrected with a scatter, not a dense one-hot).
 */
function crossEntropyGradient(
  logits: tf.Tensor,
  targets: tf.Tensor,
  labelSmoothing: number,
  rowScale: tf.Tensor,
  ownLogits: boolean,
): tf.Tensor {
  const [n, classes] = logits.shape as [number, number];
  const probs = tf.softmax(logits, -1);
  if (ownLogits) {
    logits.dispose();
  }
  const index = flatTargetIndex(targets, n, classes);
  const flat = tf.reshape(probs, [n * classes]);
  const updates = tf.tidy(() => tf.sub(tf.gather(flat, index), 1 - labelSmoothing));
  const corrected = tf.tensorScatterUpdate(flat, tf.reshape(index, [n, 1]), updates);
  tf.dispose([probs, flat, updates, index]);
  const scaled = tf.mul(tf.reshape(corrected, [n, classes]), rowScale);
  corrected.dispose();
  if (labelSmoothing === 0) {
    return scaled;
  }
  const smoothed = tf.sub(scaled, tf.mul(rowScale, labelSmoothing / classes));
  scaled.dispose();
  return smoothed;
}

/** w_i * dy / max(sum w, tiny) as [N,1]: the weighted mean's factor per row. */
function rowScaleOf(weights: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.reshape(tf.div(tf.mul(weights, dy), tf.maximum(tf.sum(weights), 1e-12)), [-1, 1]));
}

function weightedMean(perRow: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(perRow, weights)), tf.maximum(tf.sum(weights), 1e-12)));
}

/**
 * Weighted mean cross-entropy of logits [N,C] against int32 targets [N]: sum(w_i ce_i) / sum(w_i),
 * 0 when all weights are 0. Label smoothing spreads `labelSmoothing` of the target mass evenly over
 * the C classes (torch's convention). Keeps the logits and recomputes the softmax in backprop.
 */
export function weightedCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  weights: tf.Tensor1D,
  labelSmoothing = 0,
): tf.Scalar {
  return custom([logits], ([input], save) => {
    save([input, targets, weights]);
    return {
      value: weightedMean(rowCrossEntropy(input, targets, labelSmoothing, false), weights),
      gradFunc: (dy, [z, ts, ws]) => {
        const rowScale = rowScaleOf(ws, dy);
        const gradient = crossEntropyGradient(z, ts, labelSmoothing, rowScale, false);
        rowScale.dispose();
        return gradient;
      },
    };
  });
}

/**
 * weightedCrossEntropy of hidden [N,d] @ weight^T (weight [V,d], the tied LM head) without ever
 * holding all [N,V] logits: `chunkRows` rows at a time, recomputing each chunk's logits in backprop
 * (one more [N,d]x[d,V] matmul). Peak memory for the head is a few [chunkRows,V] temporaries.
 */
export function chunkedTiedCrossEntropy(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: tf.Tensor1D,
  weights: tf.Tensor1D,
  labelSmoothing: number,
  chunkRows: number,
): tf.Scalar {
  const [n, d] = hidden.shape;
  const chunks: Array<[number, number]> = [];
  for (let start = 0; start < n; start += chunkRows) {
    chunks.push([start, Math.min(chunkRows, n - start)]);
  }
  return custom([hidden, weight], ([h, w], save) => {
    const restore = stash(save, [h, w, targets, weights]);
    // One transposed copy of the weight per pass rather than one per chunk.
    const transposed = tf.transpose(w);
    const perRow = chunks.map(([start, size]) =>
      tf.tidy(() => {
        const logits = tf.matMul(tf.slice(h, [start, 0], [size, d]), transposed);
        return rowCrossEntropy(logits, tf.slice(targets, [start], [size]), labelSmoothing, true);
      }),
    );
    transposed.dispose();
    const rows = tf.concat(perRow);
    tf.dispose(perRow);
    return {
      value: weightedMean(rows, weights),
      gradFunc: (dy, saved) => {
        const [hs, ws, ts, wts] = restore(saved);
        const rowScale = rowScaleOf(wts, dy);
        const transposedWeight = tf.transpose(ws);
        const dHidden: tf.Tensor[] = [];
        let dWeight: tf.Tensor | undefined; // transposed, [d,V]
        for (const [start, size] of chunks) {
          const [dh, dw] = tf.tidy((): tf.Tensor[] => {
            const chunk = tf.slice(hs, [start, 0], [size, d]);
            const logits = tf.matMul(chunk, transposedWeight);
            const scale = tf.slice(rowScale, [start, 0], [size, 1]);
            const gradient = crossEntropyGradient(logits, tf.slice(ts, [start], [size]), labelSmoothing, scale, true);
            // dW^T = h^T g, summed over chunks in [d,V] and transposed once at the end.
            return [tf.matMul(gradient, ws), matMul2d(chunk, gradient, true, false)];
          });
          dHidden.push(dh);
          if (dWeight === undefined) {
            dWeight = dw;
          } else {
            const sum = tf.add(dWeight, dw);
            tf.dispose([dWeight, dw]);
            dWeight = sum;
          }
        }
        tf.dispose([rowScale, transposedWeight]);
        const dh = tf.concat(dHidden);
        tf.dispose(dHidden);
        const dw = dWeight === undefined ? tf.zerosLike(ws) : tf.transpose(dWeight);
        dWeight?.dispose();
        return [dh, dw];
      },
    };
  });
}

/** tf.reshape that keeps nothing for backprop (tf.reshape's gradient keeps its input: a full copy on wasm). */
export function reshape<R extends tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  const inputShape = x.shape;
  return custom([x], ([input]) => ({
    value: tf.reshape(input, shape),
    gradFunc: (dy) => tf.reshape(dy, inputShape),
  }));
}
