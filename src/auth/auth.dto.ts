import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { PageOf, PageQueryDto } from '../platform/http/pagination.js';
import type { ApiKeyEntity } from './api-key.entity.js';
import type { ProjectEntity } from './project.entity.js';
import { SCOPES, type Scope } from './scopes.js';

export class CreateProjectDto {
  @ApiProperty({
    description: 'Unique project name: lowercase letters, digits and hyphens, at most 63 characters.',
    example: 'fraud-team',
  })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    message: 'name must be lowercase letters, digits and hyphens (at most 63), starting with a letter or digit',
  })
  name: string;

  @ApiProperty({
    description: 'What the project is for.',
    required: false,
    example: 'Fine-tuned classifiers for the fraud team',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ProjectDto {
  @ApiProperty({ description: 'Project id.', format: 'uuid', example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50' })
  id: string;

  @ApiProperty({ description: 'Unique project name.', example: 'fraud-team' })
  name: string;

  @ApiProperty({ description: 'What the project is for.', example: 'Fine-tuned classifiers for the fraud team' })
  description: string;

  @ApiProperty({
    description: 'Whether this is the root project, whose admin keys administer the instance.',
    example: false,
  })
  isRoot: boolean;

  @ApiProperty({
    description: 'When the project was created.',
    format: 'date-time',
    example: '2026-11-28T10:00:00.000Z',
  })
  createdAt: string;

  static from(project: ProjectEntity): ProjectDto {
    return {
      id: project.id,
      name: project.name,
      description: project.description,
      isRoot: project.isRoot,
      createdAt: project.createdAt.toISOString(),
    };
  }
}

export class ProjectListDto extends PageOf(ProjectDto, 'Projects, newest first.') {}

export class CreateApiKeyDto {
  @ApiProperty({ description: 'A name that says who or what uses the key.', example: 'ci-pipeline' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({
    description: 'What the key may do; `admin` includes every other scope of its project.',
    enum: SCOPES,
    enumName: 'Scope',
    isArray: true,
    example: ['datasets:read', 'jobs:write'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true, message: `each scope must be one of ${SCOPES.join(', ')}` })
  scopes: Scope[];

  @ApiProperty({
    description:
      "The project the key belongs to; defaults to the caller's. Other projects need a root-project admin key.",
    required: false,
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  @IsOptional()
  @IsUUID('all')
  projectId?: string;

  @ApiProperty({
    description: 'When the key stops working; never, when omitted.',
    required: false,
    format: 'date-time',
    example: '2027-06-30T00:00:00.000Z',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date;
}

export const API_KEY_STATES = ['active', 'revoked', 'expired'] as const;
export type ApiKeyState = (typeof API_KEY_STATES)[number];

export class ApiKeyDto {
  @ApiProperty({
    description: 'Key id (not the secret).',
    format: 'uuid',
    example: '7d9f0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6',
  })
  id: string;

  @ApiProperty({
    description: 'The project the key belongs to.',
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  projectId: string;

  @ApiProperty({ description: 'Name of the key.', example: 'ci-pipeline' })
  name: string;

  @ApiProperty({ description: 'The first characters of the secret, to recognise the key.', example: 'tf_Ab12Cd34' })
  displayPrefix: string;

  @ApiProperty({
    description: 'Granted scopes.',
    enum: SCOPES,
    enumName: 'Scope',
    isArray: true,
    example: ['datasets:read'],
  })
  scopes: Scope[];

  @ApiProperty({
    description: 'Whether the key works now.',
    enum: API_KEY_STATES,
    enumName: 'ApiKeyState',
    example: 'active',
  })
  state: ApiKeyState;

  @ApiProperty({ description: 'When the key was created.', format: 'date-time', example: '2026-11-28T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    description: 'When the key stops working, if ever.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  expiresAt: string | null;

  @ApiProperty({
    description: 'Last successful use, to the minute.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  lastUsedAt: string | null;

  @ApiProperty({
    description: 'When the key was revoked.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  revokedAt: string | null;

  static from(key: ApiKeyEntity, now: Date): ApiKeyDto {
    return {
      id: key.id,
      projectId: key.projectId,
      name: key.name,
      displayPrefix: key.displayPrefix,
      scopes: key.scopes as Scope[],
      state: key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : 'active',
      createdAt: key.createdAt.toISOString(),
      expiresAt: key.expiresAt?.toISOString() ?? null,
      lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
      revokedAt: key.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    description:
      'The key itself. Shown this once: only its hash is stored. Absent from a response replayed for a retried `Idempotency-Key`.',
    example: 'tf_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90',
    required: false,
  })
  secret?: string;
}

export class ApiKeyListDto extends PageOf(ApiKeyDto, 'Keys, newest first.') {}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiProperty({
    description: "Project whose keys to list; defaults to the caller's.",
    required: false,
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  @IsOptional()
  @IsUUID('all')
  projectId?: string;
}

export class MeDto {
  @ApiProperty({ description: 'The key making this call.', type: ApiKeyDto })
  apiKey: ApiKeyDto;

  @ApiProperty({ description: 'The project the key belongs to.', type: ProjectDto })
  project: ProjectDto;
}
