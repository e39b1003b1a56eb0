import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ArchiveError, ByteReader } from '../platform/archive/byte-reader.js';
import { readTar } from '../platform/archive/tar.js';
import { readZip, type RandomAccessSource } from '../platform/archive/zip.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { ArtifactTooLargeError } from '../platform/storage/artifact-errors.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import {
  HuggingFaceFormatError,
  readHuggingFaceGpt2Config,
  tokenizerJsonFromVocabAndMerges,
} from '../trainer/formats/huggingface-gpt2.js';
import { decodeBf16, decodeF16 } from '../trainer/formats/half-float.js';
import {
  encodeSafetensorsHeader,
  readSafetensorsHeader,
  SafetensorsError,
  safetensorsHeaderLength,
  type SafetensorsHeader,
} from '../trainer/formats/safetensors.js';
import { gpt2ParameterSpecs, normalizeGpt2StateDict, type Gpt2Config, type Gpt2Head } from '../trainer/models/gpt2.js';
import { mlpParameterSpecs, type MlpConfig } from '../trainer/models/mlp.js';
import { BpeTokenizer } from '../trainer/tokenizer/bpe-tokenizer.js';
import { TokenizerError } from '../trainer/tokenizer/tokenizer-error.js';
import { BUNDLE_MANIFEST } from './model-export.js';
import { ModelRegistryRepository } from './model-registry.repository.js';
import type { ModelVersionEntity } from './model-version.entity.js';

/** Files an import reads, by base name, and the most bytes each may have (the weights: the upload limit). */
const SMALL_FILES: Record<string, number> = {
  'config.json': 1 << 20,
  'tokenizer.json': 64 << 20,
  'vocab.json': 16 << 20,
  'merges.txt': 16 << 20,
  'manifest.json': 16 << 20,
  [BUNDLE_MANIFEST]: 16 << 20,
};
const WEIGHTS = 'model.safetensors';
/** Tensor bytes converted at a time: bounded memory whatever the model's size. */
const CONVERT_CHUNK_BYTES = 4 << 20;

class ImportRefused extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly tensor?: string,
  ) {
    super(`${file}${tensor ? ` ${tensor}` : ''}: ${reason}`);
  }
}

interface StagedFiles {
  small: Map<string, Buffer>;
  weights?: { key: string; size: number };
}

interface PlannedTensor {
  source: string;
  target: string;
  dtype: 'F32' | 'F16' | 'BF16' | 'F64';
  shape: number[];
  begin: number;
  end: number;
}

export interface ImportLimits {
  maxBytes: number;
}

/**
 * Imports a model version from an uploaded archive (tar, tar.gz or zip): a Hugging Face GPT-2
 * folder (`config.json`, `model.safetensors` in F32, F16 or BF16, and `tokenizer.json` or
 * `vocab.json` + `merges.txt`), or a TuneForge bundle. Everything streams: the upload into a
 * staging area, then the weights tensor by tensor into float32 with our names. Every check
 * (archive, header, names, shapes against the config, dtypes, offsets, NaN or Inf) runs before the
 * version is recorded; a refused import leaves nothing behind.
 */
@Injectable()
export class ModelImporter {
  private readonly logger = new Logger(ModelImporter.name);

  constructor(
    @Inject(ArtifactStore) private readonly store: ArtifactStore,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: ModelRegistryRepository,
  ) {}

