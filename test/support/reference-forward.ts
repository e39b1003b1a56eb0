/**
 * An independent forward pass for exported model bundles: plain TypeScript, float64, no
 * dependencies. It is written from the published model definitions (Hugging Face's GPT-2:
 * GPT2Model, GPT2LMHeadModel, GPT2ForSequenceClassification; a stack of linear layers for the
 * mlp) and from the bundle layout the docs describe, not from the service's tfjs code, and it reads
 * the bundle's bytes itself (tar, safetensors). A wrong tensor name, layout, config field,
 * activation, pooling rule or preprocessing step in an export therefore shows up as a difference
 * from the service's own outputs.
 */

export interface Tensor64 {
  shape: number[];
  data: Float64Array;
}

// ------------------------------------------------------------------ tar (ustar + pax)

const BLOCK = 512;

function cString(bytes: Uint8Array, offset: number, length: number): string {
  const field = bytes.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString('utf8');
}

function octalField(bytes: Uint8Array, offset: number, length: number): number {
  const text = cString(bytes, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) {
    throw new Error(`tar: bad octal field ${JSON.stringify(text)}`);
  }
  return text === '' ? 0 : parseInt(text, 8);
}

function paxRecords(text: string): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    const length = Number(text.slice(at, space));
    const record = text.slice(space + 1, at + length - 1);
    const equals = record.indexOf('=');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** The regular files of a POSIX tar held in memory, by name (a leading `./` removed). */
export function readTarFiles(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  let pax = new Map<string, string>();
  while (at + BLOCK <= archive.length) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) {
      break;
    }
    let checksum = 0;
    for (let i = 0; i < BLOCK; i++) {
      checksum += i >= 148 && i < 156 ? 0x20 : header[i];
    }
    if (checksum !== octalField(header, 148, 8)) {
      throw new Error(`tar: header checksum mismatch at byte ${at}`);
    }
    const typeFlag = String.fromCharCode(header[156] || 0x30);
    const size = pax.has('size') ? Number(pax.get('size')) : octalField(header, 124, 12);
    const data = archive.subarray(at + BLOCK, at + BLOCK + size);
    if (data.length !== size) {
      throw new Error('tar: truncated entry');
    }
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (typeFlag === 'x') {
      pax = paxRecords(Buffer.from(data).toString('utf8'));
      continue;
    }
    if (typeFlag === 'g') {
      continue;
    }
    const prefix = cString(header, 345, 155);
    const shortName = cString(header, 0, 100);
    const name = pax.get('path') ?? (prefix ? `${prefix}/${shortName}` : shortName);
    pax = new Map();
    if (typeFlag === '0') {
      files.set(name.replace(/^\.\//, ''), data);
    }
  }
  return files;
}

// ------------------------------------------------------------------ safetensors

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) {
    return sign * mantissa * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return mantissa === 0 ? sign * Infinity : NaN;
  }
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * A safetensors file: an 8-byte little-endian header length, a JSON header of
 * `{name: {dtype, shape, data_offsets}}` (plus `__metadata__`), then the data. Floats only.
 */
export function readSafetensorsFile(bytes: Uint8Array): {
  tensors: Map<string, Tensor64>;
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new Error('safetensors: header length past the end of the file');
  }
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8')) as Record<
    string,
    unknown
  >;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor64>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const count = info.shape.reduce((product, dimension) => product * dimension, 1);
    const [begin, end] = info.data_offsets;
    const width = { F64: 8, F32: 4, F16: 2, BF16: 2 }[info.dtype];
    if (width === undefined) {
      throw new Error(`safetensors: ${name} has dtype ${info.dtype}, not a float`);
    }
    if (end - begin !== count * width || dataStart + end > bytes.length) {
      throw new Error(`safetensors: ${name} offsets [${begin}, ${end}] do not hold ${count} ${info.dtype} values`);
    }
    const data = new Float64Array(count);
    const base = dataStart + begin;
    for (let i = 0; i < count; i++) {
      switch (info.dtype) {
        case 'F64':
          data[i] = view.getFloat64(base + i * 8, true);
          break;
        case 'F32':
          data[i] = view.getFloat32(base + i * 4, true);
          break;
        case 'F16':
          data[i] = halfToNumber(view.getUint16(base + i * 2, true));
          break;
        default:
          // BF16 is the top half of an F32.
          data[i] = new Float32Array(new Uint32Array([view.getUint16(base + i * 2, true) << 16]).buffer)[0];
      }
    }
    tensors.set(name, { shape: info.shape, data });
  }
  return { tensors, metadata };
}

