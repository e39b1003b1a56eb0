/**
 * Model imports: a TuneForge bundle round-trips; a GPT-2-shaped Hugging Face checkpoint (12 layers,
 * 768 wide, F16, original tensor names with the attention-mask buffers) streams in with bounded
 * memory; every malformed file gets a 400 naming the file or tensor, and leaves nothing stored.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { writeTar, type TarSourceEntry } from '../src/platform/archive/tar.js';
import { readTar } from '../src/platform/archive/tar.js';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import { decodeSafetensors, encodeSafetensorsHeader } from '../src/trainer/formats/safetensors.js';
import { gpt2ParameterSpecs, type Gpt2Config } from '../src/trainer/models/gpt2.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { BpeTokenizer } from '../src/trainer/tokenizer/bpe-tokenizer.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

const bytesEntry = (name: string, bytes: Buffer | string): TarSourceEntry => {
  const buffer = Buffer.from(bytes);
  return { name, size: buffer.length, body: () => Readable.from([buffer]) };
};

interface TensorPlan {
  name: string;
  dtype: 'F16' | 'F32' | 'I32';
  shape: number[];
  /** Overrides for the header only (to make broken files). */
  offsets?: [number, number];
}

/** A safetensors file streamed from a plan: F16 values are small random numbers, generated per chunk. */
function streamedSafetensors(plan: TensorPlan[], options: { nanAt?: string; extraBytes?: number } = {}) {
  let offset = 0;
  const entries = plan.map((tensor) => {
    const width = tensor.dtype === 'F16' ? 2 : 4;
    const size = tensor.shape.reduce((product, dimension) => product * dimension, 1) * width;
    const entry = { ...tensor, dataOffsets: tensor.offsets ?? ([offset, offset + size] as [number, number]), size };
    offset += size;
    return entry;
  });
  const header = encodeSafetensorsHeader(
    entries.map(({ name, dtype, shape, dataOffsets }) => ({ name, dtype, shape, dataOffsets })),
  );
  const extra = options.extraBytes ?? 0;
  return {
    size: header.length + offset + extra,
    body: () => Readable.from(chunks(), { objectMode: false }),
  };
  function* chunks(): Generator<Buffer> {
    yield header;
    let seed = 12345;
    for (const entry of entries) {
      const chunkBytes = 1 << 20;
      for (let at = 0; at < entry.size; at += chunkBytes) {
        const chunk = Buffer.alloc(Math.min(chunkBytes, entry.size - at));
        for (let i = 0; i + 1 < chunk.length; i += 2) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          // Sign, exponent 8..14 (values of about 2^-7 to 2^-1), random mantissa: always finite.
          chunk.writeUInt16LE(((seed >>> 31) << 15) | ((8 + ((seed >>> 16) % 7)) << 10) | (seed & 0x3ff), i);
        }
        if (options.nanAt === entry.name && at === 0) {
          chunk.writeUInt16LE(entry.dtype === 'F16' ? 0x7e00 : 0, 0);
          if (entry.dtype === 'F32') {
            chunk.writeFloatLE(Number.NaN, 0);
          }
        }
        yield chunk;
      }
    }
    if (extra > 0) {
      yield Buffer.alloc(extra);
    }
  }
}

function gpt2Plan(config: Gpt2Config): TensorPlan[] {
  const plan: TensorPlan[] = gpt2ParameterSpecs(config, { type: 'causal-lm' }).map((spec) => ({
    name: spec.name,
    dtype: 'F16',
    shape: spec.shape,
  }));
  // Released GPT-2 checkpoints also hold each block's causal-mask buffer: it must be dropped, not refused.
  for (let layer = 0; layer < config.nLayer; layer++) {
    plan.push({ name: `h.${layer}.attn.bias`, dtype: 'F16', shape: [1, 1, config.nPositions, config.nPositions] });
  }
  return plan;
}

function huggingFaceConfig(config: Gpt2Config): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    n_embd: config.nEmbd,
    n_head: config.nHead,
    n_layer: config.nLayer,
    n_positions: config.nPositions,
    n_ctx: config.nPositions,
    vocab_size: config.vocabSize,
    layer_norm_epsilon: 1e-5,
    resid_pdrop: 0.1,
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