  async importVersion(
    principal: Principal,
    modelName: string,
    body: Readable,
    limits: ImportLimits,
  ): Promise<ModelVersionEntity> {
    const id = randomUUID();
    const staging = `projects/${principal.projectId}/models/imports/${id}/staging/`;
    const prefix = `projects/${principal.projectId}/models/imports/${id}/`;
    let recorded = false;
    try {
      const upload = await this.store.put(`${staging}upload`, body, { maxBytes: limits.maxBytes });
      const staged = await this.stage(`${staging}upload`, upload.size, staging, limits);
      const plan = await this.plan(staged);
      const files: Array<{ name: string; sizeBytes: number; sha256: string }> = [];
      const weights = await this.store.put(
        `${prefix}${WEIGHTS}`,
        Readable.from(this.convert(staged.weights!.key, plan.header, plan.tensors)),
      );
      files.push({ name: WEIGHTS, sizeBytes: weights.size, sha256: weights.sha256 });
      if (plan.tokenizer) {
        const stored = await this.store.put(`${prefix}tokenizer.json`, Readable.from([plan.tokenizer]));
        files.push({ name: 'tokenizer.json', sizeBytes: stored.size, sha256: stored.sha256 });
      }
      const manifest = { ...plan.manifest, name: modelName, createdAt: new Date().toISOString() };
      const manifestFile = await this.store.put(
        `${prefix}manifest.json`,
        Readable.from([Buffer.from(JSON.stringify(manifest, null, 2))]),
      );
      files.push({ name: 'manifest.json', sizeBytes: manifestFile.size, sha256: manifestFile.sha256 });
      const version = await this.dataSource.transaction(async (manager) => {
        const { model, version: number } = await this.registry.reserveVersion(
          manager,
          principal.projectId,
          modelName,
          principal.apiKeyId,
        );
        return this.registry.insertVersion(manager, model, number, {
          projectId: principal.projectId,
          modelName,
          family: plan.family,
          task: plan.task,
          manifest,
          files,
          artifactPrefix: prefix,
          parameterCount: plan.parameterCount,
          metrics: {},
          sourceJobId: null,
          createdByKeyId: principal.apiKeyId,
        });
      });
      recorded = true;
      return version;
    } catch (error) {
      throw toDomainError(error);
    } finally {
      await this.store.deletePrefix(recorded ? staging : prefix).catch((error: unknown) => {
        this.logger.warn({ err: error, prefix }, 'could not remove the staging files of a model import');
      });
    }
  }

