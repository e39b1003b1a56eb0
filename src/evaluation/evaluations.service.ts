import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import type { DatasetTask } from '../datasets/dataset-types.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { RegisteredModelEntity } from '../models/registered-model.entity.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate } from '../platform/http/pagination.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, type BootstrapInterval } from './statistics/significance.js';
import { EvaluationRunner } from './evaluation-runner.js';
import { EvaluationEntity, TERMINAL_EVALUATION_STATUSES } from './evaluation.entity.js';
import {
  EvaluationDto,
  EvaluationListDto,
  type CreateEvaluationDto,
  type EvaluationListQueryDto,
} from './evaluation.dto.js';
import { EVALUATION_TASKS, type ComparisonResult, type EvaluationTask } from './scoring.js';

/** What a promotion gate reads about a model version on a dataset version. */
export interface GateEvaluation {
  evaluationId: string;
  modelVersionId: string;
  datasetVersionId: string;
  task: EvaluationTask;
  finishedAt: Date;
  /** Examples scored. */
  examples: number;
  /** The task's metrics (see the evaluation documentation): accuracy, f1Macro, logLoss...; mae, rmse...; loss, perplexity... */
  metrics: Record<string, unknown>;
  /** Present when asked for a comparison and one exists. */
  comparison: {
    baselineModelVersionId: string;
    /** Candidate minus baseline per metric, with a paired-bootstrap interval. */
    differences: Record<string, BootstrapInterval>;
    mcnemar: ComparisonResult['mcnemar'];
    baselineMetrics: Record<string, unknown>;
  } | null;
}

/** Which dataset tasks a model's head can be scored on. */
const COMPATIBLE_TASKS: Record<EvaluationTask, readonly DatasetTask[]> = {
  classification: ['classification'],
  regression: ['regression'],
  'causal-lm': ['causal-lm', 'chat', 'prompt-completion'],
};

