/**
 * Exported models against an independent forward pass: trained gpt2 (causal LM, classifier) and mlp
 * (classifier, regressor) versions and an imported GPT-2 checkpoint are downloaded as tar bundles,
 * run through test/support/reference-forward.ts (float64, written from the published model
 * definitions, reading the bundle's bytes itself), and compared with TuneForge's own forward pass
 * on the same inputs. They must agree to 1e-4 (max abs difference); the figures are printed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { DatasetRecord, DatasetSchema } from '../src/datasets/dataset-types.js';
import { writeTar, type TarSourceEntry } from '../src/platform/archive/tar.js';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  encodeSafetensorsHeader,
  type NamedTensor,
} from '../src/trainer/formats/safetensors.js';
import {
  gpt2HeadOutput,
  gpt2Hidden,
  gpt2LmLogits,
  gpt2ParameterSpecs,
  poolLastToken,
  type Gpt2Config,
  type Gpt2Head,
} from '../src/trainer/models/gpt2.js';
import { mlpForward, mlpParameterSpecs, type MlpConfig } from '../src/trainer/models/mlp.js';
import { disposeParameters, importParameters, type ImportedTensor } from '../src/trainer/models/parameters.js';
import { useWasmBackend } from '../src/trainer/models/wasm-kernels.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import {
  encodeFeatures,
  featureCount,
  fieldText,
  seededRandom,
  type FeaturePreprocessing,
} from '../src/trainer/runtime/examples.js';
import { BpeTokenizer } from '../src/trainer/tokenizer/bpe-tokenizer.js';
import { apiClient, expectStatus } from './support/api.js';
import {
  erf,
  loadReferenceGpt2,
  loadReferenceMlp,
  readSafetensorsFile,
  readTarFiles,
  referenceGpt2LmLogits,
  referenceGpt2SequenceLogits,
  referenceMlpOutputs,
  type ReferenceGpt2,
} from './support/reference-forward.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, textRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

const TOLERANCE = 1e-4;

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function maxAbsDifference(actual: ArrayLike<number>[], expected: ArrayLike<number>[]): number {
  assert.equal(actual.length, expected.length, 'as many outputs as inputs');
  let max = 0;
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length, `output ${i} has the reference's width`);
    for (let j = 0; j < row.length; j++) {
      const difference = Math.abs(row[j] - expected[i][j]);
      // NaN fails the comparison below rather than hiding in Math.max.
      max = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(max, difference);
    }
  });
  return max;
}

function largest(rows: ArrayLike<number>[]): number {
  return Math.max(...rows.map((row) => Math.max(...Array.from(row, Math.abs))));
}

function report(t: TestContext, what: string, actual: ArrayLike<number>[], expected: ArrayLike<number>[]): void {
  const difference = maxAbsDifference(actual, expected);
  t.diagnostic(
    `${what}: max |TuneForge - reference| = ${difference.toExponential(2)} over ${expected.length} inputs (largest |output| ${largest(expected).toFixed(3)})`,
  );
  assert.ok(difference <= TOLERANCE, `${what}: max abs difference ${difference} > ${TOLERANCE}`);
}

/** What TuneForge's forward pass takes: raw rows (sequence heads, mlp) or token ids (causal LM). */
type ForwardInput = { rows: DatasetRecord[] } | { tokenIds: number[][] };

interface StoredVersion {
  manifest: Record<string, unknown>;
  weights: Map<string, ImportedTensor>;
  tokenizer: BpeTokenizer | null;
}

/** Version 1 of a model as stored: its manifest, its weights (TuneForge's names) and its tokenizer. */
async function storedVersion(testApp: TestApp, model: string): Promise<StoredVersion> {
  const store = testApp.app.get(ArtifactStore);
  const rows = await testApp.dataSource.query<Array<{ artifact_prefix: string }>>(
    `SELECT v.artifact_prefix FROM model_versions v JOIN registered_models m ON m.id = v.model_id
      WHERE m.name = $1 AND v.version = 1`,
    [model],
  );
  const read = async (name: string) => bytesOf(await store.get(`${rows[0].artifact_prefix}${name}`));
  const manifest = JSON.parse((await read('manifest.json')).toString()) as Record<string, unknown>;
  const weights = new Map<string, ImportedTensor>();
  for (const [name, tensor] of decodeSafetensors(await read('model.safetensors')).tensors) {
    weights.set(name, { dtype: tensor.dtype, shape: tensor.shape, data: Float32Array.from(tensor.data) });
  }
  const tokenizer = manifest.tokenizer
    ? BpeTokenizer.fromJSON(JSON.parse((await read('tokenizer.json')).toString()))
    : null;
  return { manifest, weights, tokenizer };
}

