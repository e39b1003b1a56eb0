import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../platform/config/config.js';
import { DomainError } from '../../platform/errors/domain-error.js';
import { assertUnreachable, ErrorCode } from '../../platform/errors/error-codes.js';
import { ArtifactStore } from '../../platform/storage/artifact-store.js';
import type { DatasetVersionEntity } from '../dataset-version.entity.js';
import type { DatasetVersionDto, SkippedTransformOutputDto, TransformResultDto } from '../dataset.dto.js';
import { DatasetsService } from '../datasets.service.js';
import { redactPersonalData } from '../privacy/personal-data.js';
import { validateTransformSpec } from './transform-engine.js';
import { certainOverflow, estimateTransformRows } from './transform-estimate.js';
import { TransformMetrics } from './transform-metrics.js';
import { TransformRunError, TransformRunner, type TransformRun } from './transform-runner.js';
import type { CreateTransformDto } from './transform-spec.js';
import { TransformError, type SplitStep, type TransformStep } from './transform-types.js';

/**
 * Dataset transforms: the rules (which versions, which specs, which limits) around the runner that
 * does the work in a worker thread, and the new versions made from its outputs.
 */
@Injectable()
export class DatasetTransformsService {
  private readonly logger = new Logger(DatasetTransformsService.name);

  constructor(
    private readonly datasets: DatasetsService,
    private readonly store: ArtifactStore,
    private readonly transformRunner: TransformRunner,
    private readonly transformMetrics: TransformMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
    const { dataset, version } = await this.datasets.visibleVersion(principal, datasetId, versionNumber);
    const artifactKey = this.datasets.liveArtifactKey(version);
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
        const outcome = await this.datasets.createVersion(principal, dataset, {
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
}

/** A spec that does not fit the dataset, as a 400 naming the step. */
function transformSpecError(error: TransformError): DomainError {
  return DomainError.validation(error.message, [{ field: error.field, reason: error.reason, rows: error.rows }]);
}
