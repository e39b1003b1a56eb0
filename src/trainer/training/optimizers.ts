import * as tf from '@tensorflow/tfjs';

export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerConfig {
  name: OptimizerName;
  /** sgd, rmsprop; default 0. */
  momentum?: number;
  /** sgd only; requires momentum > 0. */
  nesterov?: boolean;
  /** adam/adamw; default 0.9. */
  beta1?: number;
  /** adam/adamw; default 0.999. */
  beta2?: number;
  /** PyTorch defaults: 1e-8, adagrad 1e-10. */
  epsilon?: number;
  /** L2 added to the gradient (PyTorch semantics); adamw: decoupled, default 0.01. */
  weightDecay?: number;
  /** rmsprop smoothing; default 0.99. */
  alpha?: number;
  /** adagrad; default 0. */
  initialAccumulatorValue?: number;
}

export type ResolvedOptimizerConfig = Readonly<Required<OptimizerConfig>>;

/**
 * `tensors` keys are `${paramName}.${slot}` with PyTorch's slot names: momentum_buffer, exp_avg, exp_avg_sq,
 * square_avg, sum, and for adam/adamw a scalar `step` (per parameter, as in torch, so a parameter that started
 * training late gets its own bias correction).
 */
export interface OptimizerState {
  step: number;
  tensors: Map<string, tf.Tensor>;
}

export interface Optimizer {
  readonly config: ResolvedOptimizerConfig;
  /** Number of step() calls so far (also restored by setState). */
  readonly iterations: number;
  /**
   * One update in place. `grads` holds a gradient per trainable parameter name; parameters without a gradient
   * are untouched. Throws before changing anything if a gradient has no parameter or the wrong shape.
   */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, learningRate: number): void;
  /** Clones, so the caller owns (and must dispose) the returned tensors. */
  getState(): OptimizerState;
  /** Copies the given tensors (the caller keeps ownership). Pass `params` to check shapes now rather than at the next step. */
  setState(state: OptimizerState, params?: Map<string, tf.Variable>): void;
  /** Bytes of float32 optimizer state for a model of `paramCount` scalar parameters. */
  stateBytes(paramCount: number): number;
  dispose(): void;
}

export interface CreateOptimizerOptions {
  /** True excludes a parameter (biases, LayerNorm) from weight decay. Default: every parameter decays. */
  noDecay?: (paramName: string) => boolean;
}