  /** Opens the uploaded archive and stages the files an import reads. */
  private async stage(uploadKey: string, size: number, staging: string, limits: ImportLimits): Promise<StagedFiles> {
    const head = size >= 4 ? await this.readRange(uploadKey, 0, Math.min(size, 512)) : new Uint8Array(0);
    const staged: StagedFiles = { small: new Map() };
    const take = async (rawName: string, open: () => Promise<Readable>, entrySize: number) => {
      const name = this.baseName(rawName);
      if (name === WEIGHTS) {
        if (staged.weights) {
          throw new ImportRefused(WEIGHTS, 'the archive holds more than one model.safetensors');
        }
        const stored = await this.store.put(`${staging}${WEIGHTS}`, await open(), { maxBytes: limits.maxBytes });
        staged.weights = { key: `${staging}${WEIGHTS}`, size: stored.size };
        return true;
      }
      const limit = SMALL_FILES[name];
      if (limit === undefined) {
        return false;
      }
      if (staged.small.has(name)) {
        throw new ImportRefused(name, 'the archive holds this file more than once');
      }
      if (entrySize > limit) {
        throw new ImportRefused(name, `is ${entrySize} bytes, more than the ${limit} this file may have`);
      }
      staged.small.set(name, await readAll(await open(), limit, name));
      return true;
    };

    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
      for (const entry of await readZip(this.rangeSource(uploadKey, size))) {
        if (entry.type === 'file') {
          await take(entry.name, () => entry.open(), entry.size);
        }
      }
      return staged;
    }
    const stored = await this.store.get(uploadKey);
    try {
      let source: AsyncIterable<Uint8Array> = stored;
      if (head[0] === 0x1f && head[1] === 0x8b) {
        source = stored.pipe(zlib.createGunzip());
      } else if (Buffer.from(head.subarray(257, 262)).toString('latin1') !== 'ustar') {
        throw new ImportRefused('upload', 'is not a tar, tar.gz or zip archive');
      }
      for await (const entry of readTar(source)) {
        if (entry.type !== 'file' || !(await take(entry.name, () => Promise.resolve(entry.body), entry.size))) {
          entry.body.destroy();
        }
      }
    } finally {
      // The archive may go on past its end-of-archive blocks (record padding): stop reading there.
      stored.destroy();
    }
    return staged;
  }

  /** Files at the top of the archive or in one folder (as `save_pretrained` or `git clone` make them). */
  private baseName(name: string): string {
    const parts = name.split('/');
    return parts.length <= 2 ? parts[parts.length - 1] : '';
  }

  /** Decides what the import is and checks it whole, before any tensor is converted. */
  private async plan(staged: StagedFiles) {
    if (!staged.weights) {
      throw new ImportRefused(WEIGHTS, 'is missing from the archive');
    }
    const headerLength = safetensorsHeaderLength(
      await this.readRange(staged.weights.key, 0, Math.min(8, staged.weights.size)),
    );
    const header = readSafetensorsHeader(
      await this.readRange(staged.weights.key, 0, Math.min(8 + headerLength, staged.weights.size)),
      staged.weights.size,
    );
    const ours = parseJson(staged.small, BUNDLE_MANIFEST) as Record<string, unknown> | undefined;
    if (ours?.family === 'mlp' || (!staged.small.has('config.json') && parseJson(staged.small, 'manifest.json'))) {
      const manifest = (ours ?? parseJson(staged.small, 'manifest.json')) as Record<string, unknown>;
      const config = manifest.config as MlpConfig;
      let specs;
      try {
        specs = mlpParameterSpecs(config);
      } catch (error) {
        throw new ImportRefused('manifest.json', `config: ${(error as Error).message}`);
      }
      const expected = new Map(specs.map((spec) => [spec.name, spec.shape]));
      const tensors = this.matchTensors(header, new Map(specs.map((spec) => [spec.name, spec.name])), expected, []);
      return {
        family: 'mlp' as const,
        task: String(manifest.task),
        header,
        tensors,
        tokenizer: undefined,
        parameterCount: count(specs),
        manifest: { ...manifest, importedFrom: { format: 'tuneforge' } },
      };
    }

    let config: Gpt2Config;
    let head: Gpt2Head;
    let labels: string[] | undefined;
    let importedFrom: Record<string, unknown>;
    if (ours?.family === 'gpt2') {
      config = ours.config as Gpt2Config;
      head = ours.head as Gpt2Head;
      labels = Array.isArray(ours.labels) ? (ours.labels as string[]) : undefined;
      importedFrom = { format: 'tuneforge' };
    } else {
      const huggingFace = parseJson(staged.small, 'config.json');
      if (huggingFace === undefined) {
        throw new ImportRefused('config.json', 'is missing from the archive');
      }
      const imported = readHuggingFaceGpt2Config(huggingFace);
      ({ config, head, labels } = imported);
      importedFrom = { format: 'huggingface', architecture: imported.architecture };
    }
    let specs;
    try {
      specs = gpt2ParameterSpecs(config, head);
    } catch (error) {
      throw new ImportRefused('config.json', (error as Error).message);
    }
    const { renamed, dropped } = normalizeGpt2StateDict(Object.keys(header.tensors));
    const tensors = this.matchTensors(header, renamed, new Map(specs.map((spec) => [spec.name, spec.shape])), dropped);
    const tokenizer = this.tokenizer(staged.small, config);
    return {
      family: 'gpt2' as const,
      task: head.type,
      header,
      tensors,
      tokenizer,
      parameterCount: count(specs),
      manifest: {
        format: 'tuneforge-model/1',
        family: 'gpt2',
        task: head.type,
        config,
        head,
        labels: labels ?? null,
        targetScaling: ours?.targetScaling ?? null,
        features: null,
        sequenceLength: (ours?.sequenceLength as number | undefined) ?? config.nPositions,
        tokenizer: 'tokenizer.json',
        weights: WEIGHTS,
        parameterCount: count(specs),
        trainedSteps: (ours?.trainedSteps as number | undefined) ?? null,
        importedFrom,
      },
    };
  }

  /** Every expected parameter present with its shape, nothing unexpected, dtypes we convert. */
  private matchTensors(
    header: SafetensorsHeader,
    renamed: Map<string, string>,
    expected: Map<string, number[]>,
    dropped: string[],
  ): PlannedTensor[] {
    const planned: PlannedTensor[] = [];
    const seen = new Set<string>();
    for (const [source, info] of Object.entries(header.tensors)) {
      if (dropped.includes(source)) {
        continue;
      }
      const target = renamed.get(source);
      const shape = target === undefined ? undefined : expected.get(target);
      if (target === undefined || shape === undefined) {
        throw new ImportRefused(WEIGHTS, 'is not a parameter of this model (per its config)', source);
      }
      if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16' && info.dtype !== 'F64') {
        throw new ImportRefused(WEIGHTS, `has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`, source);
      }
      if (JSON.stringify(info.shape) !== JSON.stringify(shape)) {
        throw new ImportRefused(
          WEIGHTS,
          `has shape [${info.shape.join(', ')}]; the config needs [${shape.join(', ')}]`,
          source,
        );
      }
      seen.add(target);
      planned.push({ source, target, dtype: info.dtype, shape, begin: info.dataOffsets[0], end: info.dataOffsets[1] });
    }
    for (const name of expected.keys()) {
      if (!seen.has(name)) {
        throw new ImportRefused(WEIGHTS, 'is missing (the config needs it)', name);
      }
    }
    return planned.sort((a, b) => a.begin - b.begin);
  }

  private tokenizer(small: Map<string, Buffer>, config: Gpt2Config): Buffer {
    let json: unknown;
    let file = 'tokenizer.json';
    if (small.has('tokenizer.json')) {
      json = parseJson(small, 'tokenizer.json');
    } else if (small.has('vocab.json') && small.has('merges.txt')) {
      file = 'vocab.json';
      json = tokenizerJsonFromVocabAndMerges(parseJson(small, 'vocab.json'), small.get('merges.txt')!.toString('utf8'));
    } else {
      throw new ImportRefused(
        'tokenizer.json',
        'is missing: a gpt2 model needs tokenizer.json or vocab.json + merges.txt',
      );
    }
    let tokenizer: BpeTokenizer;
    try {
      tokenizer = BpeTokenizer.fromJSON(json);
    } catch (error) {
      throw new ImportRefused(file, (error as Error).message);
    }
    const serialized = tokenizer.toJSON();
    const largest = Math.max(
      ...Object.values(serialized.model.vocab),
      ...serialized.added_tokens.map((token) => token.id),
    );
    if (largest >= config.vocabSize) {
      throw new ImportRefused(file, `has token id ${largest}, past the model's vocab_size ${config.vocabSize}`);
    }
    return Buffer.from(JSON.stringify(serialized));
  }

  /** The new file: header with our names, then each kept tensor as float32, checked for NaN and Inf. */
  private async *convert(key: string, header: SafetensorsHeader, tensors: PlannedTensor[]): AsyncGenerator<Buffer> {
    let offset = 0;
    const entries = tensors.map((tensor) => {
      const size = (tensor.shape.reduce((product, dimension) => product * dimension, 1) || 0) * 4;
      const entry = {
        name: tensor.target,
        dtype: 'F32' as const,
        shape: tensor.shape,
        dataOffsets: [offset, offset + size] as [number, number],
      };
      offset += size;
      return entry;
    });
    yield encodeSafetensorsHeader(entries);
    const reader = new ByteReader(await this.store.get(key, { start: header.dataStart }));
    try {
      yield* this.convertTensors(reader, tensors);
    } finally {
      await reader.close();
    }
  }

  private async *convertTensors(reader: ByteReader, tensors: PlannedTensor[]): AsyncGenerator<Buffer> {
    let position = 0;
    for (const tensor of tensors) {
      await reader.skip(tensor.begin - position);
      const width = tensor.dtype === 'F64' ? 8 : tensor.dtype === 'F32' ? 4 : 2;
      let index = 0;
      for (let at = tensor.begin; at < tensor.end;) {
        const length = Math.min(tensor.end - at, Math.floor(CONVERT_CHUNK_BYTES / width) * width);
        const bytes = await reader.readExactly(length);
        const values = toFloat32(bytes, tensor.dtype);
        for (let i = 0; i < values.length; i++) {
          if (!Number.isFinite(values[i])) {
            throw new ImportRefused(WEIGHTS, `holds ${values[i]} at element ${index + i}`, tensor.source);
          }
        }
        index += values.length;
        at += length;
        yield Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      }
      position = tensor.end;
    }
  }

  private rangeSource(key: string, size: number): RandomAccessSource {
    return { size, read: (start, end) => this.store.get(key, { start, end }) };
  }

  private async readRange(key: string, start: number, length: number): Promise<Uint8Array> {
    if (length === 0) {
      return new Uint8Array(0);
    }
    const reader = new ByteReader(await this.store.get(key, { start, end: start + length - 1 }));
    try {
      return await reader.readExactly(length);
    } finally {
      await reader.close();
    }
  }
}

