import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import { patternParam } from '../platform/http/params.js';
import { PutGatesDto } from './gates/gate-rule.js';
import {
  ALIAS_NAME_PATTERN,
  AliasAtQueryDto,
  AliasDto,
  AliasGatesDto,
  AliasHistoryEntryDto,
  AliasHistoryListDto,
  AliasListDto,
  PromoteDto,
  PromotionDto,
} from './model-alias.dto.js';
import { MODEL_NAME_PATTERN } from './model.dto.js';
import { ModelAliasesService } from './model-aliases.service.js';

const modelNameParam = patternParam(
  'modelName',
  MODEL_NAME_PATTERN,
  'must be 1-100 letters, digits, dots, underscores or hyphens',
);
const aliasParam = patternParam(
  'alias',
  ALIAS_NAME_PATTERN,
  'must be 1-63 lower-case letters, digits, underscores or hyphens, starting with a letter',
);
const NO_MODEL = 'No such model (or alias) in this project.';

@ApiTags('models')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1/models/:modelName/aliases')
export class ModelAliasesController {
  constructor(private readonly aliasesService: ModelAliasesService) {}

  @Get()
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'List aliases',
    description: 'Aliases of a model (including removed ones, which point at no version), with their gates.',
  })
  @ApiOkResponse({ type: AliasListDto })
  @ApiNotFoundResponse({ description: 'No such model in this project.', type: ErrorResponseDto })
  listAliases(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Query() query: PageQueryDto,
  ): Promise<AliasListDto> {
    return this.aliasesService.listAliases(principal, modelName, query);
  }

  @Get(':alias')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Get an alias',
    description:
      'The version the alias points at, or with `at` the version it pointed at at that instant (time travel). ' +
      '404 when it pointed at nothing then.',
  })
  @ApiOkResponse({ type: AliasDto })
  @ApiNotFoundResponse({ description: NO_MODEL, type: ErrorResponseDto })
  getAlias(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
    @Query() query: AliasAtQueryDto,
  ): Promise<AliasDto> {
    return this.aliasesService.getAlias(principal, modelName, alias, query.at);
  }

  @Delete(':alias')
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Remove an alias',
    description: 'The alias stops pointing at any version; its gates and history stay. Answers the history entry.',
  })
  @ApiOkResponse({ type: AliasHistoryEntryDto })
  @ApiNotFoundResponse({ description: 'No such model, or the alias points at no version.', type: ErrorResponseDto })
  removeAlias(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
  ): Promise<AliasHistoryEntryDto> {
    return this.aliasesService.removeAlias(principal, modelName, alias);
  }

  @Get(':alias/history')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'List alias history',
    description: 'Every move and attempt (promoted, forced, blocked, removed), newest first, with gate reports.',
  })
  @ApiOkResponse({ type: AliasHistoryListDto })
  @ApiNotFoundResponse({ description: NO_MODEL, type: ErrorResponseDto })
  listAliasHistory(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
    @Query() query: PageQueryDto,
  ): Promise<AliasHistoryListDto> {
    return this.aliasesService.listHistory(principal, modelName, alias, query);
  }

  @Get(':alias/gates')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({ summary: 'Get promotion gates', description: 'The rules a version must pass to be promoted.' })
  @ApiOkResponse({ type: AliasGatesDto })
  @ApiNotFoundResponse({ description: NO_MODEL, type: ErrorResponseDto })
  getAliasGates(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
  ): Promise<AliasGatesDto> {
    return this.aliasesService.getGates(principal, modelName, alias);
  }

  @Put(':alias/gates')
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Set promotion gates',
    description: 'Replaces the rules; creates the alias (pointing at no version) if it does not exist.',
  })
  @ApiOkResponse({ type: AliasGatesDto })
  @ApiNotFoundResponse({ description: 'No such model in this project.', type: ErrorResponseDto })
  putAliasGates(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
    @Body() body: PutGatesDto,
  ): Promise<AliasGatesDto> {
    return this.aliasesService.putGates(principal, modelName, alias, body.gates);
  }

  @Post(':alias/promote')
  @HttpCode(200)
  @Authenticated({ scope: 'models:write' })
  @ApiOperation({
    summary: 'Promote a version to an alias',
    description:
      'Runs every gate of the alias against the version and moves the alias only if all pass (200 with the report). ' +
      'Otherwise 409 `promotion_blocked`, one detail per gate (field `gates.N`, reason, kind, passed, figures), and ' +
      'the attempt is recorded as blocked. `force: true` with a reason (admin scope) moves it anyway, recorded as ' +
      'forced with the report. The alias is created on first promotion.',
  })
  @ApiOkResponse({ type: PromotionDto })
  @ApiNotFoundResponse({ description: 'No such model or version in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({
    description: '`promotion_blocked`: a gate failed; details hold the report.',
    type: ErrorResponseDto,
  })
  @ApiGoneResponse({ description: '`model_version_deleted`: the version was deleted.', type: ErrorResponseDto })
  promoteAlias(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Param('alias', aliasParam) alias: string,
    @Body() body: PromoteDto,
  ): Promise<PromotionDto> {
    return this.aliasesService.promote(principal, modelName, alias, body);
  }
}
