import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import type { GenerationOptions } from '../trainer/inference/generation.js';
import type { PredictionResult, PredictionTask } from '../trainer/inference/inference-protocol.js';
import { InferencePool, PredictionFailedError, type ModelSource } from '../trainer/pool/inference-pool.js';
import { ModelAliasEntity } from './model-alias.entity.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { deletedVersionError } from './models.service.js';
import { inputProblems, modelInputsOf } from './prediction-inputs.js';
import { PredictQueryDto, PredictRequestDto, PredictResponseDto, type PredictionDto } from './prediction.dto.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

const GENERATION_FIELDS = ['maxNewTokens', 'temperature', 'topK', 'topP', 'stopSequences', 'seed', 'stream'] as const;
const DEFAULT_MAX_NEW_TOKENS = 64;

interface Prepared {
  model: RegisteredModelEntity;
  version: ModelVersionEntity;
  task: PredictionTask;
  generation: GenerationOptions | null;
}

/** One server-sent event: its name and a JSON payload on one data line. */
const serverSentEvent = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** Items pushed by callbacks, read as an async sequence; a failure is thrown to the reader. */
class EventQueue {
  private readonly items: string[] = [];
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  push(item: string): void {
    this.items.push(item);
    this.notify();
  }

  fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.end();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The next item, or null at the end. */
  async next(): Promise<string | null> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        return item;
      }
      if (this.failure !== null) {
        throw this.failure;
      }
      if (this.ended) {
        return null;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }
}

/**
 * Predictions from a stored model version: checks the request against the version (task, input
 * fields, limits), has the inference pool answer, and shapes the answer per head.
 */
@Injectable()
export class PredictionsService {
  constructor(
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelVersionEntity) private readonly versions: Repository<ModelVersionEntity>,
    @InjectRepository(ModelAliasEntity) private readonly aliases: Repository<ModelAliasEntity>,
    @Inject(ArtifactStore) private readonly store: ArtifactStore,
    private readonly pool: InferencePool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async predict(
    principal: Principal,
    name: string,
    query: PredictQueryDto,
    request: PredictRequestDto,
  ): Promise<PredictResponseDto> {
    const prepared = await this.prepare(principal, name, query, request);
    return this.respond(prepared, await this.run(prepared, request));
  }

  /**
   * A generation as server-sent events: `token` events with text as it is generated, then one
   * `done` event holding the whole response (or an `error` event). Problems found before the first
   * event are thrown, so they answer as ordinary JSON errors.
   */
  async predictStream(
    principal: Principal,
    name: string,
    query: PredictQueryDto,
    request: PredictRequestDto,
  ): Promise<Readable> {
    const prepared = await this.prepare(principal, name, query, request);
    if (prepared.task !== 'generate') {
      throw DomainError.validation('Only a causal-lm model streams', [
        { field: 'stream', reason: `version ${prepared.version.version} is a ${prepared.version.task} model` },
      ]);
    }
    const queue = new EventQueue();
    const abort = new AbortController();
    this.run(prepared, request, {
      onText: (index, text) => queue.push(serverSentEvent('token', { index, text })),
      signal: abort.signal,
    }).then(
      (result) => {
        queue.push(serverSentEvent('done', this.respond(prepared, result)));
        queue.end();
      },
      (error: unknown) => queue.fail(error),
    );
    const first = await queue.next();
    async function* events(): AsyncGenerator<string> {
      try {
        let item = first;
        while (item !== null) {
          yield item;
          try {
            item = await queue.next();
          } catch (error) {
            const code = error instanceof DomainError ? error.code : ErrorCode.Internal;
            const message = error instanceof DomainError ? error.message : 'The generation failed';
            yield serverSentEvent('error', { code, message });
            return;
          }
        }
      } finally {
        // The client went away (the stream is destroyed) or the generation ended: stop it either way.
        abort.abort();
      }
    }
    return Readable.from(events(), { objectMode: false });
  }

  /** The version a request names. Every way of naming one (a version number today) resolves here. */
  async resolveVersion(
    principal: Principal,
    name: string,
    query: PredictQueryDto,
  ): Promise<{ model: RegisteredModelEntity; version: ModelVersionEntity }> {
    const model = await this.models.findOneBy({ projectId: principal.projectId, name });
    if (!model) {
      throw DomainError.notFound('Model', name);
    }
    if ((query.version === undefined) === (query.alias === undefined)) {
      throw DomainError.validation('Say which version answers: `version` or `alias`, one of them', [
        { field: query.version === undefined ? 'version' : 'alias', reason: 'give exactly one of version and alias' },
      ]);
    }
    let version: ModelVersionEntity | null;
    if (query.alias !== undefined) {
      const alias = await this.aliases.findOneBy({ modelId: model.id, name: query.alias });
      if (!alias?.modelVersionId) {
        throw DomainError.notFound(`Alias of model ${name}`, query.alias);
      }
      version = await this.versions.findOneBy({ id: alias.modelVersionId });
    } else {
      version = await this.versions.findOneBy({ modelId: model.id, version: query.version });
    }
    if (!version) {
      throw DomainError.notFound(`Version of model ${name}`, String(query.version));
    }
    if (version.state === 'deleted') {
      throw deletedVersionError(model.name, version);
    }
    return { model, version };
  }

