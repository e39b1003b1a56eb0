import type { Type as ClassType } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DomainError } from '../errors/domain-error.js';

export class PageQueryDto {
  @ApiProperty({ description: 'Items per page.', minimum: 1, maximum: 200, default: 50, required: false, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiProperty({
    description: 'The `nextCursor` of the previous page; omit for the first page.',
    required: false,
    example: 'MjAyNi0xMS0yOFQwMDowMDowMC4wMDBafDNmMWM3YTUy',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw DomainError.validation('The cursor is invalid', [
      { field: 'cursor', reason: 'not a cursor returned by this API' },
    ]);
  }
  return { createdAt, id };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Newest first, keyset-paginated on (created_at, id): stable under inserts, one index scan a page. */
export async function paginate<T extends ObjectLiteral & { createdAt: Date; id: string }>(
  query: SelectQueryBuilder<T>,
  page: PageQueryDto,
): Promise<Page<T>> {
  const alias = query.alias;
  const limit = page.limit ?? 50;
  if (page.cursor) {
    const cursor = decodeCursor(page.cursor);
    query.andWhere(`(${alias}.createdAt, ${alias}.id) < (:cursorCreatedAt, :cursorId)`, {
      cursorCreatedAt: cursor.createdAt,
      cursorId: cursor.id,
    });
  }
  const rows = await query
    .orderBy(`${alias}.createdAt`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .take(limit + 1)
    .getMany();
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** The response of a list endpoint: a page of `item` and the cursor of the next one. */
export function PageOf<T>(item: ClassType<T>, description: string) {
  class PageDto {
    @ApiProperty({ description, type: [item] })
    data: T[];

    @ApiProperty({
      description: 'Cursor of the next page; null on the last page.',
      type: String,
      nullable: true,
      example: null,
    })
    nextCursor: string | null;
  }
  return PageDto;
}
