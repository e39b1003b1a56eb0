import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { hasScope } from '../auth/scopes.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { paginate } from '../platform/http/pagination.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditEventDto, AuditEventListDto, ListAuditEventsQueryDto } from './audit.dto.js';

export const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuditRecord {
  action: string;
  status: number;
  targetId?: string;
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Writes the row before the response is sent, so an acknowledged call is never missing from the log. */
  async record(request: Request, principal: Principal, record: AuditRecord): Promise<void> {
    const route = (request as { route?: { path?: unknown } }).route;
    const routePath = typeof route?.path === 'string' ? route.path : request.path;
    const resource = /^\/api\/v1\/([a-z-]+)/.exec(`${request.baseUrl}${routePath}`)?.[1] ?? null;
    const targetId = record.targetId ?? firstIdParam(request.params);
    // Refused calls are audited too, and their ids may be anything the caller sent.
    await this.events.insert({
      projectId: principal.projectId,
      apiKeyId: principal.apiKeyId,
      action: storableText(record.action, 200),
      targetType: resource,
      targetId: targetId === undefined ? null : storableText(targetId, 500),
      method: storableText(request.method, 20),
      path: storableText(request.originalUrl.split('?')[0], 2000),
      status: record.status,
      requestId: storableText(request.requestId ?? 'unknown', 200),
    });
    this.logger.debug({ action: record.action, status: record.status, targetId }, 'audited');
  }

  async list(principal: Principal, query: ListAuditEventsQueryDto): Promise<AuditEventListDto> {
    const projectId = query.projectId ?? principal.projectId;
    const instanceAdmin = principal.isRootProject && hasScope(principal.scopes, 'admin');
    if (projectId !== principal.projectId && !instanceAdmin) {
      throw DomainError.notFound('Project', projectId);
    }
    const builder = this.events.createQueryBuilder('event').where('event.projectId = :projectId', { projectId });
    if (query.action) {
      builder.andWhere('event.action = :action', { action: query.action });
    }
    const page = await paginate(builder, query);
    return { data: page.data.map((event) => AuditEventDto.from(event)), nextCursor: page.nextCursor };
  }
}

/** PostgreSQL `text` cannot hold NUL: it is written as the six characters `\u0000`; long values are cut. */
export function storableText(value: string, maxLength: number): string {
  return value.replaceAll('\u0000', '\\u0000').slice(0, maxLength);
}

function firstIdParam(params: Request['params']): string | undefined {
  const entries = Object.entries(params ?? {}).filter(([name]) => name.endsWith('Id') || name === 'id');
  const value = entries[entries.length - 1]?.[1];
  return typeof value === 'string' ? value : undefined;
}
