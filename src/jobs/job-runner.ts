import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { ModelRegistryRepository } from '../models/model-registry.repository.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { Readiness } from '../platform/health/readiness.js';
import { DomainMetrics, type JobRunOutcome } from '../platform/metrics/domain-metrics.js';
import { ArtifactNotFoundError } from '../platform/storage/artifact-errors.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { TrainerPool, WorkerCrashedError } from '../trainer/pool/trainer-pool.js';
import {
  CONTROL_CANCEL,
  CONTROL_PAUSE,
  type CheckpointPayload,
  type StartTraining,
  type TrainingOutcome,
  type WorkerCheckpoint,
} from '../trainer/runtime/protocol.js';
import { CheckpointEntity } from './checkpoint.entity.js';
import { JobEventsRepository } from './job-events.repository.js';
import { JobQueue, type ClaimedJob } from './job-queue.js';
import { JobEntity, type JobError } from './job.entity.js';
import { TrainingStepGate } from './training-step-gate.js';

const CHECKPOINT_FILES = ['weights.safetensors', 'optimizer.safetensors', 'state.json'];

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

class JobFailure extends Error {
  constructor(readonly error: JobError) {
    super(error.message);
  }
}

interface Execution {
  jobId: string;
  control: Int32Array;
  /** Set when this replica no longer owns the job: nothing more may be written for it. */
  lost: boolean;
  /** The worker has answered with the run's outcome: a heartbeat racing the finish must not stop anything. */
  outcomeReceived: boolean;
  /** Set on shutdown: the pause that follows puts the job back in the queue rather than pausing it. */
  requeueOnPause: boolean;
  /** The latest progress the worker reported (the heartbeat writes it; the outcome too). */
  progress?: { step: number; totalSteps: number };
  /** Records the run's outcome and duration in the metrics; later calls do nothing. */
  finishRun: (outcome: JobRunOutcome) => void;
  /** The step up to which this run's training steps are counted in the metrics. */
  countedStep: number;
  /** Event and metric writes, one after another: rows keep the order the worker sent them in. */
  writes: Promise<void>;
  done: Promise<void>;
}