// ------------------------------------------------------------------ shared math

/** y = x W + b for one row x [in] and a weight stored row-major [in, out] (GPT-2's Conv1D). */
function conv1d(x: Float64Array, weight: Tensor64, bias: Tensor64): Float64Array {
  const [inSize, outSize] = weight.shape;
  const w = weight.data;
  const y = Float64Array.from(bias.data);
  for (let i = 0; i < inSize; i++) {
    const xi = x[i];
    const row = i * outSize;
    for (let j = 0; j < outSize; j++) {
      y[j] += xi * w[row + j];
    }
  }
  return y;
}

/** y = W x (+ b) for one row x [in] and a weight stored [out, in] (torch nn.Linear). */
function linearRow(x: Float64Array, weight: Tensor64, bias?: Tensor64): Float64Array {
  const [outSize, inSize] = weight.shape;
  const w = weight.data;
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let sum = bias ? bias.data[o] : 0;
    const row = o * inSize;
    for (let i = 0; i < inSize; i++) {
      sum += w[row + i] * x[i];
    }
    y[o] = sum;
  }
  return y;
}

function layerNormRow(x: Float64Array, weight: Tensor64, bias: Tensor64, epsilon: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (const value of x) {
    mean += value;
  }
  mean /= n;
  let variance = 0;
  for (const value of x) {
    variance += (value - mean) ** 2;
  }
  variance /= n; // biased, as torch.nn.LayerNorm
  const scale = 1 / Math.sqrt(variance + epsilon);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (x[i] - mean) * scale * weight.data[i] + bias.data[i];
  }
  return y;
}

/** GPT-2's "gelu_new": the tanh approximation of GELU. */
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** erf to float64 precision: its Maclaurin series near 0, a continued fraction for erfc further out. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) {
        break;
      }
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  if (a > 6) {
    return sign;
  }
  // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), evaluated bottom up.
  let fraction = a;
  for (let k = 60; k >= 1; k--) {
    fraction = a + k / 2 / fraction;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  return sign * (1 - erfc);
}

// ------------------------------------------------------------------ GPT-2

export interface ReferenceGpt2 {
  architecture: 'GPT2LMHeadModel' | 'GPT2ForSequenceClassification';
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
  /** Sequence classification only: the labels in output order (one `LABEL_0` for regression). */
  numLabels: number;
  padTokenId: number | null;
  tensors: Map<string, Tensor64>;
}

