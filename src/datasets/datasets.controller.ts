import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { positiveIntParam, uuidParam } from '../platform/http/params.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import {
  CreateDatasetDto,
  DatasetDto,
  DatasetListDto,
  DatasetRowsDto,
  DatasetVersionDto,
  DatasetVersionListDto,
  ListRowsQueryDto,
  QualityReportDto,
  TransformResultDto,
  UploadDatasetVersionQueryDto,
} from './dataset.dto.js';
import { DatasetTransformsService } from './transforms/dataset-transforms.service.js';
import { CreateTransformDto } from './transforms/transform-spec.js';
import { DatasetsService } from './datasets.service.js';
import { closeAfterAnswer, RAW_UPLOAD_TYPES, uploadSource } from './upload-source.js';

@ApiTags('datasets')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1/datasets')
export class DatasetsController {
  constructor(
    private readonly datasetsService: DatasetsService,
    private readonly datasetTransformsService: DatasetTransformsService,
  ) {}

  @Post()
  @Authenticated({ scope: 'datasets:write' })
  @ApiOperation({
    summary: 'Create a dataset',
    description: 'A named dataset with its task, schema and provenance (source and licence are required).',
  })
  @ApiCreatedResponse({ type: DatasetDto })
  @ApiConflictResponse({ description: 'The name is taken in this project.', type: ErrorResponseDto })
  createDataset(@CurrentPrincipal() principal: Principal, @Body() body: CreateDatasetDto): Promise<DatasetDto> {
    return this.datasetsService.createDataset(principal, body);
  }

