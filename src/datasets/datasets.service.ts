import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { Clock } from '../platform/clock.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { lockBlob } from './blob-lock.js';
import { DatasetIngestor, type IngestResult } from './dataset-ingestor.js';
import { DatasetMetrics } from './dataset-metrics.js';
import type { UploadBody } from './upload-source.js';
import { defaultSchema, type DatasetFormat } from './dataset-types.js';
import { DatasetVersionEntity } from './dataset-version.entity.js';
import { DatasetEntity } from './dataset.entity.js';
import {
  CreateDatasetDto,
  DatasetDto,
  DatasetListDto,
  DatasetRowsDto,
  DatasetVersionDto,
  DatasetVersionListDto,
  ListRowsQueryDto,
  QualityReportDto,
  UploadDatasetVersionQueryDto,
} from './dataset.dto.js';
import { readDatasetBatches, STORED_FILE_LIMITS } from './parsing/dataset-reader.js';
import { thresholdProblems, type ReferenceProfile } from './quality/quality-report.js';
import { QualityReportEntity } from './quality-report.entity.js';
import type { DatasetVersionEventData } from '../webhooks/webhook-events.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';

/** What an upload or a transform output brings to a new version. */
export interface NewVersionInput {
  source: Readable | AsyncIterable<Uint8Array>;
  /** The size the sender announced, if any: more than the limit is refused before reading. */
  declaredBytes?: number;
  /** Uploads refuse a file without rows; a transform may legitimately produce an empty output. */
  refuseEmpty?: boolean;
  format?: DatasetFormat;
  referenceVersion?: number;
  parent?: {
    versionId: string;
    transformSpec: unknown[];
    transformReport: unknown[];
    splitName: string | null;
    statistics: Record<string, unknown>;
  };
}

export interface UploadOutcome {
  version: DatasetVersionDto;
  /** False when the same bytes were already a version of this dataset: that version is returned. */
  created: boolean;
}

@Injectable()
export class DatasetsService {
  private readonly logger = new Logger(DatasetsService.name);

  constructor(
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
    @InjectRepository(DatasetVersionEntity) private readonly versions: Repository<DatasetVersionEntity>,
    @InjectRepository(QualityReportEntity) private readonly reports: Repository<QualityReportEntity>,
    private readonly dataSource: DataSource,
    private readonly ingestor: DatasetIngestor,
    private readonly store: ArtifactStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly metrics: DatasetMetrics,
    private readonly webhooks: WebhookPublisher,
  ) {}

  async createDataset(principal: Principal, request: CreateDatasetDto): Promise<DatasetDto> {
    if (await this.datasets.exists({ where: { projectId: principal.projectId, name: request.name } })) {
      throw new DomainError(ErrorCode.Conflict, `A dataset named ${request.name} already exists in this project`, [
        { field: 'name', reason: 'already taken' },
      ]);
    }
    const thresholdErrors = thresholdProblems(request.qualityThresholds);
    if (thresholdErrors.length > 0) {
      throw DomainError.validation(
        `qualityThresholds is invalid: ${thresholdErrors.join('; ')}`,
        thresholdErrors.map((reason) => ({ field: 'qualityThresholds', reason })),
      );
    }
    const schema = request.schema ?? defaultSchema(request.task);
    if (['classification', 'regression', 'prompt-completion'].includes(request.task) && !schema.labelField) {
      throw DomainError.validation(`A ${request.task} dataset needs schema.labelField`, [
        { field: 'schema.labelField', reason: `required for ${request.task}` },
      ]);
    }
    const dataset = await this.datasets.save(
      this.datasets.create({
        projectId: principal.projectId,
        name: request.name,
        description: request.description ?? '',
        task: request.task,
        schema: { inputFields: schema.inputFields, ...(schema.labelField ? { labelField: schema.labelField } : {}) },
        source: request.source,
        license: request.license,
        containsPersonalData: request.containsPersonalData,
        legalBasis: request.legalBasis ?? '',
        qualityThresholds: request.qualityThresholds ?? {},
        createdByKeyId: principal.apiKeyId,
      }),
    );
    return DatasetDto.from(dataset);
  }

  async listDatasets(principal: Principal, page: PageQueryDto): Promise<DatasetListDto> {
    const result = await paginate(
      this.datasets
        .createQueryBuilder('dataset')
        .where('dataset.projectId = :projectId', { projectId: principal.projectId }),
      page,
    );
    return { data: result.data.map((dataset) => DatasetDto.from(dataset)), nextCursor: result.nextCursor };
  }

