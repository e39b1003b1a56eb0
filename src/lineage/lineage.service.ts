import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { DomainError } from '../platform/errors/domain-error.js';
import type { LineageEntityType } from './lineage-edge.entity.js';
import type { LineageDirection, LineageGraphDto, LineageNodeDto, LineageQueryDto } from './lineage.dto.js';
import { LineageRepository } from './lineage.repository.js';

const DEFAULT_DEPTH = 10;

@Injectable()
export class LineageService {
  constructor(private readonly repository: LineageRepository) {}

  /**
   * The lineage graph around one entity of the caller's project: upstream answers "what was this
   * model trained on, from which upload"; downstream answers "which models used this data".
   */
  async getLineage(
    principal: Principal,
    type: LineageEntityType,
    id: string,
    query: LineageQueryDto,
  ): Promise<LineageGraphDto> {
    const direction: LineageDirection = query.direction ?? 'upstream';
    const depth = query.depth ?? DEFAULT_DEPTH;
    const root = { type, id };
    const distances = new Map<string, number>();
    for (const upstream of direction === 'both' ? [true, false] : [direction === 'upstream']) {
      for (const [key, distance] of await this.repository.walk(principal.projectId, root, upstream, depth)) {
        distances.set(key, Math.min(distance, distances.get(key) ?? Infinity));
      }
    }
    const byType = new Map<LineageEntityType, string[]>();
    for (const key of distances.keys()) {
      const [nodeType, nodeId] = key.split(':') as [LineageEntityType, string];
      byType.set(nodeType, [...(byType.get(nodeType) ?? []), nodeId]);
    }
    const described = await this.repository.describe(principal.projectId, byType);
    const nodes: LineageNodeDto[] = described
      .map((node) => ({ ...node, distance: distances.get(`${node.type}:${node.id}`) ?? 0 }))
      .sort((a, b) => a.distance - b.distance || a.type.localeCompare(b.type) || a.label.localeCompare(b.label));
    const rootNode = nodes.find((node) => node.type === type && node.id === id);
    if (!rootNode) {
      // Not in this project (or not there at all): the same answer either way.
      throw DomainError.notFound(type.replace('_', ' '), id);
    }
    const keys = nodes.map((node) => `${node.type}:${node.id}`);
    const edges = await this.repository.edgesAmong(principal.projectId, keys);
    return { root: rootNode, direction, depth, nodes, edges };
  }
}