function resolveConfig(config: OptimizerConfig): ResolvedOptimizerConfig {
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(config.name)) {
    throw new Error(`Unknown optimizer "${String(config.name)}"; expected one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
  const resolved: ResolvedOptimizerConfig = {
    name: config.name,
    momentum: config.momentum ?? 0,
    nesterov: config.nesterov ?? false,
    beta1: config.beta1 ?? 0.9,
    beta2: config.beta2 ?? 0.999,
    epsilon: config.epsilon ?? (config.name === 'adagrad' ? 1e-10 : 1e-8),
    weightDecay: config.weightDecay ?? (config.name === 'adamw' ? 0.01 : 0),
    alpha: config.alpha ?? 0.99,
    initialAccumulatorValue: config.initialAccumulatorValue ?? 0,
  };
  const nonNegative = ['momentum', 'epsilon', 'weightDecay', 'initialAccumulatorValue'] as const;
  for (const key of nonNegative) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`Optimizer ${key} must be a finite number >= 0, got ${value}`);
    }
  }
  const unitInterval = ['beta1', 'beta2', 'alpha'] as const;
  for (const key of unitInterval) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value < 0 || value >= 1) {
      throw new Error(`Optimizer ${key} must be in [0, 1), got ${value}`);
    }
  }
  if (resolved.nesterov && (resolved.name !== 'sgd' || resolved.momentum <= 0)) {
    throw new Error('Nesterov momentum requires the sgd optimizer with momentum > 0');
  }
  return Object.freeze(resolved);
}

/** Float32 state values kept per scalar parameter, for memory estimates. */
export function optimizerStateSlots(config: OptimizerConfig): number {
  const c = resolveConfig(config);
  switch (c.name) {
    case 'sgd':
      return c.momentum > 0 ? 1 : 0;
    case 'adam':
    case 'adamw':
      return 2;
    case 'rmsprop':
      return c.momentum > 0 ? 2 : 1;
    case 'adagrad':
      return 1;
  }
}

/** Per-parameter tensor slots, in the order they are created. */
function tensorSlots(c: ResolvedOptimizerConfig): string[] {
  switch (c.name) {
    case 'sgd':
      return c.momentum > 0 ? ['momentum_buffer'] : [];
    case 'adam':
    case 'adamw':
      return ['exp_avg', 'exp_avg_sq'];
    case 'rmsprop':
      return c.momentum > 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg'];
    case 'adagrad':
      return ['sum'];
  }
}

const STEP_SLOT = 'step';

function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  if (dot <= 0 || dot === key.length - 1) {
    throw new Error(`Optimizer state key "${key}" is not of the form <param>.<slot>`);
  }
  return [key.slice(0, dot), key.slice(dot + 1)];
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

class TensorOptimizer implements Optimizer {
  readonly config: ResolvedOptimizerConfig;
  private readonly noDecay: (paramName: string) => boolean;
  private readonly slots: string[];
  private state = new Map<string, tf.Tensor>();
  /** adam/adamw: updates applied to each parameter (torch keeps `step` per parameter). */
  private paramSteps = new Map<string, number>();
  private stepCount = 0;
  private disposed = false;

  constructor(config: OptimizerConfig, options: CreateOptimizerOptions) {
    this.config = resolveConfig(config);
    this.noDecay = options.noDecay ?? (() => false);
    this.slots = tensorSlots(this.config);
  }

  get iterations(): number {
    return this.stepCount;
  }

  stateBytes(paramCount: number): number {
    return optimizerStateSlots(this.config) * paramCount * 4;
  }

  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, learningRate: number): void {
    this.assertUsable();
    if (!Number.isFinite(learningRate) || learningRate < 0) {
      throw new Error(`Learning rate must be a finite number >= 0, got ${learningRate}`);
    }
    // Validate everything first so a bad call leaves parameters and state untouched.
    for (const [name, grad] of grads) {
      const param = params.get(name);
      if (param === undefined) {
        throw new Error(`Gradient given for unknown parameter "${name}"`);
      }
      if (param.dtype !== 'float32') {
        throw new Error(`Parameter "${name}" must be float32, is ${param.dtype}`);
      }
      if (!sameShape(param.shape, grad.shape)) {
        throw new Error(
          `Gradient for "${name}" has shape ${shapeText(grad.shape)}, parameter has ${shapeText(param.shape)}`,
        );
      }
      for (const slot of this.slots) {
        const existing = this.state.get(`${name}.${slot}`);
        if (existing !== undefined && !sameShape(existing.shape, param.shape)) {
          throw new Error(
            `Optimizer state "${name}.${slot}" has shape ${shapeText(existing.shape)}, parameter has ${shapeText(param.shape)}`,
          );
        }
      }
    }
    this.stepCount += 1;
    for (const [name, grad] of grads) {
      const param = params.get(name);
      if (param !== undefined) {
        this.updateParam(name, param, grad, learningRate);
      }
    }
  }

  private updateParam(name: string, param: tf.Variable, rawGrad: tf.Tensor, lr: number): void {
    const c = this.config;
    const decay = this.noDecay(name) ? 0 : c.weightDecay;
    tf.tidy(() => {
      let grad = rawGrad.dtype === 'float32' ? rawGrad : tf.cast(rawGrad, 'float32');
      if (decay > 0 && c.name !== 'adamw') {
        grad = tf.add(grad, tf.mul(param, decay));
      }
      switch (c.name) {
        case 'sgd': {
          let direction = grad;
          if (c.momentum > 0) {
            const previous = this.state.get(`${name}.momentum_buffer`);
            // torch: the first step seeds the buffer with the gradient itself (dampening 0).
            const buffer = previous === undefined ? tf.clone(grad) : tf.add(tf.mul(previous, c.momentum), grad);
            this.replace(`${name}.momentum_buffer`, buffer);
            direction = c.nesterov ? tf.add(grad, tf.mul(buffer, c.momentum)) : buffer;
          }
          param.assign(tf.sub(param, tf.mul(direction, lr)));
          break;
        }
        case 'adam':
        case 'adamw': {
          const t = (this.paramSteps.get(name) ?? 0) + 1;
          this.paramSteps.set(name, t);
          let base: tf.Tensor = param;
          if (c.name === 'adamw' && decay > 0) {
            base = tf.mul(param, 1 - lr * decay);
          }
          const m0 = this.state.get(`${name}.exp_avg`) ?? tf.zerosLike(param);
          const v0 = this.state.get(`${name}.exp_avg_sq`) ?? tf.zerosLike(param);
          const m = tf.add(tf.mul(m0, c.beta1), tf.mul(grad, 1 - c.beta1));
          const v = tf.add(tf.mul(v0, c.beta2), tf.mul(tf.square(grad), 1 - c.beta2));
          this.replace(`${name}.exp_avg`, m);
          this.replace(`${name}.exp_avg_sq`, v);
          const stepSize = lr / (1 - c.beta1 ** t);
          const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - c.beta2 ** t)), c.epsilon);
          param.assign(tf.sub(base, tf.mul(tf.div(m, denom), stepSize)));
          break;
        }
        case 'rmsprop': {
          const v0 = this.state.get(`${name}.square_avg`) ?? tf.zerosLike(param);
          const v = tf.add(tf.mul(v0, c.alpha), tf.mul(tf.square(grad), 1 - c.alpha));
          this.replace(`${name}.square_avg`, v);
          const scaled = tf.div(grad, tf.add(tf.sqrt(v), c.epsilon));
          if (c.momentum > 0) {
            // torch starts this buffer at zeros, unlike sgd's.
            const b0 = this.state.get(`${name}.momentum_buffer`) ?? tf.zerosLike(param);
            const buffer = tf.add(tf.mul(b0, c.momentum), scaled);
            this.replace(`${name}.momentum_buffer`, buffer);
            param.assign(tf.sub(param, tf.mul(buffer, lr)));
          } else {
            param.assign(tf.sub(param, tf.mul(scaled, lr)));
          }
          break;
        }
        case 'adagrad': {
          const s0 = this.state.get(`${name}.sum`) ?? tf.fill(param.shape, c.initialAccumulatorValue);
          const s = tf.add(s0, tf.square(grad));
          this.replace(`${name}.sum`, s);
          param.assign(tf.sub(param, tf.mul(tf.div(grad, tf.add(tf.sqrt(s), c.epsilon)), lr)));
          break;
        }
      }
    });
  }

  /** Called inside tidy: keeps the new tensor and frees the one it replaces. */
  private replace(key: string, value: tf.Tensor): void {
    const previous = this.state.get(key);
    this.state.set(key, tf.keep(value));
    previous?.dispose();
  }

  getState(): OptimizerState {
    this.assertUsable();
    const tensors = new Map<string, tf.Tensor>();
    for (const [key, tensor] of this.state) {
      tensors.set(key, tf.clone(tensor));
    }
    for (const [name, steps] of this.paramSteps) {
      tensors.set(`${name}.${STEP_SLOT}`, tf.scalar(steps, 'float32'));
    }
    return { step: this.stepCount, tensors };
  }

  setState(state: OptimizerState, params?: Map<string, tf.Variable>): void {
    this.assertUsable();
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`Optimizer state step must be an integer >= 0, got ${state.step}`);
    }
    const usesSteps = this.config.name === 'adam' || this.config.name === 'adamw';
    const byParam = new Map<string, Map<string, tf.Tensor>>();
    for (const [key, tensor] of state.tensors) {
      const [param, slot] = splitKey(key);
      const allowed = this.slots.includes(slot) || (usesSteps && slot === STEP_SLOT);
      if (!allowed) {
        throw new Error(
          `Optimizer state "${key}" does not belong to ${this.describe()} (expected slots: ${this.slots.join(', ') || 'none'})`,
        );
      }
      if (tensor.isDisposed) {
        throw new Error(`Optimizer state "${key}" has been disposed`);
      }
      if (tensor.dtype !== 'float32') {
        throw new Error(`Optimizer state "${key}" must be float32, is ${tensor.dtype}`);
      }
      const slots = byParam.get(param) ?? new Map<string, tf.Tensor>();
      slots.set(slot, tensor);
      byParam.set(param, slots);
    }
    const steps = new Map<string, number>();
    for (const [param, slots] of byParam) {
      const missing = this.slots.filter((slot) => !slots.has(slot));
      if (missing.length > 0) {
        throw new Error(`Optimizer state for "${param}" is missing ${missing.join(', ')}`);
      }
      const expected = params?.get(param)?.shape ?? slots.get(this.slots[0])?.shape;
      if (params !== undefined && !params.has(param)) {
        throw new Error(`Optimizer state refers to unknown parameter "${param}"`);
      }
      for (const slot of this.slots) {
        const shape = slots.get(slot)?.shape ?? [];
        if (expected !== undefined && !sameShape(shape, expected)) {
          throw new Error(
            `Optimizer state "${param}.${slot}" has shape ${shapeText(shape)}, expected ${shapeText(expected)}`,
          );
        }
      }
      if (usesSteps) {
        const stepTensor = slots.get(STEP_SLOT);
        // Older checkpoints without per-parameter steps: every parameter was updated on every step.
        const value = stepTensor === undefined ? state.step : readScalar(stepTensor, `${param}.${STEP_SLOT}`);
        if (!Number.isInteger(value) || value < 0) {
          throw new Error(`Optimizer state "${param}.${STEP_SLOT}" must be an integer >= 0, got ${value}`);
        }
        steps.set(param, value);
      }
    }
    this.clearState();
    for (const [param, slots] of byParam) {
      for (const slot of this.slots) {
        const tensor = slots.get(slot);
        if (tensor !== undefined) {
          this.state.set(`${param}.${slot}`, tf.clone(tensor));
        }
      }
    }
    this.paramSteps = steps;
    this.stepCount = state.step;
  }

  dispose(): void {
    this.clearState();
    this.disposed = true;
  }

  private clearState(): void {
    for (const tensor of this.state.values()) {
      tensor.dispose();
    }
    this.state = new Map();
    this.paramSteps = new Map();
  }

  private describe(): string {
    const c = this.config;
    if (c.name === 'sgd' || c.name === 'rmsprop') {
      return `${c.name} ${c.momentum > 0 ? 'with' : 'without'} momentum`;
    }
    return c.name;
  }

  private assertUsable(): void {
    if (this.disposed) {
      throw new Error('Optimizer has been disposed');
    }
  }
}

function readScalar(tensor: tf.Tensor, key: string): number {
  if (tensor.size !== 1) {
    throw new Error(`Optimizer state "${key}" must be a scalar, has shape ${shapeText(tensor.shape)}`);
  }
  return tensor.dataSync()[0];
}

export function createOptimizer(config: OptimizerConfig, options: CreateOptimizerOptions = {}): Optimizer {
  return new TensorOptimizer(config, options);
}

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by min(1, maxNorm / (norm + 1e-6)). Always returns new
 * tensors (the caller disposes the old ones) and the norm before clipping. A non-finite norm leaves the gradients
 * unscaled so the caller can see it and skip the step instead of applying NaNs.
 */
export function clipGradientsByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: number } {
  if (!Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new Error(`maxNorm must be a finite number > 0, got ${maxNorm}`);
  }
  const tensors = [...grads.values()];
  const norm =
    tensors.length === 0
      ? 0
      : tf.tidy(() => tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(tf.cast(g, 'float32')))))).dataSync()[0]);
  const coefficient = Number.isFinite(norm) ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, grad] of grads) {
    clipped.set(name, coefficient < 1 ? tf.tidy(() => tf.mul(grad, coefficient)) : tf.clone(grad));
  }
  return { grads: clipped, norm };
}
