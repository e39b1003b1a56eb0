import type { Type as ClassType } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DomainError } from '../errors/domain-error.js';

/**
 * A query parameter read as an integer: only plain decimal digits (optionally signed) convert, so
 * `0x10`, ` 5`, `5 `, `1e3` and `5.0` stay strings and fail `@IsInt()` with a 400 naming the field.
 */
export function IntegerQuery(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : value,
  );
}

const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;
const CURSOR_TIMESTAMP = /^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class PageQueryDto {
  @ApiProperty({
    description: 'Items per page.',
    type: 'integer',
    minimum: 1,
    maximum: 200,
    default: 50,
    required: false,
    example: 50,
  })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiProperty({
    description: 'The `nextCursor` of the previous page; omit for the first page.',
    required: false,
    maxLength: 200,
    pattern: CURSOR_PATTERN.source,
    example: 'MjAyNi0xMS0yOFQwMDowMDowMC4wMDBafDNmMWM3YTUy',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(CURSOR_PATTERN, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}

/**
 * Only what encodeCursor writes is accepted: a canonical ISO timestamp that round-trips (so no
 * February 30th, no expanded years, no bare numbers that JavaScript reads leniently and PostgreSQL
 * refuses) and a lower-case UUID.
 */
export function decodeCursor(cursor: string): Cursor {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [timestamp, id] = parts;
  const createdAt = new Date(timestamp ?? '');
  const valid =
    parts.length === 2 &&
    CURSOR_TIMESTAMP.test(timestamp) &&
    !Number.isNaN(createdAt.getTime()) &&
    createdAt.toISOString() === timestamp &&
    CURSOR_ID.test(id);
  if (!valid) {
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
