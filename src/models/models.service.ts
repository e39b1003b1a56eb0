import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Not, Repository, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { JobEntity } from '../jobs/job.entity.js';
import { TERMINAL_JOB_STATUSES } from '../jobs/job.entity.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import {
  MODEL_ARCHIVE_TYPES,
  ModelVersionDto,
  ModelVersionListDto,
  RegisteredModelListDto,
  RegisteredModelDto,
  type UpdateModelDto,
} from './model.dto.js';
import { ModelAliasEntity } from './model-alias.entity.js';
import { ModelBundleExporter, type BundleFormat, type ModelBundle } from './model-export.js';
import { ModelImporter } from './model-import.js';
import { ModelLineageSummaryRepository } from './model-lineage-summary.repository.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

@Injectable()
export class ModelsService {
  private readonly logger = new Logger(ModelsService.name);

  constructor(
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelVersionEntity) private readonly versions: Repository<ModelVersionEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly store: ArtifactStore,
    private readonly exporter: ModelBundleExporter,
    private readonly importer: ModelImporter,
    private readonly lineage: ModelLineageSummaryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A new version from an uploaded archive (Hugging Face GPT-2 folder or a TuneForge bundle). */
  async importVersion(
    principal: Principal,
    name: string,
    contentType: string | undefined,
    body: Readable,
  ): Promise<ModelVersionDto> {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!(MODEL_ARCHIVE_TYPES as readonly string[]).includes(mediaType)) {
      throw new DomainError(
        ErrorCode.UnsupportedMediaType,
        `A model import is a tar, tar.gz or zip archive sent as ${MODEL_ARCHIVE_TYPES.join(', ')}`,
        [{ field: 'Content-Type', reason: `${mediaType || 'none'} is not accepted` }],
      );
    }
    const version = await this.importer.importVersion(principal, name, body, {
      maxBytes: this.config.models.maxImportBytes,
    });
    return this.versionDto(name, version);
  }

  /** Descriptive fields with JSON merge semantics: absent leaves a field, null clears it. */
  async updateModel(principal: Principal, name: string, update: UpdateModelDto): Promise<RegisteredModelDto> {
    const model = await this.visibleModel(principal, name);
    const changes: Partial<RegisteredModelEntity> = {};
    for (const field of ['description', 'intendedUse', 'outOfScopeUse', 'limitations'] as const) {
      const value = update[field];
      if (value !== undefined) {
        changes[field] = value;
      }
    }
    if (update.tags !== undefined) {
      changes.tags = update.tags ?? [];
    }
    if (Object.keys(changes).length > 0) {
      await this.models.update({ id: model.id }, changes);
    }
    return RegisteredModelDto.from(await this.models.findOneByOrFail({ id: model.id }));
  }

  /**
   * Makes a tombstone: the row stays (with its lineage, history and state `deleted`), the files
   * leave the artifact store. Refused while an alias points at the version or an unfinished job
   * fine-tunes from it. Files go after the commit: a crash in between leaves unreferenced files,
   * never a ready version without files. Deleting a deleted version answers its tombstone.
   */
  async deleteVersion(principal: Principal, name: string, versionNumber: number): Promise<ModelVersionDto> {
    const { version, removed } = await this.dataSource.transaction(async (manager) => {
      const model = await this.lockedModel(manager, principal, name);
      const version = await manager.getRepository(ModelVersionEntity).findOneBy({
        modelId: model.id,
        version: versionNumber,
      });
      if (!version) {
        throw DomainError.notFound(`Version of model ${name}`, String(versionNumber));
      }
      if (version.state === 'deleted') {
        return { version, removed: false };
      }
      const aliases = await manager
        .getRepository(ModelAliasEntity)
        .find({ where: { modelVersionId: version.id }, order: { name: 'ASC' } });
      if (aliases.length > 0) {
        throw new DomainError(
          ErrorCode.ModelVersionInUse,
          `${name} v${versionNumber} cannot be deleted: alias ${aliases.map((alias) => alias.name).join(', ')} points at it`,
          aliases.map((alias) => ({ field: 'alias', reason: 'points at this version', alias: alias.name })),
        );
      }
      const jobs = await manager.getRepository(JobEntity).find({
        where: { baseModelVersionId: version.id, status: Not(In([...TERMINAL_JOB_STATUSES])) },
        select: { id: true, status: true },
      });
      if (jobs.length > 0) {
        throw new DomainError(
          ErrorCode.ModelVersionInUse,
          `${name} v${versionNumber} cannot be deleted: unfinished jobs fine-tune from it`,
          jobs.map((job) => ({ field: 'job', reason: `${job.status} job fine-tunes from it`, jobId: job.id })),
        );
      }
      await manager
        .getRepository(ModelVersionEntity)
        .update({ id: version.id }, { state: 'deleted', deletedAt: () => 'now()', deletedByKeyId: principal.apiKeyId });
      return {
        version: await manager.getRepository(ModelVersionEntity).findOneByOrFail({ id: version.id }),
        removed: true,
      };
    });
    if (removed) {
      await this.store.deletePrefix(version.artifactPrefix).catch((error: unknown) => {
        this.logger.warn(
          { err: error, prefix: version.artifactPrefix },
          'could not remove the files of a deleted model version',
        );
      });
    }
    return this.versionDto(name, version);
  }

  /** The model row, locked until the transaction ends: alias moves and deletions of its versions queue on it. */
  async lockedModel(manager: EntityManager, principal: Principal, name: string): Promise<RegisteredModelEntity> {
    const model = await manager.getRepository(RegisteredModelEntity).findOne({
      where: { projectId: principal.projectId, name },
      lock: { mode: 'pessimistic_write' },
    });
    if (!model) {
      throw DomainError.notFound('Model', name);
    }
    return model;
  }

  private async versionDto(modelName: string, version: ModelVersionEntity): Promise<ModelVersionDto> {
    const lineage = await this.lineage.summaries([version]);
    return ModelVersionDto.from(modelName, version, lineage.get(version.id)!);
  }

  private async visibleModel(principal: Principal, name: string): Promise<RegisteredModelEntity> {
    const model = await this.models.findOneBy({ projectId: principal.projectId, name });
    if (!model) {
      throw DomainError.notFound('Model', name);
    }
    return model;
  }

  async listModels(principal: Principal, page: PageQueryDto): Promise<RegisteredModelListDto> {
    const result = await paginate(
      this.models.createQueryBuilder('model').where('model.projectId = :projectId', { projectId: principal.projectId }),
      page,
    );
    return { data: result.data.map((model) => RegisteredModelDto.from(model)), nextCursor: result.nextCursor };
  }

  async getModel(principal: Principal, name: string): Promise<RegisteredModelDto> {
    return RegisteredModelDto.from(await this.visibleModel(principal, name));
  }

  async listVersions(principal: Principal, name: string, page: PageQueryDto): Promise<ModelVersionListDto> {
    const model = await this.visibleModel(principal, name);
    const result = await paginate(
      this.versions.createQueryBuilder('version').where('version.modelId = :modelId', { modelId: model.id }),
      page,
    );
    const lineage = await this.lineage.summaries(result.data);
    return {
      data: result.data.map((version) => ModelVersionDto.from(model.name, version, lineage.get(version.id)!)),
      nextCursor: result.nextCursor,
    };
  }

  async getVersion(principal: Principal, name: string, versionNumber: number): Promise<ModelVersionDto> {
    const { model, version } = await this.visibleVersion(principal, name, versionNumber);
    return this.versionDto(model.name, version);
  }

  /** The version as a Hugging Face-loadable (gpt2) or self-describing (mlp) folder in a tar or zip stream. */
  async downloadVersion(
    principal: Principal,
    name: string,
    versionNumber: number,
    format: BundleFormat,
  ): Promise<ModelBundle> {
    const { model, version } = await this.visibleVersion(principal, name, versionNumber);
    if (version.state === 'deleted') {
      throw deletedVersionError(model.name, version);
    }
    return this.exporter.bundle(model.name, version, format);
  }

  private async visibleVersion(
    principal: Principal,
    name: string,
    versionNumber: number,
  ): Promise<{ model: RegisteredModelEntity; version: ModelVersionEntity }> {
    const model = await this.visibleModel(principal, name);
    const version = await this.versions.findOneBy({ modelId: model.id, version: versionNumber });
    if (!version) {
      throw DomainError.notFound(`Version of model ${name}`, String(versionNumber));
    }
    return { model, version };
  }
}

/** The answer to any use of a deleted version's files. */
export function deletedVersionError(modelName: string, version: ModelVersionEntity): DomainError {
  return new DomainError(
    ErrorCode.ModelVersionDeleted,
    `${modelName} v${version.version} was deleted${version.deletedAt ? ` at ${version.deletedAt.toISOString()}` : ''}; its files are gone`,
    [{ field: 'version', reason: 'deleted', version: version.version }],
  );
}
