/**
 * Named model parameters: specs, seeded initialisation, and the import/export boundary with
 * checkpoints (name -> float32 tensor, the shape of the safetensors module's NamedTensor).
 */
import * as tf from '@tensorflow/tfjs';

export type ParameterMap = Map<string, tf.Variable>;

export type ParameterInit = 'normal' | 'zeros' | 'ones' | 'uniform';

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: ParameterInit;
  /** Standard deviation for `normal`. */
  std?: number;
  /** Half-width for `uniform`: values in [-bound, bound). */
  bound?: number;
  /** Whether weight decay applies (matrices yes; biases and LayerNorm no). */
  decay: boolean;
}

export interface ExportedTensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/** What a checkpoint reader hands over; dtypes other than F32 are rejected by `importParameters`. */
export interface ImportedTensor {
  dtype: string;
  shape: readonly number[];
  data: Float32Array;
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

export function parameterCount(specs: ReadonlyArray<{ shape: readonly number[] }>): number {
  return specs.reduce((total, spec) => total + shapeSize(spec.shape), 0);
}

/** 32-bit FNV-1a of the seed and the name: a parameter's init does not depend on which others exist. */
export function parameterSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}:${name}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function initialValue(spec: ParameterSpec, seed: number): tf.Tensor {
  switch (spec.init) {
    case 'zeros':
      return tf.zeros(spec.shape, 'float32');
    case 'ones':
      return tf.ones(spec.shape, 'float32');
    case 'normal':
      return tf.randomNormal(spec.shape, 0, spec.std ?? 0.02, 'float32', parameterSeed(seed, spec.name));
    case 'uniform': {
      const bound = spec.bound ?? 0;
      return tf.randomUniform(spec.shape, -bound, bound, 'float32', parameterSeed(seed, spec.name));
    }
  }
}

/**
 * Fresh variables for `specs`. Variables get tfjs's auto-generated names (tfjs names are global, so
 * two models in one process would collide); the map key is the parameter name.
 */
export function initializeParameters(specs: readonly ParameterSpec[], seed: number): ParameterMap {
  const params: ParameterMap = new Map();
  for (const spec of specs) {
    const value = initialValue(spec, seed);
    params.set(spec.name, tf.variable(value, true));
    value.dispose();
  }
  return params;
}

export function disposeParameters(params: ParameterMap): void {
  for (const variable of params.values()) {
    variable.dispose();
  }
  params.clear();
}

/** Marks exactly `names` trainable and returns their variables, for `optimizer.minimize(f, _, varList)`. */
export function setTrainable(params: ParameterMap, names: ReadonlySet<string>): tf.Variable[] {
  const trainable: tf.Variable[] = [];
  for (const [name, variable] of params) {
    variable.trainable = names.has(name);
    if (variable.trainable) {
      trainable.push(variable);
    }
  }
  return trainable;
}

export function exportParameters(params: ParameterMap): Map<string, ExportedTensor> {
  const exported = new Map<string, ExportedTensor>();
  for (const [name, variable] of params) {
    // dataSync() may return the backend's own buffer: copy so later training does not change the export.
    exported.set(name, { dtype: 'F32', shape: [...variable.shape], data: Float32Array.from(variable.dataSync()) });
  }
  return exported;
}

export interface ImportResult {
  params: ParameterMap;
  /** Expected names absent from the tensors, freshly initialised (only when not strict). */
  initialized: string[];
  /** Tensor names no spec asked for, ignored (only when not strict). */
  ignored: string[];
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Builds parameters from checkpoint tensors, checking every name and shape first and reporting all
 * problems in one Error. Strict: missing and unexpected names are errors. Not strict (e.g. a base
 * model's body under a new classification head): missing ones are initialised from their spec with
 * `seed`, unexpected ones ignored. Shape, dtype and length mismatches are always errors.
 */
export function importParameters(
  expected: readonly ParameterSpec[],
  tensors: ReadonlyMap<string, ImportedTensor>,
  options: { strict: boolean; seed?: number },
): ImportResult {
  const problems: string[] = [];
  const missing: string[] = [];
  const expectedNames = new Set<string>();
  for (const spec of expected) {
    expectedNames.add(spec.name);
    const tensor = tensors.get(spec.name);
    if (tensor === undefined) {
      missing.push(spec.name);
      continue;
    }
    if (tensor.dtype !== 'F32') {
      problems.push(`${spec.name}: dtype ${tensor.dtype}, expected F32`);
    }
    const sameShape =
      tensor.shape.length === spec.shape.length && tensor.shape.every((dim, i) => dim === spec.shape[i]);
    if (!sameShape) {
      problems.push(`${spec.name}: shape ${formatShape(tensor.shape)}, expected ${formatShape(spec.shape)}`);
    } else if (tensor.data.length !== shapeSize(spec.shape)) {
      problems.push(`${spec.name}: ${tensor.data.length} values for shape ${formatShape(spec.shape)}`);
    }
  }
  const unexpected = [...tensors.keys()].filter((name) => !expectedNames.has(name));
  if (options.strict && missing.length > 0) {
    problems.push(`missing: ${missing.join(', ')}`);
  }
  if (options.strict && unexpected.length > 0) {
    problems.push(`unexpected: ${unexpected.join(', ')}`);
  }
  if (problems.length > 0) {
    throw new Error(`Parameters do not match the model (${problems.length} problems): ${problems.join('; ')}`);
  }

  const params: ParameterMap = new Map();
  for (const spec of expected) {
    const tensor = tensors.get(spec.name);
    if (tensor === undefined) {
      const value = initialValue(spec, options.seed ?? 0);
      params.set(spec.name, tf.variable(value, true));
      value.dispose();
    } else {
      const value = tf.tensor(tensor.data, spec.shape, 'float32');
      params.set(spec.name, tf.variable(value, true));
      value.dispose();
    }
  }
  return { params, initialized: missing, ignored: unexpected };
}

export function requireParameter(params: ParameterMap, name: string): tf.Variable {
  const variable = params.get(name);
  if (variable === undefined) {
    throw new Error(`Missing parameter ${name}`);
  }
  return variable;
}