/**
 * TuneForge's own outputs for a stored model version, one flat array per input: next-token logits
 * [T*vocab] for a causal LM, class logits for a classifier, the value in the target's units for a
 * regressor. Today its tfjs model code on the version's stored files; the one place to switch to
 * the prediction endpoint.
 */
async function tuneForgeForward(testApp: TestApp, model: string, input: ForwardInput): Promise<Float32Array[]> {
  const version = await storedVersion(testApp, model);
  const { manifest } = version;
  const task = manifest.task as 'causal-lm' | 'classification' | 'regression';
  const unscale = (values: Float32Array[]) => {
    const scaling = manifest.targetScaling as { mean: number; std: number } | null;
    return task === 'regression'
      ? values.map((row) => row.map((value) => value * scaling!.std + scaling!.mean))
      : values;
  };
  const rowsOf = (output: tf.Tensor2D) => {
    const [count, width] = output.shape;
    const flat = output.dataSync();
    return Array.from({ length: count }, (_, i) => Float32Array.from(flat.subarray(i * width, (i + 1) * width)));
  };
  if (manifest.family === 'mlp') {
    const config = manifest.config as MlpConfig;
    const features = manifest.features as FeaturePreprocessing;
    if (!('rows' in input)) {
      throw new Error('an mlp takes rows');
    }
    const { params } = importParameters(mlpParameterSpecs(config), version.weights, { strict: true });
    try {
      const width = featureCount(features);
      const encoded = new Float32Array(input.rows.length * width);
      input.rows.forEach((row, i) => encodeFeatures(row, features, encoded, i * width));
      return unscale(
        tf.tidy(() =>
          rowsOf(mlpForward(params, config, tf.tensor2d(encoded, [input.rows.length, width]), { training: false })),
        ),
      );
    } finally {
      disposeParameters(params);
    }
  }
  const config = manifest.config as Gpt2Config;
  const head = manifest.head as Gpt2Head;
  const { params } = importParameters(gpt2ParameterSpecs(config, head), version.weights, { strict: true });
  try {
    if ('tokenIds' in input) {
      return tf.tidy(() => {
        const ids = tf.tensor2d(input.tokenIds, undefined, 'int32');
        const logits = gpt2LmLogits(params, config, gpt2Hidden(params, config, ids, { training: false }));
        const [b, t, v] = logits.shape;
        return rowsOf(tf.reshape(logits, [b, t * v]));
      });
    }
    // The classification path of buildExamples: the input fields' text, cut to the trained length, right-padded.
    const tokenizer = version.tokenizer!;
    const schema = manifest.schema as DatasetSchema;
    const length = manifest.sequenceLength as number;
    const padded = new Int32Array(input.rows.length * length).fill(tokenizer.padId);
    const lengths = new Int32Array(input.rows.length);
    input.rows.forEach((row, i) => {
      const ids = tokenizer.encode(fieldText(row, schema.inputFields), { allowSpecial: false }).slice(0, length);
      const kept = ids.length > 0 ? ids : [tokenizer.endOfTextId];
      padded.set(kept, i * length);
      lengths[i] = kept.length;
    });
    return unscale(
      tf.tidy(() => {
        const hidden = gpt2Hidden(params, config, tf.tensor2d(padded, [input.rows.length, length], 'int32'), {
          training: false,
        });
        return rowsOf(gpt2HeadOutput(params, config, head, poolLastToken(hidden, tf.tensor1d(lengths, 'int32'))));
      }),
    );
  } finally {
    disposeParameters(params);
  }
}

function tokenizerOf(files: ReadonlyMap<string, Uint8Array>): BpeTokenizer {
  return BpeTokenizer.fromJSON(JSON.parse(Buffer.from(files.get('tokenizer.json')!).toString()));
}

