import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LineageEdgeEntity, type LineageEntityType, type LineageRelation } from '../lineage/lineage-edge.entity.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

export interface NewModelVersion {
  projectId: string;
  modelName: string;
  family: 'gpt2' | 'mlp';
  task: string;
  manifest: Record<string, unknown>;
  files: Array<{ name: string; sizeBytes: number; sha256: string }>;
  artifactPrefix: string;
  parameterCount: number;
  metrics: Record<string, unknown>;
  sourceJobId: string | null;
  createdByKeyId: string | null;
}

/** Registry writes that must happen inside the caller's transaction (the job's completion). */
@Injectable()
export class ModelRegistryRepository {
  constructor(private readonly webhooks: WebhookPublisher) {}

  /** The model (created on first use) and the number its next version gets; locks the model row. */
  async reserveVersion(
    manager: EntityManager,
    projectId: string,
    modelName: string,
    createdByKeyId: string | null,
  ): Promise<{ model: RegisteredModelEntity; version: number }> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(RegisteredModelEntity)
      .values({ projectId, name: modelName, description: null, createdByKeyId })
      .orIgnore()
      .execute();
    const model = await manager.getRepository(RegisteredModelEntity).findOneOrFail({
      where: { projectId, name: modelName },
      lock: { mode: 'pessimistic_write' },
    });
    const raw = await manager.query<Array<{ latest: number }>>(
      'SELECT coalesce(max(version), 0)::int AS latest FROM model_versions WHERE model_id = $1',
      [model.id],
    );
    return { model, version: raw[0].latest + 1 };
  }

  async insertVersion(
    manager: EntityManager,
    model: RegisteredModelEntity,
    version: number,
    input: NewModelVersion,
  ): Promise<ModelVersionEntity> {
    const saved = await manager.getRepository(ModelVersionEntity).save(
      manager.getRepository(ModelVersionEntity).create({
        modelId: model.id,
        projectId: input.projectId,
        version,
        family: input.family,
        task: input.task,
        manifest: input.manifest,
        artifactPrefix: input.artifactPrefix,
        files: input.files,
        format: 'safetensors',
        parameterCount: input.parameterCount,
        metrics: input.metrics,
        sourceJobId: input.sourceJobId,
        createdByKeyId: input.createdByKeyId,
      }),
    );
    // In the caller's transaction: the event exists exactly when the version does.
    await this.webhooks.publish(
      input.projectId,
      'model.version.created',
      {
        modelId: model.id,
        modelName: input.modelName,
        modelVersionId: saved.id,
        version,
        family: input.family,
        task: input.task,
        sourceJobId: input.sourceJobId,
      },
      { manager },
    );
    return saved;
  }

  async addEdges(
    manager: EntityManager,
    projectId: string,
    edges: Array<{
      fromType: LineageEntityType;
      fromId: string;
      toType: LineageEntityType;
      toId: string;
      relation: LineageRelation;
    }>,
  ): Promise<void> {
    if (edges.length === 0) {
      return;
    }
    await manager
      .createQueryBuilder()
      .insert()
      .into(LineageEdgeEntity)
      .values(edges.map((edge) => ({ ...edge, projectId })))
      .orIgnore()
      .execute();
  }
}
