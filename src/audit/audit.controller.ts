import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { AuditEventListDto, ListAuditEventsQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@Controller('api/v1/audit-events')
export class AuditController {
  constructor(private readonly auditService: AuditService) {}

  @Get()
  @Authenticated({ scope: 'admin' })
  @ApiOperation({ summary: 'List audit events', description: 'Every mutating call of the project, newest first.' })
  @ApiOkResponse({ type: AuditEventListDto })
  @ApiNotFoundResponse({ description: 'No such project, or not visible to this key.', type: ErrorResponseDto })
  listAuditEvents(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListAuditEventsQueryDto,
  ): Promise<AuditEventListDto> {
    return this.auditService.list(principal, query);
  }
}
