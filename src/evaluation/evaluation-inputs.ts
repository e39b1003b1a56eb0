import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { defaultSchema, type DatasetSchema, type DatasetTask } from '../datasets/dataset-types.js';
import { JobEntity } from '../jobs/job.entity.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { ArtifactNotFoundError } from '../platform/storage/artifact-errors.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import type { EvaluationEntity } from './evaluation.entity.js';
import type { ModelFiles, StartEvaluation } from './worker/evaluation-protocol.js';

/** An input of a claimed evaluation that is gone or unusable: the evaluation fails with `code`. */
export class InputFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export type PreparedStart = Omit<StartEvaluation, 'evaluationId' | 'attempt' | 'control' | 'holdAtBatches'>;

/**
 * Reads what a claimed evaluation needs from the database and the ArtifactStore: the model files
 * (small enough to hand over whole), and where the evaluation and training data are (streamed to
 * the worker chunk by chunk as it pulls them).
 */
@Injectable()
export class EvaluationInputs {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: ArtifactStore,
    @InjectRepository(ModelVersionEntity) private readonly modelVersions: Repository<ModelVersionEntity>,
    @InjectRepository(DatasetVersionEntity) private readonly datasetVersions: Repository<DatasetVersionEntity>,
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
  ) {}

  async open(key: string | null): Promise<Readable> {
    if (!key) {
      throw new InputFailure('artifact_missing', 'The evaluation asked for data it does not have');
    }
    try {
      return await this.store.get(key);
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        throw new InputFailure('artifact_missing', `A file of the evaluation is missing from storage (${key})`);
      }
      throw error;
    }
  }

  private async modelFiles(version: ModelVersionEntity): Promise<ModelFiles> {
    const weights = await readAll(await this.open(`${version.artifactPrefix}model.safetensors`));
    const hasTokenizer = version.files.some((file) => file.name === 'tokenizer.json');
    return {
      manifest: version.manifest,
      weights,
      tokenizer: hasTokenizer
        ? (await readAll(await this.open(`${version.artifactPrefix}tokenizer.json`))).toString('utf8')
        : null,
    };
  }

  async prepare(
    evaluation: EvaluationEntity,
  ): Promise<{ start: PreparedStart; keys: { training: string | null; evaluation: string | null } }> {
    const model = await this.modelVersions.findOneBy({ id: evaluation.modelVersionId });
    if (!model) {
      throw new InputFailure('model_missing', 'The model version was removed after the evaluation was created');
    }
    const baseline = evaluation.baselineModelVersionId
      ? await this.modelVersions.findOneBy({ id: evaluation.baselineModelVersionId })
      : null;
    if (evaluation.baselineModelVersionId && !baseline) {
      throw new InputFailure('model_missing', 'The baseline version was removed after the evaluation was created');
    }
    const data = await this.datasetVersions.findOneBy({ id: evaluation.datasetVersionId });
    if (!data || data.state !== 'ready' || !data.artifactKey) {
      throw new InputFailure('dataset_deleted', 'The dataset version was deleted after the evaluation was created');
    }
    const dataTask = await this.datasetTask(data);
    const training = await this.trainingData(model);
    return {
      start: {
        type: 'evaluate',
        task: evaluation.task,
        model: await this.modelFiles(model),
        baselineModel: baseline ? await this.modelFiles(baseline) : null,
        evaluation: { format: data.format, compression: data.compression, schema: data.schema, task: dataTask },
        training: training.dataset,
        trainingUnavailable: training.unavailable,
        sliceBy: evaluation.sliceBy,
        bootstrap: evaluation.bootstrap,
        batchSize: this.config.evaluations.batchSize,
      },
      keys: { training: training.key, evaluation: data.artifactKey },
    };
  }

  private async datasetTask(version: DatasetVersionEntity): Promise<DatasetTask> {
    return (await this.datasets.findOneByOrFail({ id: version.datasetId })).task;
  }

  /** The training data of the job that made the model: what its reference models are fitted on. */
  private async trainingData(model: ModelVersionEntity): Promise<{
    dataset: StartEvaluation['training'];
    unavailable: string | null;
    key: string | null;
  }> {
    if (!model.sourceJobId) {
      return {
        dataset: null,
        unavailable: 'The model was imported: its lineage has no training data to fit reference models on',
        key: null,
      };
    }
    const job = await this.jobs.findOneBy({ id: model.sourceJobId });
    const version = job ? await this.datasetVersions.findOneBy({ id: job.spec.training.datasetVersionId }) : null;
    if (!job || !version || version.state !== 'ready' || !version.artifactKey) {
      return {
        dataset: null,
        unavailable: 'The training data of the job that made the model was deleted: no reference models were fitted',
        key: null,
      };
    }
    const schema: DatasetSchema = job.spec.schema ?? defaultSchema(job.spec.dataTask);
    return {
      dataset: { format: version.format, compression: version.compression, schema, task: job.spec.dataTask },
      unavailable: null,
      key: version.artifactKey,
    };
  }
}