function configInteger(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A Hugging Face GPT-2 folder (`config.json`, `model.safetensors` with `save_pretrained` names: the
 * body under `transformer.`, the sequence head as `score.weight`). Every tensor must be one the
 * architecture has, with the shape the config implies; only the attention-mask buffers and a
 * `lm_head.weight` equal to `transformer.wte.weight` (the tie) may be left over.
 */
export function loadReferenceGpt2(files: ReadonlyMap<string, Uint8Array>): ReferenceGpt2 {
  const configBytes = files.get('config.json');
  const weightBytes = files.get('model.safetensors');
  if (!configBytes || !weightBytes) {
    throw new Error('a GPT-2 folder needs config.json and model.safetensors');
  }
  const config = JSON.parse(Buffer.from(configBytes).toString('utf8')) as Record<string, unknown>;
  if (config.model_type !== 'gpt2') {
    throw new Error(`config.json: model_type ${JSON.stringify(config.model_type)}`);
  }
  const activation = config.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new') {
    throw new Error(`config.json: activation_function ${JSON.stringify(activation)} is not implemented here`);
  }
  for (const flag of ['scale_attn_by_inverse_layer_idx', 'add_cross_attention']) {
    if (config[flag] === true) {
      throw new Error(`config.json: ${flag} is not implemented here`);
    }
  }
  if (config.scale_attn_weights === false) {
    throw new Error('config.json: scale_attn_weights false is not implemented here');
  }
  const architectures: unknown = config.architectures;
  const architecture: unknown = Array.isArray(architectures) ? (architectures as unknown[])[0] : undefined;
  if (architecture !== 'GPT2LMHeadModel' && architecture !== 'GPT2ForSequenceClassification') {
    throw new Error(`config.json: architectures ${JSON.stringify(architectures)}`);
  }
  const nEmbd = configInteger(config, 'n_embd');
  const nInner = config.n_inner ?? null;
  if (nInner !== null && nInner !== 4 * nEmbd) {
    throw new Error('config.json: n_inner other than 4 * n_embd is not implemented here');
  }
  const id2label = config.id2label as Record<string, string> | undefined;
  const numLabels =
    architecture === 'GPT2ForSequenceClassification'
      ? configInteger(config, 'num_labels', id2label ? Object.keys(id2label).length : 2)
      : 0;
  const epsilon = config.layer_norm_epsilon ?? 1e-5;
  if (typeof epsilon !== 'number' || !(epsilon > 0)) {
    throw new Error('config.json: layer_norm_epsilon must be a positive number');
  }
  const padTokenId: unknown = config.pad_token_id;
  const model: ReferenceGpt2 = {
    architecture,
    vocabSize: configInteger(config, 'vocab_size'),
    nPositions: configInteger(config, 'n_positions'),
    nEmbd,
    nLayer: configInteger(config, 'n_layer'),
    nHead: configInteger(config, 'n_head'),
    layerNormEpsilon: epsilon,
    numLabels,
    padTokenId: typeof padTokenId === 'number' ? padTokenId : null,
    tensors: new Map(),
  };
  if (nEmbd % model.nHead !== 0) {
    throw new Error('config.json: n_head does not divide n_embd');
  }

  const d = nEmbd;
  const expected = new Map<string, number[]>([
    ['transformer.wte.weight', [model.vocabSize, d]],
    ['transformer.wpe.weight', [model.nPositions, d]],
    ['transformer.ln_f.weight', [d]],
    ['transformer.ln_f.bias', [d]],
  ]);
  for (let i = 0; i < model.nLayer; i++) {
    const p = `transformer.h.${i}`;
    const blockShapes: Array<[string, number[]]> = [
      ['ln_1.weight', [d]],
      ['ln_1.bias', [d]],
      ['attn.c_attn.weight', [d, 3 * d]],
      ['attn.c_attn.bias', [3 * d]],
      ['attn.c_proj.weight', [d, d]],
      ['attn.c_proj.bias', [d]],
      ['ln_2.weight', [d]],
      ['ln_2.bias', [d]],
      ['mlp.c_fc.weight', [d, 4 * d]],
      ['mlp.c_fc.bias', [4 * d]],
      ['mlp.c_proj.weight', [4 * d, d]],
      ['mlp.c_proj.bias', [d]],
    ];
    for (const [name, shape] of blockShapes) {
      expected.set(`${p}.${name}`, shape);
    }
  }
  if (architecture === 'GPT2ForSequenceClassification') {
    expected.set('score.weight', [numLabels, d]);
  }
  const { tensors } = readSafetensorsFile(weightBytes);
  for (const [name, shape] of expected) {
    const tensor = tensors.get(name);
    if (!tensor) {
      throw new Error(`model.safetensors: ${name} is missing`);
    }
    if (JSON.stringify(tensor.shape) !== JSON.stringify(shape)) {
      throw new Error(
        `model.safetensors: ${name} has shape ${JSON.stringify(tensor.shape)}, expected ${JSON.stringify(shape)}`,
      );
    }
    model.tensors.set(name, tensor);
  }
  for (const [name, tensor] of tensors) {
    if (expected.has(name) || /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) {
      continue;
    }
    const wte = model.tensors.get('transformer.wte.weight')!;
    if (name === 'lm_head.weight' && tensor.data.every((value, i) => value === wte.data[i])) {
      continue;
    }
    throw new Error(`model.safetensors: ${name} is not a tensor of ${architecture}`);
  }
  return model;
}