  async getDataset(principal: Principal, datasetId: string): Promise<DatasetDto> {
    return DatasetDto.from(await this.visibleDataset(principal, datasetId));
  }

  async uploadVersion(
    principal: Principal,
    datasetId: string,
    body: UploadBody,
    query: UploadDatasetVersionQueryDto,
  ): Promise<UploadOutcome> {
    const dataset = await this.visibleDataset(principal, datasetId);
    return this.createVersion(principal, dataset, {
      source: body.stream,
      declaredBytes: body.declaredBytes,
      refuseEmpty: true,
      format: query.format,
      referenceVersion: query.referenceVersion,
    });
  }

  /** Streams a file into a new version: shared by uploads and transforms. */
  async createVersion(principal: Principal, dataset: DatasetEntity, input: NewVersionInput): Promise<UploadOutcome> {
    const reference = input.referenceVersion ? await this.referenceProfile(dataset, input.referenceVersion) : undefined;
    const prefix = `projects/${dataset.projectId}/datasets/${dataset.id}`;
    const result = await this.ingestor.ingest(input.source, {
      task: dataset.task,
      schema: dataset.schema,
      format: input.format,
      declaredBytes: input.declaredBytes,
      refuseEmpty: input.refuseEmpty,
      thresholds: dataset.qualityThresholds,
      reference: reference?.profile,
      stagingPrefix: `${prefix}/uploads`,
    });
    if (reference) {
      const representativeness = (result.report as { representativeness?: Record<string, unknown> }).representativeness;
      if (representativeness) {
        representativeness.reference = `version ${reference.version}`;
      }
    }
    const blobKey = `${prefix}/blobs/${result.stored.sha256}`;
    let outcome: UploadOutcome;
    try {
      outcome = await this.dataSource.transaction(async (manager) => {
        // Held until commit: no delete can remove the blob between this check and the insert.
        await lockBlob(manager, blobKey);
        if (!(await this.store.exists(blobKey))) {
          await this.store.copy(result.stored.key, blobKey);
        }
        return this.recordVersion(manager, principal, dataset, blobKey, result, input);
      });
    } catch (error) {
      // A blob copied for a version that was then not recorded is nobody's.
      await this.removeBlobIfUnused(blobKey).catch((cleanupError: unknown) => {
        this.logger.warn({ err: cleanupError, blobKey }, 'could not remove an unused dataset blob');
      });
      throw error;
    } finally {
      await this.store.delete(result.stored.key).catch((cleanupError: unknown) => {
        this.logger.warn({ err: cleanupError, key: result.stored.key }, 'could not remove a staged upload');
      });
    }
    if (outcome.created) {
      this.metrics.versionCreated(outcome.version.qualityVerdict);
    }
    return outcome;
  }

