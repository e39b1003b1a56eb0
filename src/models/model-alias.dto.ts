import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageOf } from '../platform/http/pagination.js';
import { INT32_MAX } from '../platform/http/params.js';
import { ALIAS_MOVE_KINDS, type AliasHistoryEntity, type AliasMoveKind } from './alias-history.entity.js';
import { GATE_KINDS, GATE_RULES_SCHEMA, type GateKind, type GateRule } from './gates/gate-rule.js';

/** An alias name: lower-case letters, digits, `_` and `-`, starting with a letter (`production`, `staging`). */
export const ALIAS_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
export const MAX_PROMOTION_REASON_LENGTH = 2000;

export class GateResultDto {
  @ApiProperty({ description: 'Rule kind.', enum: GATE_KINDS, example: 'metric' })
  kind: GateKind;

  @ApiProperty({ description: 'The rule as stored on the alias.', ...GATE_RULES_SCHEMA.items })
  rule: GateRule;

  @ApiProperty({ description: 'Whether the candidate passed it.', example: true })
  passed: boolean;

  @ApiProperty({ description: 'Why, for people.', example: 'training accuracy 0.93 meets >= 0.9' })
  detail: string;

  @ApiProperty({
    description: 'The figures the rule looked at.',
    type: 'object',
    additionalProperties: true,
    example: { metric: 'accuracy', op: '>=', threshold: 0.9, actual: 0.93 },
  })
  figures: Record<string, unknown>;
}

export class GateReportDto {
  @ApiProperty({ description: 'Every gate passed (true when the alias has none).', example: true })
  passed: boolean;

  @ApiProperty({ description: 'One result per gate, in the order the gates are stored.', type: [GateResultDto] })
  results: GateResultDto[];
}

export class AliasDto {
  @ApiProperty({ description: 'Alias name.', example: 'production' })
  name: string;

  @ApiProperty({ description: 'Model name.', example: 'sentiment' })
  modelName: string;

  @ApiProperty({
    description: 'Version it points at (at the time asked for); null when removed.',
    type: 'integer',
    nullable: true,
    example: 3,
  })
  version: number | null;

  @ApiProperty({ description: 'Id of that version.', type: String, format: 'uuid', nullable: true })
  modelVersionId: string | null;

  @ApiProperty({ description: 'When it was moved there.', type: String, format: 'date-time', nullable: true })
  movedAt: string | null;

  @ApiProperty({
    description: 'API key that moved it there.',
    type: String,
    format: 'uuid',
    nullable: true,
  })
  movedByKeyId: string | null;

  @ApiProperty({ description: 'Promotion gates (current).', ...GATE_RULES_SCHEMA })
  gates: GateRule[];
}

export class AliasListDto extends PageOf(AliasDto, 'Aliases of the model, newest first.') {}

export class AliasGatesDto {
  @ApiProperty({ description: 'Alias name.', example: 'production' })
  alias: string;

  @ApiProperty({ description: 'Rules a version must all pass to be promoted to the alias.', ...GATE_RULES_SCHEMA })
  gates: GateRule[];
}

export class AliasAtQueryDto {
  @ApiProperty({
    description: 'Time travel: where the alias pointed at this instant (ISO 8601 with a time zone).',
    required: false,
    format: 'date-time',
    example: '2026-11-28T12:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  at?: string;
}

export class PromoteDto {
  @ApiProperty({
    description: 'Version number to point the alias at.',
    type: 'integer',
    minimum: 1,
    maximum: INT32_MAX,
    example: 3,
  })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;

  @ApiProperty({
    description: 'Move even if gates fail (admin scope, and a reason, required). The report is still recorded.',
    required: false,
    default: false,
    example: false,
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;

  @ApiProperty({
    description: 'Why; recorded in the history. Required when forcing.',
    required: false,
    maxLength: MAX_PROMOTION_REASON_LENGTH,
    example: 'Hotfix for the tokenizer regression',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PROMOTION_REASON_LENGTH)
  reason?: string;
}

export class AliasHistoryEntryDto {
  @ApiProperty({ description: 'History entry id (an `alias_move` in the lineage graph).', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Alias name.', example: 'production' })
  alias: string;

  @ApiProperty({
    description:
      'promoted: moved with every gate passing; forced: moved by an admin past failing gates; blocked: refused by a gate; removed: the alias was deleted.',
    enum: ALIAS_MOVE_KINDS,
    enumName: 'AliasMoveKind',
    example: 'promoted',
  })
  kind: AliasMoveKind;

  @ApiProperty({ description: 'Version it pointed at before.', type: 'integer', nullable: true, example: 2 })
  fromVersion: number | null;

  @ApiProperty({ description: 'Id of that version.', type: String, format: 'uuid', nullable: true })
  fromVersionId: string | null;

  @ApiProperty({
    description: 'Version asked for (for a blocked attempt, the candidate); null when removed.',
    type: 'integer',
    nullable: true,
    example: 3,
  })
  toVersion: number | null;

  @ApiProperty({ description: 'Id of that version.', type: String, format: 'uuid', nullable: true })
  toVersionId: string | null;

  @ApiProperty({ description: 'API key that asked.', type: String, format: 'uuid', nullable: true })
  actorKeyId: string | null;

  @ApiProperty({ description: 'Reason given.', type: String, nullable: true, example: 'Weekly release' })
  reason: string | null;

  @ApiProperty({ description: 'Gate report of the attempt; null for removals.', type: GateReportDto, nullable: true })
  gateReport: GateReportDto | null;

  @ApiProperty({ description: 'When.', format: 'date-time' })
  createdAt: string;

  static from(entry: AliasHistoryEntity): AliasHistoryEntryDto {
    return {
      id: entry.id,
      alias: entry.aliasName,
      kind: entry.kind,
      fromVersion: entry.fromVersion,
      fromVersionId: entry.fromVersionId,
      toVersion: entry.toVersion,
      toVersionId: entry.toVersionId,
      actorKeyId: entry.actorKeyId,
      reason: entry.reason,
      gateReport: entry.gateReport,
      createdAt: entry.createdAt.toISOString(),
    };
  }
}

export class AliasHistoryListDto extends PageOf(AliasHistoryEntryDto, 'Moves and attempts, newest first.') {}

export class PromotionDto {
  @ApiProperty({ description: 'The alias after the move.', type: AliasDto })
  alias: AliasDto;

  @ApiProperty({ description: 'promoted, or forced (past failing gates).', enum: ['promoted', 'forced'] })
  kind: 'promoted' | 'forced';

  @ApiProperty({ description: 'The gate report.', type: GateReportDto })
  gateReport: GateReportDto;

  @ApiProperty({ description: 'The history entry recorded.', type: AliasHistoryEntryDto })
  historyEntry: AliasHistoryEntryDto;
}