function tensorOf(model: ReferenceGpt2, name: string): Tensor64 {
  const tensor = model.tensors.get(name);
  if (!tensor) {
    throw new Error(`no tensor ${name}`);
  }
  return tensor;
}

/** GPT2Model for one sequence of token ids (no attention mask): the final hidden states [T][nEmbd], after ln_f. */
export function referenceGpt2Hidden(model: ReferenceGpt2, ids: readonly number[]): Float64Array[] {
  const t = ids.length;
  if (t < 1 || t > model.nPositions) {
    throw new Error(`sequence length ${t} is outside 1..${model.nPositions}`);
  }
  const d = model.nEmbd;
  const headDim = d / model.nHead;
  const eps = model.layerNormEpsilon;
  const wte = tensorOf(model, 'transformer.wte.weight');
  const wpe = tensorOf(model, 'transformer.wpe.weight');
  let h = ids.map((id, position) => {
    if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize) {
      throw new Error(`token id ${id} is outside the vocabulary`);
    }
    const row = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      row[j] = wte.data[id * d + j] + wpe.data[position * d + j];
    }
    return row;
  });
  for (let layer = 0; layer < model.nLayer; layer++) {
    const p = `transformer.h.${layer}`;
    const w = (name: string) => tensorOf(model, `${p}.${name}`);
    // Attention: q, k, v are the three d-wide thirds of c_attn's output; head n is columns n*headDim.. of each.
    const qkv = h.map((row) =>
      conv1d(layerNormRow(row, w('ln_1.weight'), w('ln_1.bias'), eps), w('attn.c_attn.weight'), w('attn.c_attn.bias')),
    );
    const context = h.map(() => new Float64Array(d));
    for (let head = 0; head < model.nHead; head++) {
      const offset = head * headDim;
      for (let query = 0; query < t; query++) {
        // Causal: position `query` attends to keys 0..query only.
        const scores = new Float64Array(query + 1);
        let max = -Infinity;
        for (let key = 0; key <= query; key++) {
          let dot = 0;
          for (let j = 0; j < headDim; j++) {
            dot += qkv[query][offset + j] * qkv[key][d + offset + j];
          }
          scores[key] = dot / Math.sqrt(headDim);
          max = Math.max(max, scores[key]);
        }
        let total = 0;
        for (let key = 0; key <= query; key++) {
          scores[key] = Math.exp(scores[key] - max);
          total += scores[key];
        }
        for (let key = 0; key <= query; key++) {
          const weight = scores[key] / total;
          for (let j = 0; j < headDim; j++) {
            context[query][offset + j] += weight * qkv[key][2 * d + offset + j];
          }
        }
      }
    }
    h = h.map((row, position) => {
      const attention = conv1d(context[position], w('attn.c_proj.weight'), w('attn.c_proj.bias'));
      const afterAttention = row.map((value, j) => value + attention[j]);
      const inner = conv1d(
        layerNormRow(afterAttention, w('ln_2.weight'), w('ln_2.bias'), eps),
        w('mlp.c_fc.weight'),
        w('mlp.c_fc.bias'),
      ).map(geluTanh);
      const mlp = conv1d(inner, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'));
      return afterAttention.map((value, j) => value + mlp[j]);
    });
  }
  const lnWeight = tensorOf(model, 'transformer.ln_f.weight');
  const lnBias = tensorOf(model, 'transformer.ln_f.bias');
  return h.map((row) => layerNormRow(row, lnWeight, lnBias, eps));
}