/**
 * This replica's side of the job queue: claims jobs while it has free trainer slots, feeds each to
 * a worker, renews its lease, passes cancel and pause on, stores checkpoints as the worker makes
 * them, and records the outcome (a new model version with its lineage, or why not).
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobRunner.name);
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly executions = new Map<string, Execution>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: JobQueue,
    private readonly gate: TrainingStepGate,
    private readonly pool: TrainerPool,
    private readonly events: JobEventsRepository,
    private readonly store: ArtifactStore,
    private readonly registry: ModelRegistryRepository,
    private readonly dataSource: DataSource,
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectRepository(CheckpointEntity) private readonly checkpoints: Repository<CheckpointEntity>,
    @InjectRepository(DatasetVersionEntity) private readonly datasetVersions: Repository<DatasetVersionEntity>,
    @InjectRepository(ModelVersionEntity) private readonly modelVersions: Repository<ModelVersionEntity>,
    private readonly readiness: Readiness,
    private readonly metrics: DomainMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.trainerSlots === 0) {
      this.readiness.reportTrainer('disabled');
      this.logger.log('TRAINER_SLOTS=0: this replica serves the API and runs no jobs');
      return;
    }
    this.readiness.reportTrainer('starting');
    this.pool.start().then(
      () => {
        this.readiness.reportTrainer('ready');
        this.schedule(0);
      },
      (error: unknown) => {
        this.readiness.reportTrainer('failed');
        this.logger.error(`The trainer pool did not start: ${String(error)}; no jobs run here`);
      },
    );
  }

  /** Look for work now (a job was just queued) rather than at the next poll. */
  poke(): void {
    if (this.config.trainerSlots !== 0 && !this.stopping) {
      this.schedule(0);
    }
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) {
      return;
    }
    this.ticking = true;
    try {
      while (!this.stopping) {
        // The slot is reserved before the claim: evaluations share the slots and claim on their own.
        const placeholder = `claiming:${randomUUID()}`;
        if (!this.pool.reserve(placeholder)) {
          break;
        }
        let claimed: ClaimedJob | null = null;
        try {
          claimed = await this.queue.claim(this.replicaId);
        } finally {
          if (!claimed) {
            this.pool.release(placeholder);
          }
        }
        if (!claimed) {
          break;
        }
        this.pool.transferReservation(placeholder, claimed.id);
        this.startExecution(claimed);
      }
    } catch (error) {
      this.logger.warn(`Job claim failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
      if (!this.stopping) {
        this.schedule(this.config.jobs.pollMs);
      }
    }
  }

  private startExecution(claimed: ClaimedJob): void {
    const execution: Execution = {
      jobId: claimed.id,
      control: new Int32Array(new SharedArrayBuffer(4)),
      lost: false,
      outcomeReceived: false,
      requeueOnPause: false,
      finishRun: this.metrics.jobRunStarted(),
      countedStep: 0,
      writes: Promise.resolve(),
      done: Promise.resolve(),
    };
    this.executions.set(claimed.id, execution);
    execution.done = this.execute(claimed, execution)
      .catch((error: unknown) => this.logger.error(`Job ${claimed.id} runner error: ${String(error)}`))
      .finally(() => {
        execution.finishRun('lost');
        this.executions.delete(claimed.id);
        this.pool.release(claimed.id);
        this.poke();
      });
  }

  private async execute(claimed: ClaimedJob, execution: Execution): Promise<void> {
    const jobId = claimed.id;
    const heartbeat = setInterval(
      () => void this.heartbeat(execution),
      Math.max(200, (this.config.jobs.leaseSeconds * 1000) / 4),
    );
    try {
      const job = await this.jobs.findOneByOrFail({ id: jobId });
      const backend = this.pool.status().backend ?? 'unknown';
      await this.queue.setBackend(jobId, this.replicaId, backend);
      await this.events.record(jobId, {
        level: claimed.recovered ? 'warn' : 'info',
        kind: 'started',
        message:
          `Attempt ${claimed.attempt} started on ${this.replicaId} (backend ${backend})` +
          (claimed.recovered
            ? `; the previous holder (${claimed.previousOwner ?? 'unknown'}) stopped renewing its lease`
            : ''),
        data: { attempt: claimed.attempt, replica: this.replicaId, backend, recovered: claimed.recovered },
      });
      if (job.control === 'cancel') {
        await this.end(execution, job, { status: 'cancelled', step: job.currentStep });
        return;
      }
      const start = await this.prepare(job, claimed, execution);
      execution.countedStep = start.resume?.latest.step ?? 0;
      const outcome = await this.pool.run(start, {
        onEvent: (event) =>
          this.write(execution, () =>
            this.events.record(jobId, {
              level: event.level,
              kind: event.kind,
              message: event.message,
              data: event.data,
            }),
          ),
        onMetrics: (metrics) => {
          this.write(execution, () => this.events.recordMetrics(jobId, metrics));
        },
        onProgress: (step, totalSteps) => {
          this.countSteps(execution, step);
          execution.progress = { step, totalSteps };
        },
        onCheckpoint: async (checkpoint) => {
          await execution.writes;
          await this.saveCheckpoint(job, execution, checkpoint);
        },
        onHeld: (step) => this.held(execution, step),
      });
      execution.outcomeReceived = true;
      await execution.writes;
      await this.end(execution, job, outcome);
    } catch (error) {
      if (execution.lost) {
        return;
      }
      await execution.writes;
      const job = await this.jobs.findOneByOrFail({ id: jobId });
      if (error instanceof JobFailure) {
        await this.end(execution, job, { status: 'failed', code: error.error.code, message: error.error.message });
      } else if (error instanceof WorkerCrashedError) {
        await this.workerCrashed(execution, job, claimed, error);
      } else {
        this.logger.error(
          `Job ${jobId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        await this.end(execution, job, {
          status: 'failed',
          code: 'internal_error',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Queues a write behind the job's earlier ones; a failed write is logged and does not stop the job. */
  private write(execution: Execution, write: () => Promise<void>): void {
    execution.writes = execution.writes.then(async () => {
      if (execution.lost) {
        return;
      }
      try {
        await write();
      } catch (error) {
        this.logger.warn(`Could not record a job event: ${String(error)}`);
      }
    });
  }

  /** Renews the lease and hands a pending cancel or pause to the worker. */
  private async heartbeat(execution: Execution): Promise<void> {
    const { jobId } = execution;
    // A hold released after its run ended must not touch a later attempt of the same job.
    if (this.executions.get(jobId) !== execution) {
      return;
    }
    try {
      const beat = await this.queue.heartbeat(jobId, this.replicaId, execution.progress);
      if (beat.lost && !execution.lost && !execution.outcomeReceived) {
        execution.lost = true;
        this.logger.warn(`Lost the lease of job ${jobId}; stopping its worker`);
        await this.pool.terminate(jobId);
      } else if (beat.control === 'cancel') {
        Atomics.store(execution.control, 0, CONTROL_CANCEL);
      } else if (beat.control === 'pause') {
        Atomics.store(execution.control, 0, CONTROL_PAUSE);
      }
    } catch (error) {
      this.logger.warn(`Heartbeat of job ${jobId} failed: ${String(error)}`);
    }
  }

  /**
   * The worker waits at a held step. Once the gate lets go, a heartbeat reads the control the job
   * has now, so a pause or cancel asked for during the hold takes effect at exactly this step.
   */
  private async held(execution: Execution, step: number): Promise<void> {
    // The job row shows the held step before the event says it is held.
    await this.heartbeat(execution);
    this.write(execution, () =>
      this.events.record(execution.jobId, {
        level: 'info',
        kind: 'held',
        message: `Held at step ${step} until released`,
        data: { step },
      }),
    );
    await execution.writes;
    await this.gate.atStep(execution.jobId, step);
    await this.heartbeat(execution);
  }

  private async workerCrashed(execution: Execution, job: JobEntity, claimed: ClaimedJob, error: Error): Promise<void> {
    if (claimed.attempt < claimed.maxAttempts) {
      await this.events.record(job.id, {
        level: 'warn',
        kind: 'worker_crashed',
        message: `${error.message}; the job goes back to the queue and resumes from its last checkpoint (attempt ${claimed.attempt} of ${claimed.maxAttempts})`,
        data: { attempt: claimed.attempt, maxAttempts: claimed.maxAttempts },
      });
      execution.finishRun('requeued');
      await this.queue.finish(job.id, this.replicaId, { status: 'queued' });
    } else {
      await this.end(execution, job, {
        status: 'failed',
        code: 'worker_crashed',
        message: `${error.message}, on each of ${claimed.maxAttempts} attempts`,
      });
    }
  }

  // ------------------------------------------------------------------ inputs

  private async readArtifact(key: string, what: string): Promise<Buffer> {
    try {
      return await readAll(await this.store.get(key));
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        throw new JobFailure({ code: 'artifact_missing', message: `The ${what} is missing from storage (${key})` });
      }
      throw error;
    }
  }

  private async prepare(job: JobEntity, claimed: ClaimedJob, execution: Execution): Promise<StartTraining> {
    const { spec } = job;
    const versions = await this.datasetVersions.findBy({
      id: In([spec.training.datasetVersionId, ...(spec.validation ? [spec.validation.datasetVersionId] : [])]),
    });
    for (const ref of [spec.training, spec.validation]) {
      const version = ref && versions.find((candidate) => candidate.id === ref.datasetVersionId);
      if (ref && (!version || version.state === 'deleted')) {
        throw new JobFailure({
          code: 'dataset_deleted',
          message: `Dataset version ${ref.version} of ${ref.datasetId} was deleted after the job was created`,
        });
      }
    }
    const training = await this.readArtifact(spec.training.artifactKey, 'training dataset file');
    if (sha256(training) !== spec.training.sha256) {
      throw new JobFailure({
        code: 'artifact_corrupt',
        message: 'The training dataset file does not match its sha256',
      });
    }
    const validation = spec.validation
      ? await this.readArtifact(spec.validation.artifactKey, 'validation dataset file')
      : null;

    let baseModel: StartTraining['baseModel'] = null;
    if (spec.baseModel) {
      const version = await this.modelVersions.findOneByOrFail({ id: spec.baseModel.modelVersionId });
      const weights = await this.readArtifact(`${version.artifactPrefix}model.safetensors`, 'base model weights');
      const hasTokenizer = version.files.some((file) => file.name === 'tokenizer.json');
      baseModel = {
        manifest: version.manifest,
        weights,
        tokenizer: hasTokenizer
          ? (await this.readArtifact(`${version.artifactPrefix}tokenizer.json`, 'base model tokenizer')).toString(
              'utf8',
            )
          : null,
      };
    }
    const resume = await this.loadResume(job, claimed);
    return {
      type: 'start',
      jobId: job.id,
      attempt: claimed.attempt,
      spec,
      specHash: job.specHash,
      training,
      validation,
      baseModel,
      resume,
      control: execution.control.buffer as SharedArrayBuffer,
      holdAtSteps: this.gate.stepsFor(job),
    };
  }

  /** The checkpoint hashes this job accepts: its spec's, and those of spec changes it recorded. */
  private acceptedHashes(job: JobEntity): Set<string> {
    return new Set([job.specHash, ...job.specChanges.flatMap((change) => [change.fromHash, change.toHash])]);
  }

  private async readCheckpoint(job: JobEntity, checkpoint: CheckpointEntity): Promise<CheckpointPayload> {
    const bytes = new Map<string, Buffer>();
    for (const file of checkpoint.files) {
      const data = await readAll(await this.store.get(`${checkpoint.artifactPrefix}${file.name}`));
      if (data.length !== file.sizeBytes || sha256(data) !== file.sha256) {
        throw new Error(`${file.name} does not match its recorded size and sha256`);
      }
      bytes.set(file.name, data);
    }
    for (const name of CHECKPOINT_FILES) {
      if (!bytes.has(name)) {
        throw new Error(`${name} is missing`);
      }
    }
    const state = JSON.parse(bytes.get('state.json')!.toString('utf8')) as { step?: unknown; specHash?: unknown };
    if (state.step !== checkpoint.step) {
      throw new Error(`state.json says step ${String(state.step)}, the record says ${checkpoint.step}`);
    }
    if (typeof state.specHash !== 'string' || !this.acceptedHashes(job).has(state.specHash)) {
      throw new JobFailure({
        code: 'spec_mismatch',
        message: `Checkpoint ${checkpoint.step} was made with a different job spec; resume refuses a change that was not asked for`,
      });
    }
    return {
      step: checkpoint.step,
      weights: bytes.get('weights.safetensors')!,
      optimizer: bytes.get('optimizer.safetensors')!,
      state: bytes.get('state.json')!,
      tokenizer: bytes.get('tokenizer.json')?.toString('utf8') ?? null,
    };
  }

  /** The newest checkpoint that reads back intact (corrupt ones are reported and skipped), and the best one. */
  private async loadResume(job: JobEntity, claimed: ClaimedJob): Promise<StartTraining['resume']> {
    const all = await this.checkpoints.find({ where: { jobId: job.id }, order: { step: 'DESC' } });
    if (all.length === 0) {
      if (claimed.attempt > 1) {
        await this.events.record(job.id, {
          level: 'info',
          kind: 'restarted',
          message: `Attempt ${claimed.attempt} starts from the beginning: no checkpoint was written before the interruption`,
        });
      }
      return null;
    }
    let latest: CheckpointPayload | null = null;
    for (const checkpoint of all) {
      try {
        latest = await this.readCheckpoint(job, checkpoint);
        break;
      } catch (error) {
        if (error instanceof JobFailure) {
          throw error;
        }
        await this.events.record(job.id, {
          level: 'warn',
          kind: 'checkpoint_corrupt',
          message: `Checkpoint at step ${checkpoint.step} is unusable (${error instanceof Error ? error.message : String(error)}); trying an older one`,
          data: { step: checkpoint.step },
        });
      }
    }
    if (!latest) {
      await this.events.record(job.id, {
        level: 'warn',
        kind: 'restarted',
        message: 'No checkpoint of this job reads back intact; training starts from the beginning',
      });
      return null;
    }
    let best: CheckpointPayload | null = null;
    const bestRow = all.find((checkpoint) => checkpoint.isBest);
    if (bestRow) {
      best = bestRow.step === latest.step ? latest : await this.readCheckpoint(job, bestRow).catch(() => null);
    }
    await this.events.record(job.id, {
      level: 'info',
      kind: 'resumed',
      message: `Resuming from the checkpoint at step ${latest.step} (attempt ${claimed.attempt})`,
      data: { step: latest.step, attempt: claimed.attempt, bestStep: best?.step ?? null },
    });
    return { latest, best };
  }

  // ------------------------------------------------------------------ checkpoints

  private async saveCheckpoint(job: JobEntity, execution: Execution, checkpoint: WorkerCheckpoint): Promise<void> {
    if (execution.lost) {
      throw new Error('this replica no longer holds the job');
    }
    const prefix = `projects/${job.projectId}/jobs/${job.id}/checkpoints/${String(checkpoint.step).padStart(9, '0')}/`;
    const files: CheckpointEntity['files'] = [];
    for (const file of checkpoint.files) {
      const stored = await this.store.put(`${prefix}${file.name}`, Readable.from([Buffer.from(file.bytes)]));
      files.push({ name: file.name, sizeBytes: stored.size, sha256: stored.sha256 });
    }
    await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(CheckpointEntity);
      if (checkpoint.isBest) {
        await repository.update({ jobId: job.id, isBest: true }, { isBest: false });
      }
      await repository.upsert(
        {
          jobId: job.id,
          projectId: job.projectId,
          step: checkpoint.step,
          epoch: checkpoint.epoch,
          artifactPrefix: prefix,
          files,
          specHash: job.specHash,
          metrics: checkpoint.metrics,
          isBest: checkpoint.isBest,
          reason: checkpoint.reason,
        },
        ['jobId', 'step'],
      );
    });
    const bytes = files.reduce((sum, file) => sum + file.sizeBytes, 0);
    await this.events.record(job.id, {
      level: 'info',
      kind: 'checkpoint',
      message: `Checkpoint at step ${checkpoint.step} (${checkpoint.reason}${checkpoint.isBest ? ', best so far' : ''})`,
      data: { step: checkpoint.step, reason: checkpoint.reason, isBest: checkpoint.isBest, bytes },
    });
    this.metrics.checkpointWritten(checkpoint.reason);
    await this.applyRetention(job);
  }

  /** keep-last-K plus, with keep-best, the best one; the others' files and rows go. */
  private async applyRetention(job: JobEntity): Promise<void> {
    const keepLast = job.spec.hyperparameters.keepLastCheckpoints;
    const all = await this.checkpoints.find({ where: { jobId: job.id }, order: { step: 'DESC' } });
    const doomed = all.filter(
      (checkpoint, index) => index >= keepLast && !(checkpoint.isBest && job.spec.hyperparameters.keepBestCheckpoint),
    );
    for (const checkpoint of doomed) {
      await this.checkpoints.delete({ id: checkpoint.id });
      await this.store.deletePrefix(checkpoint.artifactPrefix);
    }
  }

  // ------------------------------------------------------------------ outcomes

  private countSteps(execution: Execution, step: number): void {
    if (step > execution.countedStep) {
      this.metrics.trainingStepsDone(step - execution.countedStep);
      execution.countedStep = step;
    }
  }

  private async end(execution: Execution, job: JobEntity, outcome: TrainingOutcome): Promise<void> {
    if (execution.lost) {
      return;
    }
    execution.finishRun(outcome.status === 'paused' && execution.requeueOnPause ? 'requeued' : outcome.status);
    const finalStep =
      outcome.status === 'succeeded'
        ? outcome.result.manifest.trainedSteps
        : 'step' in outcome
          ? outcome.step
          : undefined;
    if (typeof finalStep === 'number') {
      this.countSteps(execution, finalStep);
    }
    const progress = { progress: execution.progress };
    switch (outcome.status) {
      case 'succeeded': {
        const modelVersionId = await this.publish(job, outcome, execution.progress);
        if (modelVersionId) {
          const { metrics, metricsStep, startMetrics } = outcome.result;
          const gained =
            startMetrics && typeof metrics.loss === 'number'
              ? ` (validation loss ${startMetrics.loss.toPrecision(4)} at step 0, ${metrics.loss.toPrecision(4)} at step ${metricsStep})`
              : '';
          await this.events.record(job.id, {
            level: 'info',
            kind: 'succeeded',
            message: `Succeeded: ${job.outputModelName} is a new model version${gained}`,
            data: { modelVersionId, metrics, metricsStep, startMetrics },
          });
        }
        return;
      }
      case 'failed':
        if (
          await this.queue.finish(
            job.id,
            this.replicaId,
            { status: 'failed', error: { code: outcome.code, message: outcome.message, step: outcome.step } },
            progress,
          )
        ) {
          await this.events.record(job.id, {
            level: 'error',
            kind: 'failed',
            message: outcome.message,
            data: { code: outcome.code, step: outcome.step ?? null },
          });
        }
        return;
      case 'cancelled':
        if (await this.queue.finish(job.id, this.replicaId, { status: 'cancelled', step: outcome.step }, progress)) {
          await this.events.record(job.id, {
            level: 'info',
            kind: 'cancelled',
            message: `Cancelled at step ${outcome.step}`,
          });
        }
        return;
      case 'paused': {
        const requeue = execution.requeueOnPause;
        if (
          await this.queue.finish(
            job.id,
            this.replicaId,
            requeue ? { status: 'queued' } : { status: 'paused', step: outcome.step },
            progress,
          )
        ) {
          await this.events.record(job.id, {
            level: 'info',
            kind: requeue ? 'requeued' : 'paused',
            message: requeue
              ? `This replica is shutting down: checkpointed at step ${outcome.step} and put back in the queue`
              : `Paused at step ${outcome.step}; resume continues from its checkpoint`,
            data: { step: outcome.step },
          });
        }
        return;
      }
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Stores the model files, then records the version, its lineage and the job's success in one transaction. */
  private async publish(
    job: JobEntity,
    outcome: Extract<TrainingOutcome, { status: 'succeeded' }>,
    progress: Execution['progress'],
  ): Promise<string | null> {
    const { result } = outcome;
    const staging = `projects/${job.projectId}/models/by-job/${job.id}/`;
    const manifest = {
      ...result.manifest,
      name: job.outputModelName,
      createdBy: { jobId: job.id, replica: this.replicaId },
      createdAt: new Date().toISOString(),
      baseModel: job.spec.baseModel,
      trainedOn: { training: job.spec.training, validation: job.spec.validation },
    };
    const files: Array<{ name: string; sizeBytes: number; sha256: string }> = [];
    for (const file of result.files) {
      const bytes =
        file.name === 'manifest.json' ? Buffer.from(JSON.stringify(manifest, null, 2)) : Buffer.from(file.bytes);
      const stored = await this.store.put(`${staging}${file.name}`, Readable.from([bytes]));
      files.push({ name: file.name, sizeBytes: stored.size, sha256: stored.sha256 });
    }
    const trainedSteps =
      typeof result.manifest.trainedSteps === 'number' ? result.manifest.trainedSteps : job.currentStep;
    try {
      return await this.dataSource.transaction(async (manager) => {
        const { model, version } = await this.registry.reserveVersion(
          manager,
          job.projectId,
          job.outputModelName,
          job.createdByKeyId,
        );
        const entity = await this.registry.insertVersion(manager, model, version, {
          projectId: job.projectId,
          modelName: job.outputModelName,
          family: job.spec.family,
          task: job.spec.head,
          manifest,
          files,
          artifactPrefix: staging,
          parameterCount: result.parameterCount,
          metrics: result.metrics,
          sourceJobId: job.id,
          createdByKeyId: job.createdByKeyId,
        });
        await this.registry.addEdges(manager, job.projectId, [
          {
            fromType: 'dataset_version',
            fromId: job.trainingDatasetVersionId,
            toType: 'job',
            toId: job.id,
            relation: 'trained_on',
          },
          ...(job.validationDatasetVersionId
            ? [
                {
                  fromType: 'dataset_version' as const,
                  fromId: job.validationDatasetVersionId,
                  toType: 'job' as const,
                  toId: job.id,
                  relation: 'validated_on' as const,
                },
              ]
            : []),
          ...(job.baseModelVersionId
            ? [
                {
                  fromType: 'model_version' as const,
                  fromId: job.baseModelVersionId,
                  toType: 'job' as const,
                  toId: job.id,
                  relation: 'fine_tuned_from' as const,
                },
              ]
            : []),
          { fromType: 'job', fromId: job.id, toType: 'model_version', toId: entity.id, relation: 'produced' },
        ]);
        const finished = await this.queue.finish(
          job.id,
          this.replicaId,
          { status: 'succeeded', resultModelVersionId: entity.id, step: trainedSteps },
          { progress, manager },
        );
        if (!finished) {
          throw new Error('lease lost before the result was recorded');
        }
        return entity.id;
      });
    } catch (error) {
      this.logger.warn(`Job ${job.id}: the result was not recorded (${String(error)})`);
      return null;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.gate.releaseAll();
    // Checkpoint and requeue running jobs so another replica (or this one, restarted) carries on.
    for (const execution of this.executions.values()) {
      execution.requeueOnPause = true;
      Atomics.store(execution.control, 0, CONTROL_PAUSE);
    }
    const deadline = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
    await Promise.race([Promise.all([...this.executions.values()].map((execution) => execution.done)), deadline]);
  }
}
