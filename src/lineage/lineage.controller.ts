import { Controller, Get, Param, ParseEnumPipe, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { uuidParam } from '../platform/http/params.js';
import { LINEAGE_ENTITY_TYPES, type LineageEntityType } from './lineage-edge.entity.js';
import { LineageGraphDto, LineageQueryDto } from './lineage.dto.js';
import { LineageService } from './lineage.service.js';

@ApiTags('lineage')
@Controller('api/v1/lineage')
export class LineageController {
  constructor(private readonly lineageService: LineageService) {}

  @Get(':entityType/:entityId')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Get the lineage of an entity',
    description:
      'The graph of datasets versions, transforms, jobs, checkpoints, model versions and alias moves around one entity: ' +
      'upstream (what it was made from, back to the original upload), downstream (what was made from it, ' +
      'deleted data versions included) or both, up to `depth` edges away.',
  })
  @ApiParam({ name: 'entityType', enum: LINEAGE_ENTITY_TYPES, description: 'Type of the entity.' })
  @ApiOkResponse({ type: LineageGraphDto })
  @ApiNotFoundResponse({ description: 'No such entity in this project.', type: ErrorResponseDto })
  getLineage(
    @CurrentPrincipal() principal: Principal,
    @Param('entityType', new ParseEnumPipe(Object.fromEntries(LINEAGE_ENTITY_TYPES.map((type) => [type, type]))))
    entityType: LineageEntityType,
    @Param('entityId', uuidParam('entityId')) entityId: string,
    @Query() query: LineageQueryDto,
  ): Promise<LineageGraphDto> {
    return this.lineageService.getLineage(principal, entityType, entityId, query);
  }
}