  private async recordVersion(
    manager: EntityManager,
    principal: Principal,
    dataset: DatasetEntity,
    blobKey: string,
    result: IngestResult,
    input: NewVersionInput,
  ): Promise<UploadOutcome> {
    // Serialises version numbering per dataset.
    await manager.query('SELECT id FROM datasets WHERE id = $1 FOR UPDATE', [dataset.id]);
    // The same bytes with the same lineage are the same version (documented: uploads are idempotent).
    const sameBytes = await manager.find(DatasetVersionEntity, {
      where: { datasetId: dataset.id, sha256: result.stored.sha256 },
      order: { version: 'ASC' },
    });
    const existing = sameBytes.find(
      (candidate) =>
        candidate.state !== 'deleted' &&
        candidate.parentVersionId === (input.parent?.versionId ?? null) &&
        candidate.splitName === (input.parent?.splitName ?? null),
    );
    if (existing) {
      return { version: DatasetVersionDto.from(existing), created: false };
    }
    const last = await manager
      .createQueryBuilder(DatasetVersionEntity, 'version')
      .select('MAX(version.version)', 'max')
      .where('version.datasetId = :datasetId', { datasetId: dataset.id })
      .getRawOne<{ max: number | null }>();
    const verdict = result.report.overall.verdict;
    const version = await manager.save(
      manager.create(DatasetVersionEntity, {
        datasetId: dataset.id,
        projectId: dataset.projectId,
        version: (last?.max ?? 0) + 1,
        state: result.totalErrors > 0 ? 'invalid' : 'ready',
        format: result.summary.format,
        compression: result.summary.compression,
        sha256: result.stored.sha256,
        sizeBytes: result.stored.size,
        artifactKey: blobKey,
        rowCount: result.validRows,
        errorRowCount: result.totalErrors,
        schema: dataset.schema,
        columns: result.summary.header ?? null,
        qualityVerdict: verdict,
        parentVersionId: input.parent?.versionId ?? null,
        transformSpec: input.parent?.transformSpec ?? null,
        transformReport: input.parent?.transformReport ?? null,
        splitName: input.parent?.splitName ?? null,
        statistics: input.parent?.statistics ?? {},
        createdByKeyId: principal.apiKeyId,
        deletedAt: null,
      }),
    );
    await manager.save(
      manager.create(QualityReportEntity, {
        datasetVersionId: version.id,
        projectId: dataset.projectId,
        verdict,
        report: result.report as unknown as Record<string, unknown>,
        validation: { errors: result.errors, totalErrors: result.totalErrors },
        referenceProfile: result.referenceProfile as unknown as Record<string, unknown>,
      }),
    );
    const event: DatasetVersionEventData = {
      datasetId: dataset.id,
      datasetName: dataset.name,
      datasetVersionId: version.id,
      version: version.version,
      sha256: version.sha256,
      rowCount: version.rowCount,
      qualityVerdict: verdict,
      parentVersionId: version.parentVersionId,
    };
    await this.webhooks.publish(dataset.projectId, 'dataset.version.created', event, { manager });
    if (verdict === 'fail') {
      await this.webhooks.publish(dataset.projectId, 'dataset.quality.failed', event, { manager });
    }
    this.logger.log(
      { datasetId: dataset.id, version: version.version, rows: version.rowCount, errors: result.totalErrors, verdict },
      'dataset version created',
    );
    return { version: DatasetVersionDto.from(version), created: true };
  }

  async listVersions(principal: Principal, datasetId: string, page: PageQueryDto): Promise<DatasetVersionListDto> {
    const dataset = await this.visibleDataset(principal, datasetId);
    const result = await paginate(
      this.versions.createQueryBuilder('version').where('version.datasetId = :datasetId', { datasetId: dataset.id }),
      page,
    );
    return { data: result.data.map((version) => DatasetVersionDto.from(version)), nextCursor: result.nextCursor };
  }

  async getVersion(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    request: Request,
  ): Promise<DatasetVersionDto> {
    const { dataset, version } = await this.visibleVersion(principal, datasetId, versionNumber);
    await this.auditRead(request, principal, dataset, version, 'getDatasetVersion');
    return DatasetVersionDto.from(version);
  }

  async getQuality(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    request: Request,
  ): Promise<QualityReportDto> {
    const { dataset, version } = await this.visibleVersion(principal, datasetId, versionNumber);
    await this.auditRead(request, principal, dataset, version, 'getDatasetVersionQuality');
    const report = await this.reports.findOneOrFail({ where: { datasetVersionId: version.id } });
    return {
      datasetVersionId: version.id,
      verdict: report.verdict,
      report: report.report,
      validation: report.validation,
    };
  }

  async listRows(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    query: ListRowsQueryDto,
    request: Request,
  ): Promise<DatasetRowsDto> {
    const { dataset, version } = await this.visibleVersion(principal, datasetId, versionNumber);
    const artifactKey = this.liveArtifactKey(version);
    await this.auditRead(request, principal, dataset, version, 'listDatasetVersionRows');
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 50;
    const rows: DatasetRowsDto['rows'] = [];
    let seen = 0;
    let more = false;
    const reader = await this.readStoredRows(version, artifactKey);
    try {
      outer: for (;;) {
        const next = await reader.next();
        if (next.done) {
          break;
        }
        for (const item of next.value) {
          if (item.kind !== 'row') {
            continue;
          }
          if (seen >= offset + limit) {
            more = true;
            break outer;
          }
          if (seen >= offset) {
            rows.push({ line: item.row.line, record: item.row.record });
          }
          seen += 1;
        }
      }
    } finally {
      await reader.return(undefined as never);
    }
    return { rows, nextOffset: more ? offset + limit : null };
  }

