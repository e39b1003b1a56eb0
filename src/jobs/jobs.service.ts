import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import { ModelAliasEntity } from '../models/model-alias.entity.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { deletedVersionError } from '../models/models.service.js';
import { RegisteredModelEntity } from '../models/registered-model.entity.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import {
  estimateGpt2TrainingMemory,
  estimateMlpTrainingMemory,
  gpt2BackpropBlocks,
  mlpParameterCount,
  type MemoryEstimate,
} from '../trainer/models/estimates.js';
import { gpt2ParameterSpecs, trainableParameterNames, type Gpt2Config, type Gpt2Head } from '../trainer/models/gpt2.js';
import { parameterCount } from '../trainer/models/parameters.js';
import { optimizerStateSlots } from '../trainer/training/optimizers.js';
import { canonicalJson } from '../platform/canonical-json.js';
import {
  specHash,
  type DatasetRef,
  type Gpt2ModelConfig,
  type MlpModelConfig,
  type TrainingSpec,
} from '../trainer/runtime/training-spec.js';
import { CheckpointEntity } from './checkpoint.entity.js';
import { JobEventsRepository } from './job-events.repository.js';
import { JOB_EVENT_COLUMNS, JobQueue, publishJobOutcome, type JobEventRow } from './job-queue.js';
import { JobRunner } from './job-runner.js';
import {
  buildTrainingSpec,
  inputFieldKindsOf,
  resolveHyperparameters,
  RESUMABLE_HYPERPARAMETERS,
  SpecProblems,
  type BaseModelInfo,
  type InputFieldKind,
} from './job-spec-builder.js';
import {
  CheckpointListDto,
  CreateJobDto,
  JobDto,
  JobEventDto,
  JobEventListDto,
  JobEventQueryDto,
  JobListDto,
  JobMetricsDto,
  JobMetricsQueryDto,
  MetricPointDto,
  ResumeJobDto,
  TrainerStatusDto,
  CheckpointDto,
} from './job.dto.js';
import { JobEntity, TERMINAL_JOB_STATUSES, type JobError } from './job.entity.js';
import { TrainerPool } from '../trainer/pool/trainer-pool.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';

const DEFAULT_SLOT_BUDGET = 2 * 1024 ** 3;
/** Rough size of the largest classification head when labels are not known yet. */
const ASSUMED_LABELS = 16;

