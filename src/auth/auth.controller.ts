import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiCreatedResponse,
  ApiOperation,
  ApiTags,
  ApiConflictResponse,
  ApiBadRequestResponse,
} from '@nestjs/swagger';
import { SecretResponse } from '../idempotency/secret-response.decorator.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { uuidParam } from '../platform/http/params.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import {
  ApiKeyDto,
  ApiKeyListDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  CreateProjectDto,
  ListApiKeysQueryDto,
  MeDto,
  ProjectDto,
  ProjectListDto,
} from './auth.dto.js';
import { AuthService } from './auth.service.js';
import { Authenticated, CurrentPrincipal } from './authenticated.decorator.js';
import type { Principal } from './principal.js';

@ApiTags('auth')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1')
export class AuthController {
  constructor(private readonly authService: AuthService) {}

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'Who am I', description: 'The calling API key (without its secret) and its project.' })
  @ApiOkResponse({ type: MeDto })
  getMe(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.authService.me(principal);
  }

  @Post('projects')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({
    summary: 'Create a project',
    description: 'Creates a tenant. Needs an admin key of the root project.',
  })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiConflictResponse({ description: 'The name is taken.', type: ErrorResponseDto })
  createProject(@CurrentPrincipal() principal: Principal, @Body() body: CreateProjectDto): Promise<ProjectDto> {
    return this.authService.createProject(principal, body);
  }

  @Get('projects')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({
    summary: 'List projects',
    description: "Every project for root-project admins; otherwise the caller's own.",
  })
  @ApiOkResponse({ type: ProjectListDto })
  listProjects(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<ProjectListDto> {
    return this.authService.listProjects(principal, query);
  }

  @Get('projects/:projectId')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({ summary: 'Get a project', description: 'One project, if the caller may see it.' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiNotFoundResponse({ description: 'No such project, or not visible to this key.', type: ErrorResponseDto })
  getProject(
    @CurrentPrincipal() principal: Principal,
    @Param('projectId', uuidParam('projectId')) projectId: string,
  ): Promise<ProjectDto> {
    return this.authService.getProject(principal, projectId);
  }

  @Post('api-keys')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'Returns the key with its secret, shown this once; only a hash is stored. A retry with the same `Idempotency-Key` gets the key again without its secret (`Idempotent-Redacted: secret`): no copy of the secret is kept to replay.',
  })
  @SecretResponse('secret')
  @ApiCreatedResponse({
    type: CreatedApiKeyDto,
    headers: {
      'Idempotent-Redacted': {
        description: 'On a replayed response: the fields left out because they carry a secret (`secret`).',
        schema: { type: 'string', example: 'secret' },
      },
    },
  })
  @ApiNotFoundResponse({ description: 'No such project, or not visible to this key.', type: ErrorResponseDto })
  createApiKey(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.authService.createApiKey(principal, body);
  }

  @Get('api-keys')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({
    summary: 'List API keys',
    description: "Keys of the caller's project (or, for root-project admins, of any project); never their secrets.",
  })
  @ApiOkResponse({ type: ApiKeyListDto })
  @ApiNotFoundResponse({ description: 'No such project, or not visible to this key.', type: ErrorResponseDto })
  listApiKeys(@CurrentPrincipal() principal: Principal, @Query() query: ListApiKeysQueryDto): Promise<ApiKeyListDto> {
    return this.authService.listApiKeys(principal, query);
  }

  @Get('api-keys/:apiKeyId')
  @Authenticated({ scope: 'admin' })
  @ApiOperation({ summary: 'Get an API key', description: 'One key, without its secret.' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No such key, or not visible to this key.', type: ErrorResponseDto })
  getApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('apiKeyId', uuidParam('apiKeyId')) apiKeyId: string,
  ): Promise<ApiKeyDto> {
    return this.authService.getApiKey(principal, apiKeyId);
  }

  @Delete('api-keys/:apiKeyId')
  @HttpCode(200)
  @Authenticated({ scope: 'admin' })
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'The key stops working at once. Revoking twice is harmless.',
  })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No such key, or not visible to this key.', type: ErrorResponseDto })
  revokeApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('apiKeyId', uuidParam('apiKeyId')) apiKeyId: string,
  ): Promise<ApiKeyDto> {
    return this.authService.revokeApiKey(principal, apiKeyId);
  }
}