/** Token ids as a Hugging Face tokenizer with `padding=True` gives them: right-padded to the longest row. */
function paddedBatch(tokenizer: BpeTokenizer, texts: string[], padTokenId: number): number[][] {
  const encoded = texts.map((text) => tokenizer.encode(text, { allowSpecial: false }));
  const longest = Math.max(...encoded.map((ids) => ids.length));
  return encoded.map((ids) => [...ids, ...new Array<number>(longest - ids.length).fill(padTokenId)]);
}

/** A little-endian F16 from its parts: exact, so the reference and the importer read the same numbers. */
function half(random: () => number, exponent: [number, number], signed = true): number {
  const sign = signed && random() < 0.5 ? 1 : 0;
  const e = exponent[0] + Math.floor(random() * (exponent[1] - exponent[0] + 1));
  return (sign << 15) | (e << 10) | Math.floor(random() * 1024);
}

describe('exports agree with the independent reference forward pass', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;

  /**
   * One request on a connection of its own: the reference passes keep the event loop busy for
   * seconds, and a pooled keep-alive socket can be closed by the server just as it is reused.
   */
  const request = (method: string, path: string, body?: Uint8Array, contentType?: string) =>
    new Promise<{ status: number; bytes: Buffer }>((resolve, reject) => {
      const sent = http.request(
        `${testApp.baseUrl}${path}`,
        {
          method,
          agent: false,
          headers: {
            Authorization: `Bearer ${testApp.adminKey}`,
            ...(contentType ? { 'Content-Type': contentType } : {}),
          },
        },
        (response) => {
          bytesOf(response).then((bytes) => resolve({ status: response.statusCode ?? 0, bytes }), reject);
        },
      );
      sent.on('error', reject);
      sent.end(body);
    });

  const download = async (model: string): Promise<Map<string, Uint8Array>> => {
    const response = await request('GET', `/api/v1/models/${model}/versions/1/download?format=tar`);
    assert.equal(response.status, 200, response.bytes.toString());
    return readTarFiles(new Uint8Array(response.bytes));
  };

  const train = async (body: Record<string, unknown>) => {
    const created = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(created, 201);
    return created.body.id;
  };

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    await useWasmBackend();
    const text = await uploadDataset(api, 'reviews-text', 'causal-lm', textRows(60, 5));
    const labelled = await uploadDataset(api, 'reviews', 'classification', sentimentRows(80, 3));
    const random = seededRandom(7);
    const colors = ['red', 'green', 'blue', 'amber'];
    const tabular = Array.from({ length: 80 }, (_, i) => {
      const x = Math.round(random() * 100) / 10;
      const color = colors[i % colors.length];
      const v = [random(), random() * 5 - 2, i % 3];
      const score = x - 5 + (color === 'red' ? 2 : 0) + v[1];
      return { x, color, v, label: score > 0.5 ? 'high' : score < -1.5 ? 'low' : 'mid', target: 10 * score + 40 };
    });
    const tabularClasses = await uploadDataset(
      api,
      'points-classes',
      'classification',
      tabular.map(({ target: _target, ...row }) => row),
      { schema: { inputFields: ['x', 'color', 'v'], labelField: 'label' } },
    );
    const tabularValues = await uploadDataset(
      api,
      'points-values',
      'regression',
      tabular.map(({ label: _label, ...row }) => row),
      { schema: { inputFields: ['x', 'color', 'v'], labelField: 'target' } },
    );
    await testApp.app.get(TrainerPool).start();
    const hyperparameters = { maxSteps: 4, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 };
    const jobs = [
      await train({
        model: { family: 'gpt2', nLayer: 2, nHead: 2, nEmbd: 32, vocabSize: 300, nPositions: 32 },
        trainingData: { datasetId: text, version: 1 },
        hyperparameters,
        outputModelName: 'writer',
      }),
      await train({
        model: { family: 'gpt2', nLayer: 2, nHead: 4, nEmbd: 32, vocabSize: 300, nPositions: 32 },
        trainingData: { datasetId: labelled, version: 1 },
        hyperparameters: { ...hyperparameters, sequenceLength: 32 },
        outputModelName: 'sentiment',
      }),
      await train({
        model: { family: 'mlp', hiddenSizes: [8, 6], activation: 'gelu' },
        trainingData: { datasetId: tabularClasses, version: 1 },
        hyperparameters: { maxSteps: 4, batchSize: 8, validationFraction: 0.2 },
        outputModelName: 'points-classes',
      }),
      await train({
        model: { family: 'mlp', hiddenSizes: [8], activation: 'tanh' },
        trainingData: { datasetId: tabularValues, version: 1 },
        hyperparameters: { maxSteps: 4, batchSize: 8, validationFraction: 0.2 },
        outputModelName: 'points-values',
      }),
    ];
    for (const job of jobs) {
      const done = await waitForJob(api, job, ended);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
    }
  });
  after(async () => {
    await testApp.close();
  });

  it('computes erf to float64 precision (the exact GELU of the mlp needs it)', () => {
    const known: Array<[number, number]> = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, value] of known) {
      assert.ok(Math.abs(erf(x) - value) < 1e-14, `erf(${x}) = ${erf(x)}, expected ${value}`);
      assert.ok(Math.abs(erf(-x) + value) < 1e-14);
    }
  });

  it('gives the causal LM logits of the exported GPT2LMHeadModel', async (t) => {
    const files = await download('writer');
    const reference = loadReferenceGpt2(files);
    assert.equal(reference.architecture, 'GPT2LMHeadModel');
    const random = seededRandom(11);
    // Real text and arbitrary ids, full sequence length, every position compared.
    const fromText = tokenizerOf(files).encode('the film was really wonderful. the meal was so poor.').slice(0, 16);
    const tokenIds = [
      fromText,
      ...Array.from({ length: 2 }, () =>
        Array.from({ length: fromText.length }, () => Math.floor(random() * reference.vocabSize)),
      ),
    ];
    const expected = tokenIds.map((ids) => flatten(referenceGpt2LmLogits(reference, ids)));
    report(t, 'gpt2 causal-lm logits', await tuneForgeForward(testApp, 'writer', { tokenIds }), expected);
  });

  it('gives the pooled logits of the exported GPT2ForSequenceClassification', async (t) => {
    const files = await download('sentiment');
    const reference = loadReferenceGpt2(files);
    assert.equal(reference.architecture, 'GPT2ForSequenceClassification');
    assert.notEqual(reference.padTokenId, null);
    const manifest = JSON.parse(Buffer.from(files.get('tuneforge-manifest.json')!).toString()) as {
      labels: string[];
      sequenceLength: number;
    };
    assert.equal(reference.numLabels, manifest.labels.length);
    const texts = [
      'the film was really wonderful',
      'our trip was awful',
      'that book was rather usual',
      'zebra quokka',
      'the game was very dreadful',
    ];
    const batch = paddedBatch(tokenizerOf(files), texts, reference.padTokenId!);
    assert.ok(
      batch[0].length <= manifest.sequenceLength,
      `no row is cut: ${batch.map((ids) => ids.filter((id) => id !== reference.padTokenId).length).join(', ')} tokens`,
    );
    const expected = referenceGpt2SequenceLogits(reference, batch);
    report(
      t,
      'gpt2 classifier logits',
      await tuneForgeForward(testApp, 'sentiment', { rows: texts.map((text) => ({ text })) }),
      expected,
    );
  });

  it("refuses a GPT-2 folder whose names, shapes or config are not Hugging Face's", async () => {
    const files = await download('sentiment');
    const { tensors } = readSafetensorsFile(files.get('model.safetensors')!);
    const config = JSON.parse(Buffer.from(files.get('config.json')!).toString()) as Record<string, unknown>;
    const withWeights = (rename: (name: string) => string, reshape = (shape: number[]) => shape) => {
      const renamed = new Map<string, NamedTensor>();
      for (const [name, tensor] of tensors) {
        renamed.set(rename(name), { dtype: 'F32', shape: reshape(tensor.shape), data: Float32Array.from(tensor.data) });
      }
      return new Map([...files, ['model.safetensors', new Uint8Array(encodeSafetensors(renamed))]]);
    };
    const withConfig = (changes: Record<string, unknown>) =>
      new Map([...files, ['config.json', Buffer.from(JSON.stringify({ ...config, ...changes }))]]);
    assert.throws(
      () => loadReferenceGpt2(withWeights((name) => name.replace('transformer.h.0.', 'h.0.'))),
      /transformer\.h\.0\.\S+ is missing/,
    );
    assert.throws(
      () => loadReferenceGpt2(withWeights((name) => (name === 'score.weight' ? 'classifier.weight' : name))),
      /score\.weight is missing/,
    );
    assert.throws(
      () =>
        loadReferenceGpt2(
          withWeights(
            (name) => name,
            (shape) => [...shape].reverse(),
          ),
        ),
      /has shape/,
    );
    assert.throws(() => loadReferenceGpt2(withConfig({ activation_function: 'gelu' })), /activation_function/);
    assert.throws(
      () => loadReferenceGpt2(withConfig({ architectures: ['GPT2LMHeadModel'] })),
      /score\.weight is not a tensor/,
    );
  });

  it('gives the logits of the exported mlp classifier from raw rows', async (t) => {
    const reference = loadReferenceMlp(await download('points-classes'));
    assert.equal(reference.activation, 'gelu');
    const rows: DatasetRecord[] = [
      { x: 3.5, color: 'red', v: [0.2, 1.5, 2] },
      { x: 9.1, color: 'blue', v: [0.9, -1.2, 0] },
      { x: '4.25', color: 'green', v: [0.5, 0, 1] },
      { x: 0, color: 'violet', v: [0.1, 2.5, 1] },
      { color: 'amber', v: [0.3, -2, 2] },
      { x: 7, color: null, v: null },
    ];
    const expected = rows.map((row) => referenceMlpOutputs(reference, row));
    report(t, 'mlp classifier logits', await tuneForgeForward(testApp, 'points-classes', { rows }), expected);
  });

  it('gives the outputs of the exported mlp regressor in the target units', async (t) => {
    const reference = loadReferenceMlp(await download('points-values'));
    assert.equal(reference.task, 'regression');
    assert.ok(reference.targetScaling && reference.targetScaling.std > 1, 'a scaling that matters');
    const rows: DatasetRecord[] = [
      { x: 1.5, color: 'amber', v: [0.7, 0.5, 1] },
      { x: 8, color: 'red', v: [0.4, -1.9, 2] },
      { x: true, color: 'pink', v: [0.1, 0.1] },
      { x: 'n/a', color: 'green', v: [0.6, 2.9, 0] },
    ];
    const expected = rows.map((row) => referenceMlpOutputs(reference, row));
    report(t, 'mlp regressor outputs', await tuneForgeForward(testApp, 'points-values', { rows }), expected);
  });

  it('gives the logits of an imported GPT-2 checkpoint, before import and after export', async (t) => {
    const nEmbd = 768;
    const config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      activation_function: 'gelu_new',
      n_embd: nEmbd,
      n_head: 12,
      n_layer: 2,
      n_positions: 32,
      n_ctx: 32,
      vocab_size: 300,
      // Not GPT-2's 1e-5: an epsilon lost on the way would show against these small activations.
      layer_norm_epsilon: 1e-3,
      bos_token_id: 0,
      eos_token_id: 0,
    };
    const random = seededRandom(21);
    const plan: Array<{ name: string; shape: number[]; exponent: [number, number]; signed?: boolean }> = [
      { name: 'transformer.wte.weight', shape: [300, nEmbd], exponent: [8, 11] },
      { name: 'transformer.wpe.weight', shape: [32, nEmbd], exponent: [8, 11] },
    ];
    for (let i = 0; i < config.n_layer; i++) {
      const p = `transformer.h.${i}`;
      plan.push(
        { name: `${p}.ln_1.weight`, shape: [nEmbd], exponent: [14, 15], signed: false },
        { name: `${p}.ln_1.bias`, shape: [nEmbd], exponent: [6, 9] },
        { name: `${p}.attn.bias`, shape: [1, 1, 32, 32], exponent: [15, 15], signed: false },
        { name: `${p}.attn.c_attn.weight`, shape: [nEmbd, 3 * nEmbd], exponent: [7, 10] },
        { name: `${p}.attn.c_attn.bias`, shape: [3 * nEmbd], exponent: [6, 9] },
        { name: `${p}.attn.c_proj.weight`, shape: [nEmbd, nEmbd], exponent: [6, 9] },
        { name: `${p}.attn.c_proj.bias`, shape: [nEmbd], exponent: [6, 9] },
        { name: `${p}.ln_2.weight`, shape: [nEmbd], exponent: [14, 15], signed: false },
        { name: `${p}.ln_2.bias`, shape: [nEmbd], exponent: [6, 9] },
        { name: `${p}.mlp.c_fc.weight`, shape: [nEmbd, 4 * nEmbd], exponent: [7, 10] },
        { name: `${p}.mlp.c_fc.bias`, shape: [4 * nEmbd], exponent: [6, 9] },
        { name: `${p}.mlp.c_proj.weight`, shape: [4 * nEmbd, nEmbd], exponent: [5, 8] },
        { name: `${p}.mlp.c_proj.bias`, shape: [nEmbd], exponent: [6, 9] },
      );
    }
    plan.push(
      { name: 'transformer.ln_f.weight', shape: [nEmbd], exponent: [14, 15], signed: false },
      { name: 'transformer.ln_f.bias', shape: [nEmbd], exponent: [6, 9] },
    );
    let offset = 0;
    const data: Buffer[] = [];
    const entries = plan.map((tensor) => {
      const count = tensor.shape.reduce((product, dimension) => product * dimension, 1);
      const bytes = Buffer.alloc(count * 2);
      for (let i = 0; i < count; i++) {
        bytes.writeUInt16LE(half(random, tensor.exponent, tensor.signed ?? true), i * 2);
      }
      data.push(bytes);
      const entry = {
        name: tensor.name,
        dtype: 'F16' as const,
        shape: tensor.shape,
        dataOffsets: [offset, offset + bytes.length] as [number, number],
      };
      offset += bytes.length;
      return entry;
    });
    const weights = Buffer.concat([encodeSafetensorsHeader(entries, { format: 'pt' }), ...data]);
    const tokenizer = BpeTokenizer.train(['the model learns the data', 'tokens of the layer'], {
      vocabSize: 280,
    }).toJSON();
    const vocab: Record<string, number> = { ...tokenizer.model.vocab };
    for (const added of tokenizer.added_tokens) {
      vocab[added.content] = added.id;
    }
    const merges = tokenizer.model.merges.map((merge) => (typeof merge === 'string' ? merge : merge.join(' ')));
    const original = new Map<string, Uint8Array>([
      ['config.json', Buffer.from(JSON.stringify(config))],
      ['model.safetensors', weights],
      ['vocab.json', Buffer.from(JSON.stringify(vocab))],
      ['merges.txt', Buffer.from(`#version: 0.2\n${merges.join('\n')}\n`)],
    ]);
    const imported = await upload(
      'gpt2-random',
      [...original].map(([name, bytes]): TarSourceEntry => ({
        name: `gpt2/${name}`,
        size: bytes.length,
        body: () => Readable.from([bytes]),
      })),
    );
    assert.equal(imported.status, 201, imported.body);

    const tokenIds = Array.from({ length: 2 }, () => Array.from({ length: 12 }, () => Math.floor(random() * 300)));
    const actual = await tuneForgeForward(testApp, 'gpt2-random', { tokenIds });
    const logitsOf = (model: ReferenceGpt2) => tokenIds.map((ids) => flatten(referenceGpt2LmLogits(model, ids)));
    report(t, 'imported gpt2 logits vs the uploaded checkpoint', actual, logitsOf(loadReferenceGpt2(original)));
    const exported = loadReferenceGpt2(await download('gpt2-random'));
    assert.equal(exported.layerNormEpsilon, 1e-3);
    report(t, 'imported gpt2 logits vs its export', actual, logitsOf(exported));
  });

  async function upload(model: string, entries: TarSourceEntry[]) {
    const response = await request(
      'POST',
      `/api/v1/models/${model}/versions`,
      await bytesOf(writeTar(entries)),
      'application/x-tar',
    );
    return { status: response.status, body: response.bytes.toString() };
  }
});

function flatten(rows: Float64Array[]): Float64Array {
  const flat = new Float64Array(rows.reduce((sum, row) => sum + row.length, 0));
  let at = 0;
  for (const row of rows) {
    flat.set(row, at);
    at += row.length;
  }
  return flat;
}