@Injectable()
export class JobsService {
  constructor(
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectRepository(CheckpointEntity) private readonly checkpoints: Repository<CheckpointEntity>,
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
    @InjectRepository(DatasetVersionEntity) private readonly datasetVersions: Repository<DatasetVersionEntity>,
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelVersionEntity) private readonly modelVersions: Repository<ModelVersionEntity>,
    private readonly events: JobEventsRepository,
    private readonly queue: JobQueue,
    private readonly runner: JobRunner,
    private readonly pool: TrainerPool,
    private readonly store: ArtifactStore,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookPublisher,
  ) {}

  get slotMemoryBudget(): number {
    return this.config.trainerMemoryBudget ?? DEFAULT_SLOT_BUDGET;
  }

  // ------------------------------------------------------------------ create

  async createJob(principal: Principal, request: CreateJobDto): Promise<JobDto> {
    const { dataset, ref: training } = await this.datasetRef(
      principal,
      request.trainingData.datasetId,
      request.trainingData.version,
      'trainingData',
      request.allowQualityFailures ?? false,
    );
    let validation: DatasetRef | null = null;
    if (request.validationData) {
      const resolved = await this.datasetRef(
        principal,
        request.validationData.datasetId,
        request.validationData.version,
        'validationData',
        request.allowQualityFailures ?? false,
      );
      if (resolved.dataset.task !== dataset.task) {
        throw DomainError.validation(
          `The validation data is ${resolved.dataset.task} data, the training data ${dataset.task}`,
          [{ field: 'validationData', reason: `task ${resolved.dataset.task} does not match ${dataset.task}` }],
        );
      }
      validation = resolved.ref;
    }
    const baseModel = request.baseModel ? await this.baseModel(principal, request.baseModel) : null;
    let spec: TrainingSpec;
    try {
      spec = buildTrainingSpec({
        request,
        datasetTask: dataset.task,
        schema: dataset.schema,
        training,
        validation,
        baseModel,
        inputFieldKinds: await this.inputFieldKinds(training.datasetVersionId),
        ...(validation ? { validationInputFieldKinds: await this.inputFieldKinds(validation.datasetVersionId) } : {}),
      });
    } catch (error) {
      if (error instanceof SpecProblems) {
        throw DomainError.validation(`The job cannot run: ${error.message}`, error.problems);
      }
      throw error;
    }
    const estimate = this.estimateMemory(spec);
    this.checkMemory(spec, estimate);

    const job = await this.dataSource.transaction(async (manager) => {
      const saved = await manager.getRepository(JobEntity).save(
        manager.getRepository(JobEntity).create({
          projectId: principal.projectId,
          name: request.name ?? `${request.outputModelName} from ${dataset.name} v${training.version}`,
          status: 'validating',
          priority: request.resources?.priority ?? 0,
          spec,
          specHash: specHash(spec),
          specChanges: [],
          baseModelVersionId: baseModel?.modelVersionId ?? null,
          baseModelAlias: baseModel?.alias ?? null,
          trainingDatasetVersionId: training.datasetVersionId,
          validationDatasetVersionId: validation?.datasetVersionId ?? null,
          outputModelName: request.outputModelName,
          memoryEstimate: { ...estimate, budget: this.slotMemoryBudget },
          attempt: 0,
          maxAttempts: this.config.jobs.maxAttempts,
          leaseOwner: null,
          leaseExpiresAt: null,
          control: null,
          currentStep: 0,
          totalSteps: 0,
          backend: null,
          error: null,
          resultModelVersionId: null,
          createdByKeyId: principal.apiKeyId,
          startedAt: null,
          finishedAt: null,
        }),
      );
      await this.events.record(
        saved.id,
        {
          level: 'info',
          kind: 'created',
          message: `Created: ${spec.family} ${spec.head} on ${dataset.name} v${training.version}${spec.baseModel ? `, from ${spec.baseModel.name} v${spec.baseModel.version}${baseModel?.alias ? ` (alias ${baseModel.alias})` : ''}` : ', from scratch'}`,
          data: {
            qualityVerdict: training.qualityVerdict,
            allowQualityFailures: request.allowQualityFailures ?? false,
            memoryEstimate: { ...estimate, budget: this.slotMemoryBudget },
          },
        },
        manager,
      );
      return saved;
    });
    // The files must still be in storage: a job that cannot read its data fails here, visibly.
    const missing: string[] = [];
    for (const ref of [spec.training, spec.validation]) {
      if (ref && !(await this.store.exists(ref.artifactKey))) {
        missing.push(`dataset ${ref.datasetId} v${ref.version}`);
      }
    }
    if (baseModel && !(await this.store.exists(`${baseModel.artifactPrefix}model.safetensors`))) {
      missing.push(`model ${baseModel.name} v${baseModel.version}`);
    }
    if (missing.length > 0) {
      await this.dataSource.transaction(async (manager) => {
        const error: JobError = { code: 'artifact_missing', message: `Missing from storage: ${missing.join(', ')}` };
        const [rows] = await manager.query<[JobEventRow[], number]>(
          `UPDATE jobs SET status = 'failed', finished_at = now(), updated_at = now(), error = $2::jsonb
            WHERE id = $1 RETURNING ${JOB_EVENT_COLUMNS}`,
          [job.id, JSON.stringify(error)],
        );
        for (const row of rows) {
          await publishJobOutcome(this.webhooks, row, manager);
        }
      });
      await this.events.record(job.id, {
        level: 'error',
        kind: 'failed',
        message: `Missing from storage: ${missing.join(', ')}`,
      });
    } else {
      await this.jobs.update({ id: job.id, status: 'validating' }, { status: 'queued' });
      await this.events.record(job.id, { level: 'info', kind: 'queued', message: 'Validated and queued' });
      this.runner.poke();
    }
    return JobDto.from(await this.jobs.findOneByOrFail({ id: job.id }));
  }

  /** What a version's quality report found its input fields to hold (vectors, numbers, text). */
  private async inputFieldKinds(datasetVersionId: string): Promise<Record<string, InputFieldKind>> {
    const rows = await this.dataSource.query<Array<{ features: unknown }>>(
      `SELECT report -> 'features' AS features FROM quality_reports WHERE dataset_version_id = $1`,
      [datasetVersionId],
    );
    return inputFieldKindsOf(rows.length > 0 ? { features: rows[0].features } : null);
  }

  private async datasetRef(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    field: string,
    allowQualityFailures: boolean,
  ): Promise<{ dataset: DatasetEntity; ref: DatasetRef & { qualityVerdict: string } }> {
    const dataset = await this.datasets.findOneBy({ id: datasetId, projectId: principal.projectId });
    if (!dataset) {
      throw DomainError.validation(`${field}: dataset ${datasetId} does not exist in this project`, [
        { field: `${field}.datasetId`, reason: 'no such dataset' },
      ]);
    }
    const version = await this.datasetVersions.findOneBy({ datasetId, version: versionNumber });
    if (!version) {
      throw DomainError.validation(`${field}: dataset ${dataset.name} has no version ${versionNumber}`, [
        { field: `${field}.version`, reason: 'no such version' },
      ]);
    }
    if (version.state !== 'ready' || !version.artifactKey) {
      throw DomainError.validation(
        `${field}: version ${versionNumber} of ${dataset.name} is ${version.state}` +
          (version.state === 'invalid'
            ? ` (${version.errorRowCount} rows failed validation; make a ready version without them with a transform ` +
              `whose first step is {"op":"drop_invalid"}: POST /api/v1/datasets/${datasetId}/versions/${versionNumber}/transforms)`
            : ''),
        [{ field: `${field}.version`, reason: version.state }],
      );
    }
    if (version.qualityVerdict === 'fail' && !allowQualityFailures) {
      throw DomainError.validation(
        `${field}: version ${versionNumber} of ${dataset.name} failed its quality checks; see its quality report, or pass allowQualityFailures: true to train on it anyway`,
        [{ field: `${field}.version`, reason: 'quality verdict fail' }],
      );
    }
    return {
      dataset,
      ref: {
        datasetVersionId: version.id,
        datasetId,
        version: version.version,
        artifactKey: version.artifactKey,
        format: version.format,
        compression: version.compression,
        sha256: version.sha256,
        qualityVerdict: version.qualityVerdict,
      },
    };
  }

  /**
   * The base model version a job asks for: by number, by alias (resolved now; the job records
   * both) or, with neither, the latest ready version. A deleted version is a 410.
   */
  private async baseModel(
    principal: Principal,
    reference: { name: string; version?: number; alias?: string },
  ): Promise<BaseModelInfo & { alias: string | null }> {
    const { name, version: versionNumber, alias } = reference;
    if (versionNumber !== undefined && alias !== undefined) {
      throw DomainError.validation('baseModel: give version or alias, not both', [
        { field: 'baseModel', reason: 'version and alias are exclusive' },
      ]);
    }
    const model = await this.models.findOneBy({ projectId: principal.projectId, name });
    let version: ModelVersionEntity | null = null;
    if (model && alias !== undefined) {
      const pointer = await this.dataSource
        .getRepository(ModelAliasEntity)
        .findOneBy({ modelId: model.id, name: alias });
      if (!pointer?.modelVersionId) {
        throw new DomainError(
          ErrorCode.AliasNotFound,
          `baseModel: model ${name} has no alias ${alias} pointing at a version`,
          [{ field: 'baseModel.alias', reason: 'no such alias' }],
        );
      }
      version = await this.modelVersions.findOneBy({ id: pointer.modelVersionId });
    } else if (model) {
      version = await this.modelVersions.findOne({
        where: { modelId: model.id, ...(versionNumber ? { version: versionNumber } : { state: 'ready' as const }) },
        order: { version: 'DESC' },
      });
    }
    if (!model || !version) {
      throw DomainError.validation(
        `baseModel: ${name}${versionNumber ? ` v${versionNumber}` : ''} is not a registered model version in this project`,
        [{ field: 'baseModel', reason: 'no such model version' }],
      );
    }
    if (version.state === 'deleted') {
      throw deletedVersionError(name, version);
    }
    const config = (version.manifest.config ?? {}) as Record<string, unknown>;
    return {
      modelVersionId: version.id,
      name,
      version: version.version,
      artifactPrefix: version.artifactPrefix,
      family: version.family,
      task: version.task,
      config,
      hasTokenizer: version.files.some((file) => file.name === 'tokenizer.json'),
      alias: alias ?? null,
    };
  }

  // ------------------------------------------------------------------ memory

  estimateMemory(spec: TrainingSpec): MemoryEstimate {
    const hp = spec.hyperparameters;
    const slots = optimizerStateSlots(hp.optimizer);
    if (spec.family === 'gpt2') {
      const config: Gpt2Config = { ...(spec.modelConfig as Gpt2ModelConfig) };
      const head: Gpt2Head =
        spec.head === 'classification'
          ? { type: 'classification', numLabels: ASSUMED_LABELS }
          : spec.head === 'regression'
            ? { type: 'regression' }
            : { type: 'causal-lm' };
      const specs = gpt2ParameterSpecs(config, head);
      let trainable = new Set(specs.map((parameter) => parameter.name));
      if (spec.method.type === 'freeze') {
        try {
          trainable = trainableParameterNames([...trainable], config, spec.method);
        } catch (error) {
          throw DomainError.validation(`method: ${error instanceof Error ? error.message : String(error)}`, [
            { field: 'method', reason: error instanceof Error ? error.message : String(error) },
          ]);
        }
      }
      return estimateGpt2TrainingMemory(config, head, {
        batchSize: hp.batchSize,
        sequenceLength: hp.sequenceLength,
        trainableParameters: parameterCount(specs.filter((parameter) => trainable.has(parameter.name))),
        optimizerStateSlots: slots,
        backpropBlocks: gpt2BackpropBlocks(config, trainable),
      });
    }
    const config = spec.modelConfig as MlpModelConfig;
    // The input width is known once the data is read; a generous guess keeps the check conservative.
    const mlp = {
      inputSize: 256,
      hiddenSizes: config.hiddenSizes,
      outputSize: ASSUMED_LABELS,
      activation: config.activation,
      dropout: config.dropout,
    };
    return estimateMlpTrainingMemory(mlp, {
      batchSize: hp.batchSize,
      trainableParameters: mlpParameterCount(mlp),
      optimizerStateSlots: slots,
    });
  }

  /** Refuses a job that cannot fit a slot, with the estimate and a batch size that would fit. */
  private checkMemory(spec: TrainingSpec, estimate: MemoryEstimate): void {
    const budget = this.slotMemoryBudget;
    if (estimate.total <= budget) {
      return;
    }
    const hp = spec.hyperparameters;
    let batchSize = hp.batchSize;
    let fits: MemoryEstimate | null = null;
    while (batchSize > 1) {
      batchSize = Math.floor(batchSize / 2);
      const candidate = this.estimateMemory({ ...spec, hyperparameters: { ...hp, batchSize } });
      if (candidate.total <= budget) {
        fits = candidate;
        break;
      }
    }
    const effective = hp.batchSize * hp.gradientAccumulationSteps;
    const suggestion = fits
      ? {
          batchSize,
          gradientAccumulationSteps: Math.ceil(effective / batchSize),
          estimatedBytes: fits.total,
          text: `use batchSize ${batchSize} with gradientAccumulationSteps ${Math.ceil(effective / batchSize)} (same effective batch of ${effective})`,
        }
      : { text: 'even a batch of 1 does not fit: use a smaller model, a shorter sequenceLength, or method freeze' };
    const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
    throw new DomainError(
      ErrorCode.ExceedsMemoryBudget,
      `The job needs about ${mb(estimate.total)} (parameters ${mb(estimate.parameters)}, gradients ${mb(estimate.gradients)}, optimizer state ${mb(estimate.optimizerState)}, activations ${mb(estimate.activations)}) but a trainer slot has ${mb(budget)}: ${suggestion.text}`,
      [
        {
          field: 'hyperparameters.batchSize',
          reason: 'exceeds the trainer slot memory budget',
          estimate,
          budget,
          suggestion,
        },
      ],
    );
  }

  // ------------------------------------------------------------------ read

  private async visibleJob(principal: Principal, jobId: string): Promise<JobEntity> {
    const job = await this.jobs.findOneBy({ id: jobId, projectId: principal.projectId });
    if (!job) {
      throw DomainError.notFound('Job', jobId);
    }
    return job;
  }

  async getJob(principal: Principal, jobId: string): Promise<JobDto> {
    return JobDto.from(await this.visibleJob(principal, jobId));
  }

  async listJobs(principal: Principal, page: PageQueryDto): Promise<JobListDto> {
    const result = await paginate(
      this.jobs.createQueryBuilder('job').where('job.projectId = :projectId', { projectId: principal.projectId }),
      page,
    );
    return { data: result.data.map((job) => JobDto.from(job)), nextCursor: result.nextCursor };
  }

  async listEvents(principal: Principal, jobId: string, query: JobEventQueryDto): Promise<JobEventListDto> {
    await this.visibleJob(principal, jobId);
    const limit = query.limit ?? 100;
    const events = await this.events.eventsAfter(jobId, query.after ?? '0', limit);
    return {
      data: events.map((event) => JobEventDto.from(event)),
      nextCursor: events.length === limit ? events[events.length - 1].sequence : null,
    };
  }

  /** For SSE: events after a cursor, and whether the job has ended (then the stream closes once drained). */
  async pollEvents(
    principal: Principal,
    jobId: string,
    after: string,
  ): Promise<{ events: JobEventDto[]; ended: boolean }> {
    const job = await this.visibleJob(principal, jobId);
    const events = await this.events.eventsAfter(jobId, after, 500);
    return {
      events: events.map((event) => JobEventDto.from(event)),
      ended: TERMINAL_JOB_STATUSES.includes(job.status),
    };
  }

  async assertVisible(principal: Principal, jobId: string): Promise<void> {
    await this.visibleJob(principal, jobId);
  }

  async getMetrics(principal: Principal, jobId: string, query: JobMetricsQueryDto): Promise<JobMetricsDto> {
    await this.visibleJob(principal, jobId);
    const points = await this.events.metricPoints(jobId, query.split);
    return { data: points.map((point) => MetricPointDto.from(point)) };
  }

  async listCheckpoints(principal: Principal, jobId: string): Promise<CheckpointListDto> {
    await this.visibleJob(principal, jobId);
    const rows = await this.checkpoints.find({ where: { jobId }, order: { step: 'DESC' } });
    return { data: rows.map((row) => CheckpointDto.from(row)) };
  }

  // ------------------------------------------------------------------ control

  async cancelJob(principal: Principal, jobId: string): Promise<JobDto> {
    const job = await this.visibleJob(principal, jobId);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) {
      throw new DomainError(ErrorCode.InvalidState, `The job is already ${job.status}`, [{ reason: job.status }]);
    }
    // Not running: cancelled at once. Running: the replica holding it stops between steps.
    const rows = await this.dataSource.transaction(async (manager) => {
      const [cancelled] = await manager.query<[JobEventRow[], number]>(
        `UPDATE jobs SET status = 'cancelled', control = NULL, finished_at = now(), updated_at = now()
          WHERE id = $1 AND status IN ('validating', 'queued', 'paused') RETURNING ${JOB_EVENT_COLUMNS}`,
        [jobId],
      );
      for (const row of cancelled) {
        await publishJobOutcome(this.webhooks, row, manager);
      }
      return cancelled;
    });
    if (rows.length > 0) {
      await this.events.record(jobId, { level: 'info', kind: 'cancelled', message: `Cancelled while ${job.status}` });
    } else {
      await this.jobs.update({ id: jobId, status: 'running' }, { control: 'cancel' });
      await this.events.record(jobId, {
        level: 'info',
        kind: 'cancel_requested',
        message: 'Cancel requested; the trainer stops at the next step',
      });
    }
    return JobDto.from(await this.jobs.findOneByOrFail({ id: jobId }));
  }

  async pauseJob(principal: Principal, jobId: string): Promise<JobDto> {
    const job = await this.visibleJob(principal, jobId);
    if (job.status === 'queued') {
      await this.jobs.update({ id: jobId, status: 'queued' }, { status: 'paused' });
      await this.events.record(jobId, { level: 'info', kind: 'paused', message: 'Paused before it started' });
    } else if (job.status === 'running') {
      await this.jobs.update({ id: jobId, status: 'running' }, { control: 'pause' });
      await this.events.record(jobId, {
        level: 'info',
        kind: 'pause_requested',
        message: 'Pause requested; the trainer checkpoints and stops at the next step',
      });
    } else {
      throw new DomainError(ErrorCode.InvalidState, `A ${job.status} job cannot be paused`, [{ reason: job.status }]);
    }
    return JobDto.from(await this.jobs.findOneByOrFail({ id: jobId }));
  }

  async resumeJob(principal: Principal, jobId: string, request: ResumeJobDto): Promise<JobDto> {
    const job = await this.visibleJob(principal, jobId);
    if (job.status !== 'paused') {
      throw new DomainError(ErrorCode.InvalidState, `Only a paused job can be resumed; this one is ${job.status}`, [
        { reason: job.status },
      ]);
    }
    let spec = job.spec;
    let changes: Record<string, unknown> = {};
    if (request.hyperparameters) {
      const given = Object.entries(request.hyperparameters).filter(([, value]) => value !== undefined);
      const refused = given.map(([key]) => key).filter((key) => !RESUMABLE_HYPERPARAMETERS.includes(key as never));
      if (refused.length > 0) {
        throw DomainError.validation(
          `These hyperparameters cannot change on resume: ${refused.join(', ')}`,
          refused.map((key) => ({ field: `hyperparameters.${key}`, reason: 'fixed once training started' })),
        );
      }
      const problems: Array<{ field: string; reason: string }> = [];
      const hyperparameters = resolveHyperparameters(
        request.hyperparameters,
        spec.head,
        problems,
        spec.hyperparameters,
      );
      if (problems.length > 0) {
        throw DomainError.validation(
          `The job cannot resume: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`,
          problems,
        );
      }
      changes = Object.fromEntries(
        given
          .filter(
            ([key]) =>
              canonicalJson(spec.hyperparameters[key as keyof typeof hyperparameters]) !==
              canonicalJson(hyperparameters[key as keyof typeof hyperparameters]),
          )
          .map(([key]) => [key, hyperparameters[key as keyof typeof hyperparameters]]),
      );
      if (Object.keys(changes).length > 0 && request.confirmSpecChange !== true) {
        throw new DomainError(
          ErrorCode.Conflict,
          'Resuming with changed hyperparameters changes the job spec: pass confirmSpecChange: true to record the change',
          [{ field: 'confirmSpecChange', reason: 'required for a spec change', changes }],
        );
      }
      spec = { ...spec, hyperparameters };
    }
    const newHash = specHash(spec);
    const specChanges =
      Object.keys(changes).length > 0
        ? [...job.specChanges, { at: new Date().toISOString(), changes, fromHash: job.specHash, toHash: newHash }]
        : job.specChanges;
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE jobs SET status = 'queued', spec = $2::jsonb, spec_hash = $3, spec_changes = $4::jsonb, updated_at = now()
        WHERE id = $1 AND status = 'paused' RETURNING id`,
      [jobId, JSON.stringify(spec), newHash, JSON.stringify(specChanges)],
    );
    if (rows.length === 0) {
      throw new DomainError(ErrorCode.Conflict, 'The job changed state meanwhile; fetch it and try again');
    }
    await this.events.record(jobId, {
      level: 'info',
      kind: 'resume_requested',
      message:
        Object.keys(changes).length > 0
          ? `Resumed with changes: ${Object.keys(changes).join(', ')}`
          : 'Resumed; queued to continue from its checkpoint',
      data: Object.keys(changes).length > 0 ? { changes, fromHash: job.specHash, toHash: newHash } : null,
    });
    this.runner.poke();
    return JobDto.from(await this.jobs.findOneByOrFail({ id: jobId }));
  }

  async trainerStatus(): Promise<TrainerStatusDto> {
    const status = this.pool.status();
    return {
      replica: this.runner.replicaId,
      backend: status.backend,
      devices: status.devices,
      unavailable: status.unavailable,
      gpus: status.gpus,
      slots: status.slots,
      busySlots: status.busySlots,
      slotMemoryBudget: this.slotMemoryBudget,
      queueDepth: await this.queue.depth(),
    };
  }
}
