import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { PageOf, PageQueryDto } from '../platform/http/pagination.js';
import type { AuditEventEntity } from './audit-event.entity.js';

export class AuditEventDto {
  @ApiProperty({ description: 'Event id.', format: 'uuid', example: '5b1d2c3e-4f50-4a1b-8c2d-3e4f5a6b7c8d' })
  id: string;

  @ApiProperty({
    description: 'Project the call acted in.',
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  projectId: string;

  @ApiProperty({
    description: 'The key that made the call.',
    format: 'uuid',
    type: String,
    nullable: true,
    example: '7d9f0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6',
  })
  apiKeyId: string | null;

  @ApiProperty({ description: 'The operation (its operationId).', example: 'createApiKey' })
  action: string;

  @ApiProperty({ description: 'Kind of resource acted on.', type: String, nullable: true, example: 'api-keys' })
  targetType: string | null;

  @ApiProperty({
    description: 'Id of the resource acted on.',
    type: String,
    nullable: true,
    example: '7d9f0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6',
  })
  targetId: string | null;

  @ApiProperty({ description: 'HTTP method.', example: 'POST' })
  method: string;

  @ApiProperty({ description: 'Request path.', example: '/api/v1/api-keys' })
  path: string;

  @ApiProperty({ description: 'HTTP status of the response.', example: 201 })
  status: number;

  @ApiProperty({
    description: 'Request id, as in logs and the X-Request-Id header.',
    example: '3f1c7a52-9c1e-4a55-9d55-0d1d7a8f2b1e',
  })
  requestId: string;

  @ApiProperty({ description: 'When the call was made.', format: 'date-time', example: '2026-11-28T10:00:00.000Z' })
  createdAt: string;

  static from(event: AuditEventEntity): AuditEventDto {
    return {
      id: event.id,
      projectId: event.projectId,
      apiKeyId: event.apiKeyId,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      method: event.method,
      path: event.path,
      status: event.status,
      requestId: event.requestId,
      createdAt: event.createdAt.toISOString(),
    };
  }
}

export class AuditEventListDto extends PageOf(AuditEventDto, 'Events, newest first.') {}

export class ListAuditEventsQueryDto extends PageQueryDto {
  @ApiProperty({
    description: "Project whose events to list; defaults to the caller's (others need a root-project admin key).",
    required: false,
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  @IsOptional()
  @IsUUID('all')
  projectId?: string;

  @ApiProperty({ description: 'Only events of this operation.', required: false, example: 'revokeApiKey' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{1,100}$/)
  action?: string;
}
