import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import { patternParam, positiveIntParam } from '../platform/http/params.js';
import {
  MODEL_NAME_PATTERN,
  ModelVersionDto,
  ModelVersionListDto,
  RegisteredModelDto,
  RegisteredModelListDto,
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
}
