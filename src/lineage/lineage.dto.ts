import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  LINEAGE_ENTITY_TYPES,
  LINEAGE_RELATIONS,
  type LineageEntityType,
  type LineageRelation,
} from './lineage-edge.entity.js';

export const LINEAGE_DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type LineageDirection = (typeof LINEAGE_DIRECTIONS)[number];
export const MAX_LINEAGE_DEPTH = 50;

export class LineageQueryDto {
  @ApiProperty({
    description:
      'upstream: what this was made from (data, base models, parents); downstream: what was made from it; both.',
    enum: LINEAGE_DIRECTIONS,
    required: false,
    default: 'upstream',
    example: 'upstream',
  })
  @IsOptional()
  @IsIn(LINEAGE_DIRECTIONS)
  direction?: LineageDirection;

  @ApiProperty({
    description: 'How many edges away from the entity to go.',
    required: false,
    type: 'integer',
    minimum: 1,
    maximum: MAX_LINEAGE_DEPTH,
    default: 10,
    example: 10,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LINEAGE_DEPTH)
  depth?: number;
}

export class LineageNodeDto {
  @ApiProperty({ description: 'Entity type.', enum: LINEAGE_ENTITY_TYPES, example: 'dataset_version' })
  type: LineageEntityType;

  @ApiProperty({ description: 'Entity id.', format: 'uuid' })
  id: string;

  @ApiProperty({
    description: 'A readable name: dataset and version, model and version, job name.',
    example: 'reviews v1',
  })
  label: string;

  @ApiProperty({
    description: 'State where the entity has one (a deleted dataset version stays in the graph as a tombstone).',
    example: 'ready',
    nullable: true,
    type: 'string',
  })
  state: string | null;

  @ApiProperty({ description: 'Edges from the entity asked about (0 for itself).', example: 1 })
  distance: number;

  @ApiProperty({
    description: 'Fields that locate the entity: datasetId and version, modelName and version, jobId, step.',
    type: 'object',
    additionalProperties: true,
    example: { datasetId: '8d4f0c2e-3b1a-4c5d-9e6f-7a8b9c0d1e2f', version: 1 },
  })
  attributes: Record<string, unknown>;
}

export class LineageEdgeDto {
  @ApiProperty({ description: 'Type of the entity the edge starts at.', enum: LINEAGE_ENTITY_TYPES })
  fromType: LineageEntityType;

  @ApiProperty({ description: 'Id of the entity the edge starts at.', format: 'uuid' })
  fromId: string;

  @ApiProperty({ description: 'Type of the entity the edge ends at.', enum: LINEAGE_ENTITY_TYPES })
  toType: LineageEntityType;

  @ApiProperty({ description: 'Id of the entity the edge ends at.', format: 'uuid' })
  toId: string;

  @ApiProperty({
    description:
      'trained_on, validated_on (data -> job), fine_tuned_from (base model -> job), produced (job -> model version or checkpoint), derived_from (parent -> transformed dataset version), promoted_to (model version -> the alias move that pointed an alias at it).',
    enum: LINEAGE_RELATIONS,
  })
  relation: LineageRelation;
}

export class LineageGraphDto {
  @ApiProperty({ description: 'The entity asked about.', type: LineageNodeDto })
  root: LineageNodeDto;

  @ApiProperty({ description: 'Direction walked.', enum: LINEAGE_DIRECTIONS })
  direction: LineageDirection;

  @ApiProperty({ description: 'Depth walked.', example: 10 })
  depth: number;

  @ApiProperty({ description: 'Every entity reached, the root first, then by distance.', type: [LineageNodeDto] })
  nodes: LineageNodeDto[];

  @ApiProperty({ description: 'Edges between the entities reached.', type: [LineageEdgeDto] })
  edges: LineageEdgeDto[];
}