/** GPT2LMHeadModel: next-token logits [T][vocab], the LM head tied to wte. */
export function referenceGpt2LmLogits(model: ReferenceGpt2, ids: readonly number[]): Float64Array[] {
  if (model.architecture !== 'GPT2LMHeadModel') {
    throw new Error(`${model.architecture} has no language-model head`);
  }
  return referenceGpt2Hidden(model, ids).map((row) => linearRow(row, tensorOf(model, 'transformer.wte.weight')));
}

/**
 * GPT2ForSequenceClassification for a batch of equally long (padded) rows: logits [B][numLabels],
 * taken at each row's rightmost token that is not `pad_token_id` (position 0 when all are padding),
 * or at the last position when the config has no pad token (a batch of one only).
 */
export function referenceGpt2SequenceLogits(
  model: ReferenceGpt2,
  batch: readonly (readonly number[])[],
): Float64Array[] {
  if (model.architecture !== 'GPT2ForSequenceClassification') {
    throw new Error(`${model.architecture} has no sequence head`);
  }
  if (model.padTokenId === null && batch.length !== 1) {
    throw new Error('without pad_token_id only a batch of one can be pooled');
  }
  const score = tensorOf(model, 'score.weight');
  return batch.map((ids) => {
    let pooled = ids.length - 1;
    if (model.padTokenId !== null) {
      pooled = 0;
      ids.forEach((id, position) => {
        if (id !== model.padTokenId) {
          pooled = position;
        }
      });
    }
    const hidden = referenceGpt2Hidden(model, ids);
    return linearRow(hidden[pooled], score);
  });
}

// ------------------------------------------------------------------ mlp

type FeatureField =
  | { field: string; kind: 'numeric'; mean: number; std: number }
  | { field: string; kind: 'categorical'; categories: string[] }
  | { field: string; kind: 'vector'; length: number; mean: number[]; std: number[] };

export interface ReferenceMlp {
  task: 'classification' | 'regression';
  activation: 'relu' | 'gelu' | 'tanh';
  fields: FeatureField[];
  labels: string[] | null;
  targetScaling: { mean: number; std: number } | null;
  /** [weight [out, in], bias [out]] per layer, input to output. */
  layers: Array<[Tensor64, Tensor64]>;
}

/**
 * An mlp bundle: `manifest.json` (task, activation, feature preprocessing, labels, target scaling)
 * and `model.safetensors` (`layers.N.weight` [out, in], `layers.N.bias` [out]). The layer count and
 * widths come from the tensors and must chain from the feature width to the output width.
 */
