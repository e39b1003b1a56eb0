import { Readable } from 'node:stream';
import { Body, Controller, Delete, Get, Param, Patch, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiPayloadTooLargeResponse,
  ApiUnsupportedMediaTypeResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import { patternParam, positiveIntParam } from '../platform/http/params.js';
import {
  DownloadModelVersionQueryDto,
  MODEL_ARCHIVE_TYPES,
  MODEL_NAME_PATTERN,
  ModelVersionDto,
  ModelVersionListDto,
  RegisteredModelDto,
  RegisteredModelListDto,
  UpdateModelDto,
} from './model.dto.js';
import { ModelsService } from './models.service.js';

const modelNameParam = patternParam(
  'modelName',
  MODEL_NAME_PATTERN,
  'must be 1-100 letters, digits, dots, underscores or hyphens',
);

@ApiTags('models')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1/models')
export class ModelsController {
  constructor(private readonly modelsService: ModelsService) {}

  @Get()
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({ summary: 'List models', description: "The project's registered models, newest first." })
  @ApiOkResponse({ type: RegisteredModelListDto })
  listModels(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<RegisteredModelListDto> {
    return this.modelsService.listModels(principal, query);
  }

  @Get(':modelName')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({ summary: 'Get a model', description: 'One registered model.' })
  @ApiOkResponse({ type: RegisteredModelDto })
  @ApiNotFoundResponse({ description: 'No such model in this project.', type: ErrorResponseDto })
  getModel(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
  ): Promise<RegisteredModelDto> {
    return this.modelsService.getModel(principal, modelName);
  }

  @Patch(':modelName')
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Update a model',
    description:
      'Descriptive fields (description, intended use, out-of-scope use, limitations, tags) with JSON merge ' +
      'semantics: an absent field is unchanged, null clears it.',
  })
  @ApiOkResponse({ type: RegisteredModelDto })
  @ApiNotFoundResponse({ description: 'No such model in this project.', type: ErrorResponseDto })
  updateModel(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Body() body: UpdateModelDto,
  ): Promise<RegisteredModelDto> {
    return this.modelsService.updateModel(principal, modelName, body);
  }

  @Get(':modelName/versions')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({ summary: 'List model versions', description: 'Versions of a model, newest first.' })
  @ApiOkResponse({ type: ModelVersionListDto })
  @ApiNotFoundResponse({ description: 'No such model in this project.', type: ErrorResponseDto })
  listModelVersions(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Query() query: PageQueryDto,
  ): Promise<ModelVersionListDto> {
    return this.modelsService.listVersions(principal, modelName, query);
  }

  @Post(':modelName/versions')
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Import a model version',
    description:
      'Imports a model from an archive sent as the raw body: a tar, tar.gz or zip of a Hugging Face GPT-2 folder ' +
      '(config.json; model.safetensors in F32, F16 or BF16; tokenizer.json, or vocab.json and merges.txt), or a ' +
      'bundle downloaded from TuneForge. Files may sit at the top of the archive or in one folder. The upload streams ' +
      'into storage and the weights are converted to float32 tensor by tensor, so models of any size import in ' +
      'constant memory. Everything is checked before the version is recorded (archive, safetensors header, tensor ' +
      'names and shapes against config.json, dtypes, offsets, NaN and Inf); a refused import stores nothing. ' +
      'The model is created on first import.',
  })
  @ApiConsumes(...MODEL_ARCHIVE_TYPES)
  @ApiBody({ description: 'The archive.', schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ description: 'The new version.', type: ModelVersionDto })
  @ApiPayloadTooLargeResponse({ description: 'Larger than MODEL_IMPORT_MAX_BYTES.', type: ErrorResponseDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not an archive media type.', type: ErrorResponseDto })
  async importModelVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ModelVersionDto> {
    try {
      return await this.modelsService.importVersion(principal, modelName, request.headers['content-type'], request);
    } catch (error) {
      // The rest of a refused upload is not read: answer, then close rather than drain gigabytes.
      if (!request.complete) {
        response.setHeader('Connection', 'close');
      }
      throw error;
    }
  }

  @Get(':modelName/versions/:version')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Get a model version',
    description: 'Manifest, files, metrics and source job of one version.',
  })
  @ApiOkResponse({ type: ModelVersionDto })
  @ApiNotFoundResponse({ description: 'No such model or version in this project.', type: ErrorResponseDto })
  getModelVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('version', positiveIntParam('version')) version: number,
  ): Promise<ModelVersionDto> {
    return this.modelsService.getVersion(principal, modelName, version);
  }

  @Delete(':modelName/versions/:version')
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Delete a model version',
    description:
      'Removes the files and keeps the row as a tombstone (state `deleted`) with its lineage and history. ' +
      'Refused (409 `model_version_in_use`, naming them) while an alias points at it or an unfinished job ' +
      'fine-tunes from it. Deleting a deleted version answers the tombstone.',
  })
  @ApiOkResponse({ type: ModelVersionDto })
  @ApiNotFoundResponse({ description: 'No such model or version in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'An alias or an unfinished job uses the version.', type: ErrorResponseDto })
  deleteModelVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('version', positiveIntParam('version')) version: number,
  ): Promise<ModelVersionDto> {
    return this.modelsService.deleteVersion(principal, modelName, version);
  }

  @Get(':modelName/versions/:version/download')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Download a model version',
    description:
      'The version as one archive (tar by default, or zip). A gpt2 version is a Hugging Face model folder that ' +
      '`transformers` loads unchanged (config.json, model.safetensors with Hugging Face names, tokenizer.json, ' +
      'tokenizer_config.json); an mlp version holds its weights and a manifest stating the preprocessing. Both ' +
      `carry TuneForge's manifest (tuneforge-manifest.json). Streamed: the weights are never held in memory.`,
  })
  @ApiProduces('application/x-tar', 'application/zip')
  @ApiOkResponse({ description: 'The archive.', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'No such model or version in this project.', type: ErrorResponseDto })
  @ApiGoneResponse({ description: '`model_version_deleted`: the version was deleted.', type: ErrorResponseDto })
  async downloadModelVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('version', positiveIntParam('version')) version: number,
    @Query() query: DownloadModelVersionQueryDto,
  ): Promise<StreamableFile> {
    const bundle = await this.modelsService.downloadVersion(principal, modelName, version, query.format ?? 'tar');
    return new StreamableFile(Readable.from(bundle.body), {
      type: bundle.contentType,
      disposition: `attachment; filename="${bundle.fileName}"`,
    });
  }
}