  @Get()
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({ summary: 'List datasets', description: "The project's datasets, newest first." })
  @ApiOkResponse({ type: DatasetListDto })
  listDatasets(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<DatasetListDto> {
    return this.datasetsService.listDatasets(principal, query);
  }

  @Get(':datasetId')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({ summary: 'Get a dataset', description: 'One dataset with its provenance.' })
  @ApiOkResponse({ type: DatasetDto })
  @ApiNotFoundResponse({ description: 'No such dataset in this project.', type: ErrorResponseDto })
  getDataset(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
  ): Promise<DatasetDto> {
    return this.datasetsService.getDataset(principal, datasetId);
  }

  @Post(':datasetId/versions')
  @HttpCode(201)
  @Authenticated({ scope: 'datasets:write' })
  @ApiOperation({
    summary: 'Upload a dataset version',
    description:
      'Streams a JSONL or CSV file (optionally gzip-compressed) as the raw body, or as the `file` part of a multipart/form-data form. ' +
      'The file is validated and profiled while it streams; rows with errors make the version `invalid`. ' +
      'Uploading bytes that are already a version of this dataset returns that version with 200 instead of 201. ' +
      'A file without a single data row (empty, blank lines, a CSV header alone) is refused with 400 `empty_file`.',
  })
  @ApiConsumes(...RAW_UPLOAD_TYPES)
  @ApiBody({ description: 'The file.', schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ description: 'A new version.', type: DatasetVersionDto })
  @ApiOkResponse({ description: 'The same bytes were already this version.', type: DatasetVersionDto })
  @ApiBadRequestResponse({
    description:
      '`empty_file`: the file has no data rows; `unreadable_file`: it cannot be read (corrupt gzip, binary, no CSV header), or the upload was cut off; `validation_failed`: a malformed multipart form.',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({ description: 'No such dataset in this project.', type: ErrorResponseDto })
  @ApiPayloadTooLargeResponse({
    description:
      'Larger than DATASET_MAX_UPLOAD_BYTES (a raw body whose Content-Length says so is refused before it is read), or inflates beyond DATASET_MAX_INFLATED_BYTES.',
    type: ErrorResponseDto,
  })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not an accepted upload type.', type: ErrorResponseDto })
  async uploadDatasetVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Query() query: UploadDatasetVersionQueryDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DatasetVersionDto> {
    try {
      const outcome = await this.datasetsService.uploadVersion(
        principal,
        datasetId,
        await uploadSource(request),
        query,
      );
      response.status(outcome.created ? 201 : 200);
      return outcome.version;
    } catch (error) {
      // The rest of a refused upload is not read: answer, then close rather than drain gigabytes.
      if (!request.complete) {
        closeAfterAnswer(request, response);
      }
      throw error;
    }
  }

  @Get(':datasetId/versions')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({
    summary: 'List dataset versions',
    description: 'Versions of a dataset, newest first, deleted ones included as tombstones.',
  })
  @ApiOkResponse({ type: DatasetVersionListDto })
  listDatasetVersions(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Query() query: PageQueryDto,
  ): Promise<DatasetVersionListDto> {
    return this.datasetsService.listVersions(principal, datasetId, query);
  }

  @Get(':datasetId/versions/:version')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({
    summary: 'Get a dataset version',
    description: 'One version: state, size, hash, counts, verdict and lineage.',
  })
  @ApiOkResponse({ type: DatasetVersionDto })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  getDatasetVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Req() request: Request,
  ): Promise<DatasetVersionDto> {
    return this.datasetsService.getVersion(principal, datasetId, version, request);
  }

  @Get(':datasetId/versions/:version/quality')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({
    summary: 'Get the quality report of a version',
    description:
      'Completeness, duplicates, labels, diversity, representativeness, features (numeric and vector fields), privacy, the verdict, and the row errors.',
  })
  @ApiOkResponse({ type: QualityReportDto })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  getDatasetVersionQuality(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Req() request: Request,
  ): Promise<QualityReportDto> {
    return this.datasetsService.getQuality(principal, datasetId, version, request);
  }

  @Get(':datasetId/versions/:version/rows')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({
    summary: 'Preview rows of a version',
    description: 'Rows from an offset, as parsed (rows with errors are skipped).',
  })
  @ApiOkResponse({ type: DatasetRowsDto })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The version was deleted.', type: ErrorResponseDto })
  listDatasetVersionRows(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Query() query: ListRowsQueryDto,
    @Req() request: Request,
  ): Promise<DatasetRowsDto> {
    return this.datasetsService.listRows(principal, datasetId, version, query, request);
  }

  @Get(':datasetId/versions/:version/download')
  @Authenticated({ scope: 'datasets:read' })
  @ApiOperation({
    summary: 'Download a version',
    description: 'The file exactly as uploaded (its SHA-256 is in the ETag and X-Content-SHA256 headers).',
  })
  @ApiProduces('application/x-ndjson', 'text/csv', 'application/gzip')
  @ApiOkResponse({ description: 'The file.', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The version was deleted.', type: ErrorResponseDto })
  async downloadDatasetVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    const file = await this.datasetsService.openDownload(principal, datasetId, version, request);
    response.setHeader('ETag', `"${file.sha256}"`);
    response.setHeader('X-Content-SHA256', file.sha256);
    return new StreamableFile(file.stream, {
      type: file.contentType,
      length: file.size,
      disposition: `attachment; filename="${file.fileName}"`,
    });
  }

  @Post(':datasetId/versions/:version/transforms')
  @Authenticated({ scope: 'datasets:write' })
  @ApiOperation({
    summary: 'Transform a version into new versions',
    description:
      'Applies the steps in order (clean, dedupe, redact, map_labels, drop_rows, drop_invalid, normalize, augment_text, augment_numeric, ' +
      'oversample, split) in a worker thread, streaming from storage to storage, and stores the result as new versions linked to this one. ' +
      'Deterministic: the same version and steps give the same bytes and versions. An `invalid` version is transformed from a first ' +
      '`drop_invalid` step, which drops its failing rows. A split part with fraction 0 or no rows makes no version (see `skipped`).',
  })
  @ApiCreatedResponse({ type: TransformResultDto })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({
    description: 'The version is deleted, or invalid and the steps do not start with drop_invalid (`invalid_state`).',
    type: ErrorResponseDto,
  })
  @ApiUnprocessableEntityResponse({
    description:
      '`transform_output_too_large`: a step would write more rows than TRANSFORM_MAX_OUTPUT_ROWS (refused before running, ' +
      'with the estimate in `details`) or, while running, more rows or bytes than TRANSFORM_MAX_OUTPUT_ROWS / ' +
      'TRANSFORM_MAX_OUTPUT_BYTES, or more memory than TRANSFORM_WORKER_MEMORY. Nothing is stored.',
    type: ErrorResponseDto,
  })
  transformDatasetVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Body() body: CreateTransformDto,
  ): Promise<TransformResultDto> {
    return this.datasetTransformsService.transformVersion(principal, datasetId, version, body);
  }

  @Delete(':datasetId/versions/:version')
  @HttpCode(200)
  @Authenticated({ scope: 'datasets:write' })
  @ApiOperation({
    summary: 'Delete a dataset version',
    description: 'Removes the file; the version stays as a tombstone so that models trained on it can still be traced.',
  })
  @ApiOkResponse({ type: DatasetVersionDto })
  @ApiNotFoundResponse({ description: 'No such dataset or version in this project.', type: ErrorResponseDto })
  deleteDatasetVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId', uuidParam('datasetId')) datasetId: string,
    @Param('version', positiveIntParam('version')) version: number,
  ): Promise<DatasetVersionDto> {
    return this.datasetsService.deleteVersion(principal, datasetId, version);
  }
}
