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
        return [matMul2d(dy, ws), matMul2d(dy, xs, true, false)];
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

/**
 * Weighted mean cross-entropy of logits [N,C] against int32 targets [N]: sum(w_i ce_i) / sum(w_i),
 * 0 when all weights are 0. Label smoothing spreads `labelSmoothing` of the target mass evenly over
 * the C classes (torch's convention). Keeps the logits and recomputes the softmax in backprop; no
 * one-hot or log-probability matrix outlives a step of the computation (C is the vocabulary for
 * an LM, so each [N,C] temporary is the size of the logits).
 */
export function weightedCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  weights: tf.Tensor1D,
  labelSmoothing = 0,
): tf.Scalar {
  const [n, classes] = logits.shape;
  return custom([logits], ([input], save) => {
    save([input, targets, weights]);
    const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(classes, 'int32')), targets);
    const targetLogit = tf.gather(tf.reshape(input, [n * classes]), flatIndex);
    const logSumExp = tf.logSumExp(input, -1);
    // -log p_target = lse - z_target; smoothing mixes in the mean of -log p over all classes.
    const perRow = tf.sub(
      logSumExp,
      tf.add(tf.mul(targetLogit, 1 - labelSmoothing), tf.mul(tf.mean(input, -1), labelSmoothing)),
    );
    return {
      value: tf.div(tf.sum(tf.mul(perRow, weights)), tf.maximum(tf.sum(weights), 1e-12)),
      gradFunc: (dy, [z, ts, ws]) =>
        tf.tidy(() => {
          const rowScale = tf.reshape(tf.div(tf.mul(ws, dy), tf.maximum(tf.sum(ws), 1e-12)), [-1, 1]);
          // p - (1 - eps) onehot - eps / C, freeing each [N,C] temporary at once rather than at the end
          // of the tidy. int32 one-hot then cast: wasm's OneHot writes wrong values for float32.
          const hot = tf.oneHot(ts, classes);
          const hotFloat = tf.cast(hot, 'float32');
          hot.dispose();
          const scaledHot = labelSmoothing === 0 ? hotFloat : tf.mul(hotFloat, 1 - labelSmoothing);
          const probs = tf.softmax(z, -1);
          let difference = tf.sub(probs, scaledHot);
          tf.dispose([probs, hotFloat, scaledHot]);
          if (labelSmoothing > 0) {
            const shifted = tf.sub(difference, labelSmoothing / classes);
            difference.dispose();
            difference = shifted;
          }
          return tf.mul(difference, rowScale);
        }),
    };
  });
}
