import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import {
  MODEL_ARCHIVE_TYPES,
  ModelVersionDto,
  ModelVersionListDto,
  RegisteredModelListDto,
  RegisteredModelDto,
} from './model.dto.js';
import { ModelBundleExporter, type BundleFormat, type ModelBundle } from './model-export.js';
import { ModelImporter } from './model-import.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

@Injectable()
export class ModelsService {
  constructor(
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelVersionEntity) private readonly versions: Repository<ModelVersionEntity>,
    private readonly exporter: ModelBundleExporter,
    private readonly importer: ModelImporter,
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
    return ModelVersionDto.from(name, version);
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
    return {
      data: result.data.map((version) => ModelVersionDto.from(model.name, version)),
      nextCursor: result.nextCursor,
    };
  }

  async getVersion(principal: Principal, name: string, versionNumber: number): Promise<ModelVersionDto> {
    const { model, version } = await this.visibleVersion(principal, name, versionNumber);
    return ModelVersionDto.from(model.name, version);
  }

  /** The version as a Hugging Face-loadable (gpt2) or self-describing (mlp) folder in a tar or zip stream. */
  async downloadVersion(
    principal: Principal,
    name: string,
    versionNumber: number,
    format: BundleFormat,
  ): Promise<ModelBundle> {
    const { model, version } = await this.visibleVersion(principal, name, versionNumber);
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