describe('model import', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let store: ArtifactStore;
  let tokenizerFiles: TarSourceEntry[];

  /** Sends an archive as a stream, sampling this process's memory while it imports. */
  const upload = (modelName: string, entries: TarSourceEntry[], contentType = 'application/x-tar') =>
    new Promise<{ status: number; body: Record<string, unknown>; peakRssGrowth: number }>((resolve, reject) => {
      const url = new URL(`${testApp.baseUrl}/api/v1/models/${modelName}/versions`);
      const baseline = process.memoryUsage().rss;
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss - baseline);
      }, 20);
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { Authorization: `Bearer ${testApp.adminKey}`, 'Content-Type': contentType },
        },
        (response) => {
          void bytesOf(response).then((bytes) => {
            clearInterval(sampler);
            resolve({
              status: response.statusCode ?? 0,
              body: JSON.parse(bytes.toString() || '{}') as Record<string, unknown>,
              peakRssGrowth: peak,
            });
          }, reject);
        },
      );
      request.on('error', (error) => {
        clearInterval(sampler);
        reject(error);
      });
      Readable.from(writeTar(entries)).pipe(request);
    });

  const stagedImports = async () => {
    const keys: string[] = [];
    for await (const listing of store.list('projects/')) {
      if (listing.key.includes('/models/imports/')) {
        keys.push(listing.key);
      }
    }
    return keys;
  };

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    store = testApp.app.get(ArtifactStore);
    const tokenizer = BpeTokenizer.train(['the model learns the data', 'tokens of the layer'], {
      vocabSize: 280,
    }).toJSON();
    const vocab: Record<string, number> = { ...tokenizer.model.vocab };
    for (const added of tokenizer.added_tokens) {
      vocab[added.content] = added.id;
    }
    const merges = tokenizer.model.merges.map((merge) => (typeof merge === 'string' ? merge : merge.join(' ')));
    tokenizerFiles = [
      bytesEntry('gpt2/vocab.json', JSON.stringify(vocab)),
      bytesEntry('gpt2/merges.txt', `#version: 0.2\n${merges.join('\n')}\n`),
    ];
  });
  after(async () => {
    await testApp.close();
  });

  it('imports a TuneForge bundle back with the same weights, tokenizer and labels', async () => {
    const labelled = await uploadDataset(api, 'reviews', 'classification', sentimentRows(80, 3));
    await testApp.app.get(TrainerPool).start();
    const created = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: labelled, version: 1 },
      hyperparameters: { maxSteps: 2, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      outputModelName: 'sentiment',
    });
    expectStatus(created, 201);
    assert.equal((await waitForJob(api, created.body.id, ended)).status, 'succeeded');

    const bundle = await fetch(`${testApp.baseUrl}/api/v1/models/sentiment/versions/1/download`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    const files: TarSourceEntry[] = [];
    for await (const entry of readTar(Readable.from([Buffer.from(await bundle.arrayBuffer())]))) {
      files.push(bytesEntry(`sentiment-v1/${entry.name}`, await bytesOf(entry.body)));
    }
    const imported = await upload('sentiment-copy', files);
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    assert.equal(imported.body.family, 'gpt2');
    assert.equal(imported.body.task, 'classification');

    const original = await api<{ manifest: Record<string, unknown>; files: Array<{ name: string; sha256: string }> }>(
      'GET',
      '/api/v1/models/sentiment/versions/1',
    );
    const copy = await api<{ manifest: Record<string, unknown>; files: Array<{ name: string; sha256: string }> }>(
      'GET',
      '/api/v1/models/sentiment-copy/versions/1',
    );
    assert.deepEqual(copy.body.manifest.labels, original.body.manifest.labels);
    assert.deepEqual(copy.body.manifest.config, original.body.manifest.config);
    const weightsOf = async (model: string) => {
      const rows = await testApp.dataSource.query<Array<{ artifact_prefix: string }>>(
        `SELECT v.artifact_prefix FROM model_versions v JOIN registered_models m ON m.id = v.model_id
          WHERE m.name = $1 AND v.version = 1`,
        [model],
      );
      return {
        weights: decodeSafetensors(await bytesOf(await store.get(`${rows[0].artifact_prefix}model.safetensors`)))
          .tensors,
        tokenizer: JSON.parse(
          (await bytesOf(await store.get(`${rows[0].artifact_prefix}tokenizer.json`))).toString(),
        ) as unknown,
      };
    };
    const [before, after] = [await weightsOf('sentiment'), await weightsOf('sentiment-copy')];
    assert.deepEqual(after.weights, before.weights, 'identical weights, same names');
    assert.deepEqual(after.tokenizer, before.tokenizer, 'identical tokenizer');

    // And it fine-tunes like any other version.
    const tuned = await api<JobView>('POST', '/api/v1/jobs', {
      baseModel: { name: 'sentiment-copy' },
      trainingData: { datasetId: labelled, version: 1 },
      hyperparameters: { maxSteps: 2, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      outputModelName: 'sentiment-tuned',
    });
    expectStatus(tuned, 201);
    assert.equal((await waitForJob(api, tuned.body.id, ended)).status, 'succeeded');
  });

  it('streams in a GPT-2-shaped Hugging Face checkpoint (12 layers, 768 wide, F16) with bounded memory', async () => {
    const config: Gpt2Config = {
      vocabSize: 300,
      nPositions: 64,
      nEmbd: 768,
      nLayer: 12,
      nHead: 12,
      layerNormEpsilon: 1e-5,
      dropout: 0.1,
    };
    const weights = streamedSafetensors(gpt2Plan(config));
    const result = await upload('gpt2-shaped', [
      bytesEntry('gpt2/config.json', JSON.stringify(huggingFaceConfig(config))),
      ...tokenizerFiles,
      { name: 'gpt2/model.safetensors', ...weights },
    ]);
    assert.equal(result.status, 201, JSON.stringify(result.body));
    const parameters = gpt2ParameterSpecs(config, { type: 'causal-lm' }).reduce(
      (sum, spec) => sum + spec.shape.reduce((product, dimension) => product * dimension, 1),
      0,
    );
    assert.equal(result.body.parameterCount, parameters);
    assert.ok(parameters > 85_000_000);
    // The upload is 170 MB and the converted weights 340 MB: holding either would show here.
    assert.ok(result.peakRssGrowth < 160 * 1024 * 1024, `RSS grew by ${result.peakRssGrowth} bytes`);
    const version = await api<{ files: Array<{ name: string; sizeBytes: number }>; manifest: Record<string, unknown> }>(
      'GET',
      '/api/v1/models/gpt2-shaped/versions/1',
    );
    const storedSize = version.body.files.find((file) => file.name === 'model.safetensors')!.sizeBytes;
    assert.ok(storedSize > parameters * 4 && storedSize < parameters * 4 + (1 << 20), 'float32 weights and a header');
    assert.deepEqual(version.body.manifest.importedFrom, { format: 'huggingface', architecture: 'GPT2LMHeadModel' });
    assert.deepEqual(await stagedImports().then((keys) => keys.filter((key) => key.includes('/staging/'))), []);
  });

  it('converts F16 exactly and keeps the values', async () => {
    const config: Gpt2Config = {
      vocabSize: 300,
      nPositions: 16,
      nEmbd: 8,
      nLayer: 1,
      nHead: 2,
      layerNormEpsilon: 1e-5,
      dropout: 0,
    };
    const weights = streamedSafetensors(gpt2Plan(config));
    const raw = await bytesOf(weights.body());
    const result = await upload('tiny-f16', [
      bytesEntry('config.json', JSON.stringify(huggingFaceConfig(config))),
      ...tokenizerFiles.map((entry) => ({ ...entry, name: entry.name.replace('gpt2/', '') })),
      bytesEntry('model.safetensors', raw),
    ]);
    assert.equal(result.status, 201, JSON.stringify(result.body));
    const original = decodeSafetensors(raw);
    const prefix = (
      await testApp.dataSource.query<Array<{ artifact_prefix: string }>>(
        `SELECT v.artifact_prefix FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE m.name = 'tiny-f16'`,
      )
    )[0].artifact_prefix;
    const stored = decodeSafetensors(await bytesOf(await store.get(`${prefix}model.safetensors`)));
    assert.equal(stored.tensors.size, gpt2ParameterSpecs(config, { type: 'causal-lm' }).length);
    for (const [name, tensor] of stored.tensors) {
      assert.equal(tensor.dtype, 'F32');
      assert.deepEqual(tensor.data, original.tensors.get(name)!.data, name);
    }
  });

  it('refuses each malformed file with a 400 naming it, and stores nothing', async () => {
    const config: Gpt2Config = {
      vocabSize: 300,
      nPositions: 16,
      nEmbd: 8,
      nLayer: 1,
      nHead: 2,
      layerNormEpsilon: 1e-5,
      dropout: 0,
    };
    const good = gpt2Plan(config);
    const archive = (
      weights: { size: number; body: () => Readable } | TarSourceEntry,
      extra: TarSourceEntry[] = [],
    ) => [
      bytesEntry('config.json', JSON.stringify(huggingFaceConfig(config))),
      ...tokenizerFiles,
      'name' in weights ? weights : { name: 'model.safetensors', ...weights },
      ...extra,
    ];
    const wteSize = 300 * 8 * 2;
    const cases: Array<[string, TarSourceEntry[], RegExp]> = [
      [
        'an unknown tensor',
        archive(streamedSafetensors([...good, { name: 'h.0.attn.extra', dtype: 'F16', shape: [2] }])),
        /h\.0\.attn\.extra/,
      ],
      [
        'a wrong shape',
        archive(streamedSafetensors(good.map((t) => (t.name === 'wpe.weight' ? { ...t, shape: [15, 8] } : t)))),
        /wpe\.weight.*shape/,
      ],
      [
        'a missing tensor',
        archive(streamedSafetensors(good.filter((t) => t.name !== 'ln_f.bias'))),
        /ln_f\.bias.*missing/,
      ],
      [
        'an integer dtype',
        archive(streamedSafetensors(good.map((t) => (t.name === 'ln_f.bias' ? { ...t, dtype: 'I32' as const } : t)))),
        /ln_f\.bias.*dtype/,
      ],
      [
        'overlapping offsets',
        archive(
          streamedSafetensors(
            good.map((t, i) => (i === 1 ? { ...t, offsets: [0, 16 * 8 * 2] as [number, number] } : t)),
          ),
        ),
        /overlap|hole|offsets/,
      ],
      [
        'offsets past the file',
        archive(
          streamedSafetensors(
            good.map((t, i) => (i === 0 ? { ...t, offsets: [0, wteSize * 100] as [number, number] } : t)),
          ),
        ),
        /out of range|needs/,
      ],
      ['bytes after the last tensor', archive(streamedSafetensors(good, { extraBytes: 8 })), /belong to no tensor/],
      ['a NaN', archive(streamedSafetensors(good, { nanAt: 'h.0.mlp.c_fc.weight' })), /h\.0\.mlp\.c_fc\.weight.*NaN/],
      [
        'a header that is not JSON',
        archive(
          bytesEntry(
            'model.safetensors',
            Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":1,,')]),
          ),
        ),
        /JSON/,
      ],
      [
        'a header length past the file',
        archive(bytesEntry('model.safetensors', Buffer.from([255, 255, 0, 0, 0, 0, 0, 0]))),
        /header length/,
      ],
    ];
    for (const [what, entries, message] of cases) {
      const result = await upload(`broken-${cases.findIndex(([name]) => name === what)}`, entries);
      assert.equal(result.status, 400, `${what}: ${JSON.stringify(result.body)}`);
      assert.match(String(result.body.message), message, what);
    }
    const noConfig = await upload(
      'no-config',
      archive(streamedSafetensors(good)).filter((entry) => entry.name !== 'config.json'),
    );
    assert.equal(noConfig.status, 400);
    assert.match(String(noConfig.body.message), /config\.json/);
    const noTokenizer = await upload('no-tokenizer', [
      bytesEntry('config.json', JSON.stringify(huggingFaceConfig(config))),
      { name: 'model.safetensors', ...streamedSafetensors(good) },
    ]);
    assert.equal(noTokenizer.status, 400);
    assert.match(String(noTokenizer.body.message), /tokenizer/);
    const notArchive = await upload('not-an-archive', [], 'text/plain');
    assert.equal(notArchive.status, 415);

    const models = await api<{ data: Array<{ name: string }> }>('GET', '/api/v1/models?limit=200');
    assert.ok(!models.body.data.some((model) => model.name.startsWith('broken-') || model.name.startsWith('no-')));
    assert.deepEqual(
      (await stagedImports()).filter(
        (key) => !/\/imports\/[^/]+\/(model\.safetensors|tokenizer\.json|manifest\.json)$/.test(key),
      ),
      [],
      'no staging file is left',
    );
  });
});