@Injectable()
export class EvaluationsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(EvaluationEntity) private readonly evaluations: Repository<EvaluationEntity>,
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelVersionEntity) private readonly modelVersions: Repository<ModelVersionEntity>,
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
    @InjectRepository(DatasetVersionEntity) private readonly datasetVersions: Repository<DatasetVersionEntity>,
    private readonly dataSource: DataSource,
    private readonly store: ArtifactStore,
    private readonly runner: EvaluationRunner,
  ) {}

  private async modelVersion(
    principal: Principal,
    name: string,
    version: number,
    field: string,
  ): Promise<{ model: RegisteredModelEntity; version: ModelVersionEntity }> {
    const model = await this.models.findOneBy({ projectId: principal.projectId, name });
    if (!model) {
      throw new DomainError(ErrorCode.NotFound, `Model ${name} was not found`, [{ field, reason: 'no such model' }]);
    }
    const entity = await this.modelVersions.findOneBy({ modelId: model.id, version });
    if (!entity) {
      throw new DomainError(ErrorCode.NotFound, `Version ${version} of model ${name} was not found`, [
        { field, reason: 'no such version' },
      ]);
    }
    return { model, version: entity };
  }

  /** Validates everything that can be known before the data is read; nothing is stored on refusal. */
  async createEvaluation(principal: Principal, body: CreateEvaluationDto): Promise<EvaluationDto> {
    const { model, version } = await this.modelVersion(principal, body.model.name, body.model.version, 'model');
    const task = version.task as EvaluationTask;
    if (!(EVALUATION_TASKS as readonly string[]).includes(task)) {
      throw new DomainError(ErrorCode.IncompatibleData, `Models with a ${version.task} head cannot be evaluated`, [
        { field: 'model', reason: `unsupported head ${version.task}` },
      ]);
    }
    const dataset = await this.datasets.findOneBy({ projectId: principal.projectId, name: body.dataset.name });
    if (!dataset) {
      throw new DomainError(ErrorCode.NotFound, `Dataset ${body.dataset.name} was not found`, [
        { field: 'dataset.name', reason: 'no such dataset' },
      ]);
    }
    const data = await this.datasetVersions.findOneBy({ datasetId: dataset.id, version: body.dataset.version });
    if (!data) {
      throw new DomainError(
        ErrorCode.NotFound,
        `Version ${body.dataset.version} of dataset ${dataset.name} was not found`,
        [{ field: 'dataset.version', reason: 'no such version' }],
      );
    }
    if (data.state !== 'ready') {
      throw new DomainError(
        ErrorCode.InvalidState,
        `Version ${data.version} of dataset ${dataset.name} is ${data.state}`,
        [{ field: 'dataset.version', reason: data.state }],
      );
    }
    this.checkCompatible(task, version, dataset.task, data, body.sliceBy);
    let baseline: ModelVersionEntity | null = null;
    if (body.baseline) {
      if (body.baseline.version === body.model.version) {
        throw DomainError.validation('The baseline must be another version of the model', [
          { field: 'baseline.version', reason: 'the same version as model.version' },
        ]);
      }
      baseline = (await this.modelVersion(principal, model.name, body.baseline.version, 'baseline.version')).version;
      if (baseline.task !== version.task) {
        throw new DomainError(ErrorCode.IncompatibleData, 'The baseline version has another head', [
          { field: 'baseline.version', reason: `${baseline.task}, not ${version.task}` },
        ]);
      }
      if (
        task === 'classification' &&
        JSON.stringify(baseline.manifest.labels ?? null) !== JSON.stringify(version.manifest.labels ?? null)
      ) {
        throw new DomainError(ErrorCode.IncompatibleData, 'The baseline version predicts other labels', [
          { field: 'baseline.version', reason: 'different labels' },
        ]);
      }
    }
    const created = await this.evaluations.save(
      this.evaluations.create({
        projectId: principal.projectId,
        status: 'queued',
        task,
        modelVersionId: version.id,
        modelName: model.name,
        modelVersion: version.version,
        datasetVersionId: data.id,
        datasetId: dataset.id,
        datasetName: dataset.name,
        datasetVersion: data.version,
        baselineModelVersionId: baseline?.id ?? null,
        baselineVersion: baseline?.version ?? null,
        sliceBy: body.sliceBy ?? null,
        bootstrap: {
          resamples: body.bootstrap?.resamples ?? DEFAULT_RESAMPLES,
          seed: body.bootstrap?.seed ?? 0,
          confidence: body.bootstrap?.confidence ?? DEFAULT_CONFIDENCE,
        },
        attempt: 0,
        maxAttempts: this.config.jobs.maxAttempts,
        leaseOwner: null,
        leaseExpiresAt: null,
        control: null,
        processedRows: 0,
        totalRows: data.rowCount,
        result: null,
        predictionsKey: null,
        error: null,
        createdByKeyId: principal.apiKeyId,
        startedAt: null,
        finishedAt: null,
      }),
    );
    this.runner.poke();
    return EvaluationDto.from(created);
  }

  /** The model must read fields the data has, and the data must hold what the head predicts. */
  private checkCompatible(
    task: EvaluationTask,
    version: ModelVersionEntity,
    datasetTask: DatasetTask,
    data: DatasetVersionEntity,
    sliceBy: string | undefined,
  ): void {
    const trainedOn = typeof version.manifest.dataTask === 'string' ? version.manifest.dataTask : null;
    if (trainedOn ? trainedOn !== datasetTask : !COMPATIBLE_TASKS[task].includes(datasetTask)) {
      throw new DomainError(
        ErrorCode.IncompatibleData,
        `A ${task} model ${trainedOn ? `trained on ${trainedOn} data ` : ''}cannot be evaluated on ${datasetTask} data`,
        [{ field: 'dataset', reason: `task ${datasetTask}` }],
      );
    }
    const available = new Set([...data.schema.inputFields, ...(data.columns ?? [])]);
    const schema = version.manifest.schema as { inputFields?: unknown } | undefined;
    const inputs = Array.isArray(schema?.inputFields) ? schema.inputFields.map(String) : [];
    const missing = inputs.filter((field) => !available.has(field));
    if (missing.length > 0) {
      throw new DomainError(
        ErrorCode.IncompatibleData,
        `The data lacks input fields the model reads: ${missing.join(', ')}`,
        [...missing.map((field) => ({ field: 'dataset', reason: `no input field ${field}` }))],
      );
    }
    if ((task === 'classification' || task === 'regression') && !data.schema.labelField) {
      throw new DomainError(ErrorCode.IncompatibleData, 'The data has no label field to score predictions against', [
        { field: 'dataset', reason: 'no labelField' },
      ]);
    }
    if (sliceBy && data.columns && !data.columns.includes(sliceBy)) {
      throw new DomainError(ErrorCode.IncompatibleData, `The data has no column ${sliceBy}`, [
        { field: 'sliceBy', reason: 'not a column of the data' },
      ]);
    }
  }

  private async visible(principal: Principal, id: string): Promise<EvaluationEntity> {
    const evaluation = await this.evaluations.findOneBy({ id, projectId: principal.projectId });
    if (!evaluation) {
      throw DomainError.notFound('Evaluation', id);
    }
    return evaluation;
  }

  async listEvaluations(principal: Principal, query: EvaluationListQueryDto): Promise<EvaluationListDto> {
    if (query.version !== undefined && query.model === undefined) {
      throw DomainError.validation('version filters the evaluations of one model: give model too', [
        { field: 'version', reason: 'needs model' },
      ]);
    }
    const builder = this.evaluations
      .createQueryBuilder('evaluation')
      .where('evaluation.projectId = :projectId', { projectId: principal.projectId });
    if (query.model !== undefined) {
      builder.andWhere('evaluation.modelName = :model', { model: query.model });
    }
    if (query.version !== undefined) {
      builder.andWhere('evaluation.modelVersion = :version', { version: query.version });
    }
    const page = await paginate(builder, query);
    return { data: page.data.map((evaluation) => EvaluationDto.from(evaluation)), nextCursor: page.nextCursor };
  }

  async getEvaluation(principal: Principal, id: string): Promise<EvaluationDto> {
    return EvaluationDto.from(await this.visible(principal, id));
  }

  async cancelEvaluation(principal: Principal, id: string): Promise<EvaluationDto> {
    const evaluation = await this.visible(principal, id);
    if (TERMINAL_EVALUATION_STATUSES.includes(evaluation.status)) {
      throw new DomainError(ErrorCode.InvalidState, `The evaluation is already ${evaluation.status}`, [
        { reason: evaluation.status },
      ]);
    }
    // Queued: cancelled at once. Running: the worker stops before its next batch.
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE evaluations SET status = 'cancelled', finished_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'queued' RETURNING id`,
      [id],
    );
    if (rows.length === 0) {
      await this.evaluations.update({ id, status: 'running' }, { control: 'cancel' });
    }
    return EvaluationDto.from(await this.evaluations.findOneByOrFail({ id }));
  }

  /** The predictions file of a succeeded evaluation, streamed from storage. */
  async openPredictions(principal: Principal, id: string): Promise<Readable> {
    const evaluation = await this.visible(principal, id);
    if (evaluation.status !== 'succeeded' || !evaluation.predictionsKey) {
      throw new DomainError(
        ErrorCode.InvalidState,
        `Predictions exist once the evaluation succeeded; it is ${evaluation.status}`,
        [{ reason: evaluation.status }],
      );
    }
    return this.store.get(evaluation.predictionsKey);
  }

  /**
   * For promotion gates: the latest succeeded evaluation of `modelVersionId` on `datasetVersionId`
   * in the project, or null when there is none.
   *
   * Without `comparedWith`, any succeeded evaluation counts and `comparison` is null. With
   * `comparedWith` (another model version's id), only evaluations that compared with exactly that
   * version count, and `comparison` holds each metric's difference (candidate minus baseline) with
   * its paired-bootstrap interval (`lower`, `upper`, `confidence`, `resamples`, `seed`), McNemar's
   * exact test for classifiers, and the baseline's own metrics; null when no such evaluation
   * exists. "Latest" is by finish time. Metric names are those of `GET /evaluations/{id}`.
   */
  async latestSucceeded(
    projectId: string,
    modelVersionId: string,
    datasetVersionId: string,
    options: { comparedWith?: string } = {},
  ): Promise<GateEvaluation | null> {
    const builder = this.evaluations
      .createQueryBuilder('evaluation')
      .where('evaluation.projectId = :projectId', { projectId })
      .andWhere('evaluation.modelVersionId = :modelVersionId', { modelVersionId })
      .andWhere('evaluation.datasetVersionId = :datasetVersionId', { datasetVersionId })
      .andWhere("evaluation.status = 'succeeded'")
      .orderBy('evaluation.finishedAt', 'DESC')
      .addOrderBy('evaluation.id', 'DESC')
      .limit(1);
    if (options.comparedWith) {
      builder.andWhere('evaluation.baselineModelVersionId = :comparedWith', { comparedWith: options.comparedWith });
    }
    const evaluation = await builder.getOne();
    if (!evaluation?.result || !evaluation.finishedAt) {
      return null;
    }
    const { result } = evaluation;
    return {
      evaluationId: evaluation.id,
      modelVersionId: evaluation.modelVersionId,
      datasetVersionId: evaluation.datasetVersionId,
      task: evaluation.task,
      finishedAt: evaluation.finishedAt,
      examples: result.examples,
      metrics: result.metrics,
      comparison:
        options.comparedWith && result.comparison
          ? {
              baselineModelVersionId: options.comparedWith,
              differences: result.comparison.differences,
              mcnemar: result.comparison.mcnemar,
              baselineMetrics: result.comparison.baselineMetrics,
            }
          : null,
    };
  }
}