export function loadReferenceMlp(files: ReadonlyMap<string, Uint8Array>): ReferenceMlp {
  const manifestBytes = files.get('manifest.json');
  const weightBytes = files.get('model.safetensors');
  if (!manifestBytes || !weightBytes) {
    throw new Error('an mlp bundle needs manifest.json and model.safetensors');
  }
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as {
    family: string;
    task: string;
    config: { activation: ReferenceMlp['activation'] };
    features: { fields: FeatureField[] } | null;
    labels: string[] | null;
    targetScaling: { mean: number; std: number } | null;
  };
  if (manifest.family !== 'mlp' || (manifest.task !== 'classification' && manifest.task !== 'regression')) {
    throw new Error(`manifest.json: family ${manifest.family}, task ${manifest.task}`);
  }
  if (!manifest.features) {
    throw new Error('manifest.json: no feature preprocessing');
  }
  const { tensors } = readSafetensorsFile(weightBytes);
  const layers: ReferenceMlp['layers'] = [];
  for (let i = 0; tensors.has(`layers.${i}.weight`); i++) {
    layers.push([tensors.get(`layers.${i}.weight`)!, tensors.get(`layers.${i}.bias`)!]);
  }
  if (layers.length === 0 || tensors.size !== 2 * layers.length) {
    throw new Error(
      `model.safetensors: expected layers.0..N weights and biases, got ${[...tensors.keys()].join(', ')}`,
    );
  }
  let width = manifest.features.fields.reduce(
    (sum, field) =>
      sum + (field.kind === 'numeric' ? 1 : field.kind === 'vector' ? field.length : field.categories.length + 1),
    0,
  );
  layers.forEach(([weight, bias], i) => {
    if (weight === undefined || bias === undefined || weight.shape[1] !== width || bias.shape[0] !== weight.shape[0]) {
      throw new Error(`model.safetensors: layers.${i} does not take ${width} inputs`);
    }
    width = weight.shape[0];
  });
  const outputs = manifest.task === 'classification' ? (manifest.labels ?? []).length : 1;
  if (width !== outputs) {
    throw new Error(`model.safetensors: ${width} outputs for a ${manifest.task} of ${outputs}`);
  }
  return {
    task: manifest.task,
    activation: manifest.config.activation,
    fields: manifest.features.fields,
    labels: manifest.labels,
    targetScaling: manifest.targetScaling,
    layers,
  };
}

/** A number from a JSON value: finite numbers, numeric strings, booleans as 1/0; anything else is missing. */
function numeric(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : null;
  }
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

/** How a categorical value is named in the category list: strings as they are, other scalars printed. */
function categoryName(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * One raw row as model inputs, field by field in manifest order: (x - mean) / std for a number (a
 * missing one sits at the mean, 0), a one-hot block over the categories plus a last "other" slot
 * (unknown and missing values), and a vector element by element with its own mean and std.
 */
export function referenceMlpInputs(model: ReferenceMlp, row: Record<string, unknown>): Float64Array {
  const inputs: number[] = [];
  for (const field of model.fields) {
    const value = row[field.field];
    switch (field.kind) {
      case 'numeric': {
        const x = numeric(value);
        inputs.push(x === null ? 0 : (x - field.mean) / field.std);
        break;
      }
      case 'vector':
        for (let i = 0; i < field.length; i++) {
          const x = Array.isArray(value) ? numeric(value[i]) : null;
          inputs.push(x === null ? 0 : (x - field.mean[i]) / field.std[i]);
        }
        break;
      case 'categorical': {
        const index = value === undefined || value === null ? -1 : field.categories.indexOf(categoryName(value));
        const block = new Array<number>(field.categories.length + 1).fill(0);
        block[index === -1 ? field.categories.length : index] = 1;
        inputs.push(...block);
        break;
      }
    }
  }
  return Float64Array.from(inputs);
}

function activate(x: number, activation: ReferenceMlp['activation']): number {
  switch (activation) {
    case 'relu':
      return Math.max(0, x);
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      // torch.nn.GELU's default: the exact, erf-based form.
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

/** Class logits, or the regression output in the target's own units, for one raw row. */
export function referenceMlpOutputs(model: ReferenceMlp, row: Record<string, unknown>): Float64Array {
  let x = referenceMlpInputs(model, row);
  model.layers.forEach(([weight, bias], i) => {
    x = linearRow(x, weight, bias);
    if (i < model.layers.length - 1) {
      x = x.map((value) => activate(value, model.activation));
    }
  });
  if (model.task === 'regression') {
    const scaling = model.targetScaling;
    if (!scaling) {
      throw new Error('manifest.json: a regression without targetScaling');
    }
    return x.map((value) => value * scaling.std + scaling.mean);
  }
  return x;
}