  private async prepare(
    principal: Principal,
    name: string,
    query: PredictQueryDto,
    request: PredictRequestDto,
  ): Promise<Prepared> {
    const { maxBatch, maxNewTokens } = this.config.inference;
    if (request.inputs.length > maxBatch) {
      throw DomainError.validation(`At most ${maxBatch} inputs per request`, [
        { field: 'inputs', reason: `has ${request.inputs.length} inputs; the limit is ${maxBatch}` },
      ]);
    }
    const { model, version } = await this.resolveVersion(principal, name, query);
    const task = this.taskOf(version);
    if (task !== 'generate') {
      const given = GENERATION_FIELDS.filter((field) => request[field] !== undefined);
      if (given.length > 0) {
        throw DomainError.validation(
          'Generation options apply to causal-lm models only',
          given.map((field) => ({ field, reason: `version ${version.version} is a ${version.task} model` })),
        );
      }
    }
    if ((request.maxNewTokens ?? 0) > maxNewTokens) {
      throw DomainError.validation(`At most ${maxNewTokens} new tokens`, [
        { field: 'maxNewTokens', reason: `must be at most ${maxNewTokens} (INFERENCE_MAX_NEW_TOKENS)` },
      ]);
    }
    const problems = inputProblems(modelInputsOf(version.manifest, version.task), request.inputs);
    if (problems.length > 0) {
      throw DomainError.validation("The inputs do not fit the model's input fields", problems);
    }
    const generation: GenerationOptions | null =
      task === 'generate'
        ? {
            maxNewTokens: request.maxNewTokens ?? Math.min(DEFAULT_MAX_NEW_TOKENS, maxNewTokens),
            temperature: request.temperature ?? 1,
            topK: request.topK ?? 0,
            topP: request.topP ?? 1,
            stopSequences: request.stopSequences ?? [],
            seed: request.seed ?? null,
          }
        : null;
    return { model, version, task, generation };
  }

  private taskOf(version: ModelVersionEntity): PredictionTask {
    switch (version.task) {
      case 'classification':
        return 'classify';
      case 'regression':
        return 'regress';
      case 'causal-lm':
        return 'generate';
      default:
        throw new DomainError(
          ErrorCode.InvalidState,
          `Version ${version.version} has task ${version.task}, which gives no predictions`,
        );
    }
  }

  private async run(
    prepared: Prepared,
    request: PredictRequestDto,
    streaming: { onText: (index: number, text: string) => void; signal: AbortSignal } | null = null,
  ): Promise<PredictionResult> {
    const { version } = prepared;
    try {
      return await this.pool.predict({
        versionId: version.id,
        task: prepared.task,
        inputs: request.inputs,
        generation: prepared.generation,
        source: () => Promise.resolve(this.source(version)),
        onText: streaming?.onText,
        signal: streaming?.signal,
      });
    } catch (error) {
      if (error instanceof PredictionFailedError) {
        switch (error.code) {
          case 'unavailable':
            throw new DomainError(ErrorCode.ServiceUnavailable, error.message);
          case 'model_unloadable':
            throw new DomainError(
              ErrorCode.InvalidState,
              `Version ${version.version} of model ${prepared.model.name} cannot be loaded: ${error.message}`,
            );
          case 'cancelled':
          case 'internal':
            throw error;
          default: {
            const unreachable: never = error.code;
            throw new Error(`unknown prediction error ${String(unreachable)}`, { cause: error });
          }
        }
      }
      throw error;
    }
  }

  /** The version's files in the artifact store: weights, and the tokenizer when it has one. */
  private source(version: ModelVersionEntity): ModelSource {
    const sizeOf = (file: string) => version.files.find((entry) => entry.name === file)?.sizeBytes;
    const weights = typeof version.manifest.weights === 'string' ? version.manifest.weights : 'model.safetensors';
    const tokenizer = typeof version.manifest.tokenizer === 'string' ? version.manifest.tokenizer : null;
    const files: ModelSource['files'] = [];
    for (const [name, file] of [
      ['weights', weights],
      ['tokenizer', tokenizer],
    ] as const) {
      if (file === null) {
        continue;
      }
      const size = sizeOf(file);
      if (size === undefined) {
        throw new PredictionFailedError('model_unloadable', `the version records no ${file}`);
      }
      files.push({ name, size, open: () => this.store.get(`${version.artifactPrefix}${file}`) });
    }
    return { manifest: version.manifest, files };
  }

  private respond(prepared: Prepared, result: PredictionResult): PredictResponseDto {
    let predictions: PredictionDto[];
    switch (result.task) {
      case 'classify':
        predictions = result.predictions.map(({ label, probabilities }) => ({
          label,
          probabilities: Object.fromEntries(result.labels.map((name, index) => [name, probabilities[index]])),
        }));
        break;
      case 'regress':
        predictions = result.values.map((value) => ({ value }));
        break;
      case 'generate':
        predictions = result.generations.map(({ text, promptTokens, completionTokens, finishReason }) => ({
          text,
          promptTokens,
          completionTokens,
          finishReason,
        }));
        break;
      default: {
        const unreachable: never = result;
        throw new Error(`unknown result ${JSON.stringify(unreachable)}`);
      }
    }
    return {
      model: prepared.model.name,
      version: prepared.version.version,
      modelVersionId: prepared.version.id,
      task: prepared.version.task,
      predictions,
    };
  }
}