  async openDownload(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    request: Request,
  ): Promise<{ stream: Readable; fileName: string; contentType: string; size: number; sha256: string }> {
    const { dataset, version } = await this.visibleVersion(principal, datasetId, versionNumber);
    const artifactKey = this.liveArtifactKey(version);
    await this.auditRead(request, principal, dataset, version, 'downloadDatasetVersion');
    const extension = `${version.format}${version.compression === 'gzip' ? '.gz' : ''}`;
    const contentType =
      version.compression === 'gzip'
        ? 'application/gzip'
        : version.format === 'csv'
          ? 'text/csv'
          : 'application/x-ndjson';
    return {
      stream: await this.store.get(artifactKey),
      fileName: `${dataset.name}-v${version.version}.${extension}`,
      contentType,
      size: version.sizeBytes,
      sha256: version.sha256,
    };
  }

  /** Removes the file and keeps the row as a tombstone for lineage. */
  async deleteVersion(principal: Principal, datasetId: string, versionNumber: number): Promise<DatasetVersionDto> {
    const { version } = await this.visibleVersion(principal, datasetId, versionNumber);
    if (version.state === 'deleted') {
      return DatasetVersionDto.from(version);
    }
    const artifactKey = version.artifactKey;
    const now = this.clock.now();
    await this.versions.update({ id: version.id }, { state: 'deleted', artifactKey: null, deletedAt: now });
    if (artifactKey) {
      await this.removeBlobIfUnused(artifactKey);
    }
    return DatasetVersionDto.from({ ...version, state: 'deleted', artifactKey: null, deletedAt: now });
  }

  /**
   * Removes a blob that no version refers to any more. The same bytes may back another version of
   * the dataset, or an upload may be about to record one: the blob lock makes "unreferenced" and
   * the removal one step as far as uploads are concerned. The transaction writes nothing, so the
   * decision stands even if its commit fails after the file is gone.
   */
  private async removeBlobIfUnused(blobKey: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await lockBlob(manager, blobKey);
      const users = await manager.count(DatasetVersionEntity, { where: { artifactKey: blobKey } });
      if (users === 0) {
        await this.store.delete(blobKey);
      }
    });
  }

  /** The dataset and version, or 404 for anything outside the caller's project. */
  async visibleVersion(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
  ): Promise<{ dataset: DatasetEntity; version: DatasetVersionEntity }> {
    const dataset = await this.visibleDataset(principal, datasetId);
    const version = await this.versions.findOne({ where: { datasetId: dataset.id, version: versionNumber } });
    if (!version) {
      throw DomainError.notFound('Dataset version', `${datasetId}/versions/${versionNumber}`);
    }
    return { dataset, version };
  }

  async visibleDataset(principal: Principal, datasetId: string): Promise<DatasetEntity> {
    const dataset = await this.datasets.findOne({ where: { id: datasetId, projectId: principal.projectId } });
    if (!dataset) {
      throw DomainError.notFound('Dataset', datasetId);
    }
    return dataset;
  }

  /** The rows of a stored version's file, in batches, read as they were validated at upload. */
  private async readStoredRows(version: DatasetVersionEntity, artifactKey: string) {
    return readDatasetBatches(await this.store.get(artifactKey), {
      format: version.format,
      compression: version.compression,
      ...STORED_FILE_LIMITS,
    });
  }

  liveArtifactKey(version: DatasetVersionEntity): string {
    if (version.state === 'deleted' || !version.artifactKey) {
      throw new DomainError(ErrorCode.InvalidState, `Version ${version.version} was deleted; only its record remains`, [
        { reason: 'deleted', deletedAt: version.deletedAt?.toISOString() },
      ]);
    }
    return version.artifactKey;
  }

  private async referenceProfile(
    dataset: DatasetEntity,
    versionNumber: number,
  ): Promise<{ version: number; profile: ReferenceProfile }> {
    const version = await this.versions.findOne({ where: { datasetId: dataset.id, version: versionNumber } });
    const report = version ? await this.reports.findOne({ where: { datasetVersionId: version.id } }) : null;
    if (!version || !report?.referenceProfile) {
      throw DomainError.validation(`referenceVersion ${versionNumber} is not a version of this dataset`, [
        { field: 'referenceVersion', reason: 'no such version' },
      ]);
    }
    return { version: versionNumber, profile: report.referenceProfile as unknown as ReferenceProfile };
  }

  /** Reads of data that may hold personal data are audited, as the data protection officer expects. */
  private async auditRead(
    request: Request,
    principal: Principal,
    dataset: DatasetEntity,
    version: DatasetVersionEntity,
    action: string,
  ): Promise<void> {
    if (dataset.containsPersonalData !== 'no') {
      await this.audit.record(request, principal, { action, status: 200, targetId: version.id });
    }
  }
}

/** Stored files passed the upload limits; reading them back allows generous bounds in case those changed. */
