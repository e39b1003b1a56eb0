import { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { Clock } from '../platform/clock.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { assertUnreachable, ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { DatasetIngestor, type IngestResult } from './dataset-ingestor.js';
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
  SkippedTransformOutputDto,
  TransformResultDto,
  UploadDatasetVersionQueryDto,
} from './dataset.dto.js';
import { readDatasetBatches, STORED_FILE_LIMITS } from './parsing/dataset-reader.js';
import { redactPersonalData } from './privacy/personal-data.js';
import { validateTransformSpec } from './transforms/transform-engine.js';
import { certainOverflow, estimateTransformRows } from './transforms/transform-estimate.js';
import { TransformMetrics } from './transforms/transform-metrics.js';
import { TransformRunError, TransformRunner, type TransformRun } from './transforms/transform-runner.js';
import type { CreateTransformDto } from './transforms/transform-spec.js';
import { TransformError, type SplitStep, type TransformStep } from './transforms/transform-types.js';
import { thresholdProblems, type ReferenceProfile } from './quality/quality-report.js';
import { QualityReportEntity } from './quality-report.entity.js';

/** What an upload or a transform output brings to a new version. */
export interface NewVersionInput {
  source: Readable | AsyncIterable<Uint8Array>;
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
    private readonly transformRunner: TransformRunner,
    private readonly transformMetrics: TransformMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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
    source: Readable,
    query: UploadDatasetVersionQueryDto,
  ): Promise<UploadOutcome> {
    const dataset = await this.visibleDataset(principal, datasetId);
    return this.createVersion(principal, dataset, {
      source,
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
    try {
      if (await this.store.exists(blobKey)) {
        await this.store.delete(result.stored.key);
      } else {
        await this.store.copy(result.stored.key, blobKey);
        await this.store.delete(result.stored.key);
      }
    } catch (error) {
      await this.store.delete(result.stored.key).catch(() => undefined);
      throw error;
    }
    return this.dataSource.transaction((manager) =>
      this.recordVersion(manager, principal, dataset, blobKey, result, input),
    );
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

  /**
   * Applies transform steps to a ready version (or to an invalid one, when the steps start with
   * drop_invalid) and stores each output (one, or train/validation/test after a split) as a new
   * JSONL version linked to its parent with the spec. The steps run in a worker thread, spool to
   * spool on local disk; this thread only streams bytes. Deterministic: the same parent and spec
   * give the same bytes, so a repeated request returns the same versions. A split part with
   * fraction 0, or that ends up empty, makes no version (`skipped` says so).
   */
  async transformVersion(
    principal: Principal,
    datasetId: string,
    versionNumber: number,
    request: CreateTransformDto,
  ): Promise<TransformResultDto> {
    const { dataset, version } = await this.visibleVersion(principal, datasetId, versionNumber);
    const artifactKey = this.liveArtifactKey(version);
    const steps = request.steps as unknown as TransformStep[];
    if (version.state === 'invalid' && steps[0]?.op !== 'drop_invalid') {
      throw new DomainError(
        ErrorCode.InvalidState,
        `Version ${version.version} is invalid (${version.errorRowCount} rows failed validation): start the steps ` +
          `with {"op":"drop_invalid"} to drop those rows and make a ready version`,
        [
          {
            field: 'steps.0',
            reason: 'invalid versions are transformed from a drop_invalid step',
            state: version.state,
          },
        ],
      );
    }
    if (version.state !== 'ready' && version.state !== 'invalid') {
      throw new DomainError(
        ErrorCode.InvalidState,
        `Version ${version.version} is ${version.state}: only ready versions (or invalid ones, from drop_invalid) can be transformed`,
        [{ reason: version.state }],
      );
    }
    const context = { task: dataset.task, schema: dataset.schema, redact: redactPersonalData };
    const done = this.transformMetrics.start();
    let run: TransformRun | undefined;
    try {
      try {
        validateTransformSpec(steps, context);
      } catch (error) {
        throw error instanceof TransformError ? transformSpecError(error) : error;
      }
      this.refuseCertainOverflow(version, steps);
      try {
        run = await this.transformRunner.run({
          source: await this.store.get(artifactKey),
          format: version.format,
          compression: version.compression,
          steps,
          task: dataset.task,
          schema: dataset.schema,
        });
      } catch (error) {
        throw error instanceof TransformRunError ? this.transformRunError(error) : error;
      }
      const split = steps.at(-1)?.op === 'split' ? (steps.at(-1) as SplitStep) : undefined;
      const versions: DatasetVersionDto[] = [];
      const skipped: SkippedTransformOutputDto[] = [];
      for (const output of run.outputs) {
        if (output.name !== 'all' && split && split[output.name] === 0) {
          skipped.push({ splitName: output.name, reason: 'fraction 0' });
          continue;
        }
        if (output.name !== 'all' && output.rows === 0) {
          skipped.push({ splitName: output.name, reason: 'no rows' });
          continue;
        }
        const outcome = await this.createVersion(principal, dataset, {
          source: output.open(),
          format: 'jsonl',
          parent: {
            versionId: version.id,
            transformSpec: steps,
            transformReport: run.report,
            splitName: output.name === 'all' ? null : output.name,
            statistics: run.statistics,
          },
        });
        versions.push(outcome.version);
      }
      done('succeeded');
      return {
        versions,
        skipped,
        report: run.report as unknown as Record<string, unknown>[],
        statistics: run.statistics,
      };
    } catch (error) {
      done(error instanceof DomainError && error.status < 500 ? 'refused' : 'failed');
      throw error;
    } finally {
      await run?.dispose();
    }
  }

  /** Refuses up front a spec whose output is certain to pass TRANSFORM_MAX_OUTPUT_ROWS. */
  private refuseCertainOverflow(version: DatasetVersionEntity, steps: TransformStep[]): void {
    const maxRows = this.config.transforms.maxOutputRows;
    // An invalid version's parsed rows are at most its valid rows plus its error rows.
    const parentRows = version.rowCount + (version.state === 'invalid' ? version.errorRowCount : 0);
    const estimates = estimateTransformRows(steps, parentRows, version.state === 'ready');
    const overflow = certainOverflow(estimates, maxRows);
    if (overflow) {
      throw new DomainError(
        ErrorCode.TransformOutputTooLarge,
        `Step ${overflow.step} (${overflow.op}) would write ${overflow.rows} rows, more than the limit of ${maxRows} ` +
          `(TRANSFORM_MAX_OUTPUT_ROWS); nothing was done`,
        [
          {
            field: `steps.${overflow.step}`,
            reason: 'estimated output too large',
            limit: 'rows',
            maximum: maxRows,
            estimatedRows: overflow.rows,
            estimates: estimates.map((estimate) => ({
              step: estimate.step,
              op: estimate.op,
              rows: estimate.rows,
              exact: estimate.exact,
            })),
          },
        ],
      );
    }
  }

  private transformRunError(error: TransformRunError): Error {
    const failure = error.failure;
    switch (failure.kind) {
      case 'spec':
        return transformSpecError(new TransformError(failure.step, failure.op, failure.reason, failure.rows));
      case 'limit': {
        const variable = failure.limit === 'rows' ? 'TRANSFORM_MAX_OUTPUT_ROWS' : 'TRANSFORM_MAX_OUTPUT_BYTES';
        return new DomainError(
          ErrorCode.TransformOutputTooLarge,
          `Step ${failure.step} (${failure.op}) passed the limit of ${failure.maximum} ${failure.limit} (${variable}) ` +
            'and was stopped; nothing was stored',
          [
            {
              field: `steps.${failure.step}`,
              reason: 'output too large',
              limit: failure.limit,
              maximum: failure.maximum,
            },
          ],
        );
      }
      case 'memory':
        return new DomainError(
          ErrorCode.TransformOutputTooLarge,
          `The transform needed more than ${failure.maximum} bytes of memory (TRANSFORM_WORKER_MEMORY) and was ` +
            'stopped; nothing was stored',
          [{ reason: 'worker memory exhausted', limit: 'memory', maximum: failure.maximum }],
        );
      case 'read':
      case 'internal':
        this.logger.error({ failure }, 'transform failed');
        return new Error(`transform failed: ${error.message}`);
      default:
        return assertUnreachable(failure);
    }
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
      // The same bytes may back another live version of this dataset: keep the file for it.
      const sharedBy = await this.versions.count({ where: { artifactKey } });
      if (sharedBy === 0) {
        await this.store.delete(artifactKey);
      }
    }
    return DatasetVersionDto.from({ ...version, state: 'deleted', artifactKey: null, deletedAt: now });
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

/** A spec that does not fit the dataset, as a 400 naming the step. */
function transformSpecError(error: TransformError): DomainError {
  return DomainError.validation(error.message, [{ field: error.field, reason: error.reason, rows: error.rows }]);
}

/** Stored files passed the upload limits; reading them back allows generous bounds in case those changed. */