function toFloat32(bytes: Uint8Array, dtype: PlannedTensor['dtype']): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.length / 4);
      for (let i = 0; i < out.length; i++) {
        out[i] = view.getFloat32(4 * i, true);
      }
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.length / 8);
      for (let i = 0; i < out.length; i++) {
        out[i] = view.getFloat64(8 * i, true);
      }
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.length / 2);
      decodeF16(bytes, out);
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.length / 2);
      decodeBf16(bytes, out);
      return out;
    }
  }
}

function count(specs: Array<{ shape: number[] }>): number {
  return specs.reduce((sum, spec) => sum + spec.shape.reduce((product, dimension) => product * dimension, 1), 0);
}

function parseJson(small: Map<string, Buffer>, name: string): unknown {
  const bytes = small.get(name);
  if (bytes === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new ImportRefused(name, `is not valid JSON (${(error as Error).message})`);
  }
}

async function readAll(stream: Readable, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new ImportRefused(name, `is more than the ${limit} bytes this file may have`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toDomainError(error: unknown): unknown {
  if (error instanceof ImportRefused) {
    return DomainError.validation(`The model cannot be imported: ${error.message}`, [
      { field: error.file, reason: error.reason, ...(error.tensor ? { tensor: error.tensor } : {}) },
    ]);
  }
  if (error instanceof SafetensorsError) {
    return DomainError.validation(`The model cannot be imported: ${WEIGHTS}: ${error.message}`, [
      { field: WEIGHTS, reason: error.message },
    ]);
  }
  if (error instanceof HuggingFaceFormatError) {
    return DomainError.validation(`The model cannot be imported: ${error.message}`, [
      { field: error.file, reason: error.message },
    ]);
  }
  if (error instanceof ArchiveError || error instanceof TokenizerError) {
    return new DomainError(ErrorCode.UnreadableFile, `The model cannot be imported: ${error.message}`, [
      { field: 'upload', reason: error.message },
    ]);
  }
  if (error instanceof ArtifactTooLargeError) {
    return new DomainError(ErrorCode.PayloadTooLarge, 'The model upload is larger than MODEL_IMPORT_MAX_BYTES allows', [
      { field: 'upload', reason: error.message },
    ]);
  }
  if (error instanceof Error && 'code' in error && (error as { code: unknown }).code === 'Z_DATA_ERROR') {
    return new DomainError(ErrorCode.UnreadableFile, 'The model cannot be imported: the gzip stream is corrupt', [
      { field: 'upload', reason: error.message },
    ]);
  }
  return error;
}
