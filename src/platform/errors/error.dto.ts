import { ApiProperty } from '@nestjs/swagger';
import { ErrorCode } from './error-codes.js';

export class ErrorDetailDto {
  @ApiProperty({
    description: 'Dotted path of the failing field, where the error is about one.',
    example: 'scopes.0',
    required: false,
  })
  field?: string;

  @ApiProperty({
    description: 'Why the field or item failed.',
    example: 'must be one of datasets:read, datasets:write',
  })
  reason: string;
}

/** The one error shape of the whole API. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'HTTP status code, repeated for clients that lose it.', example: 400 })
  status: number;

  @ApiProperty({
    description: 'Machine-readable error code.',
    enum: ErrorCode,
    enumName: 'ErrorCode',
    example: ErrorCode.ValidationFailed,
  })
  code: ErrorCode;

  @ApiProperty({ description: 'Human-readable explanation.', example: 'The request body is invalid' })
  message: string;

  @ApiProperty({ description: 'Failing fields or items.', type: [ErrorDetailDto] })
  details: ErrorDetailDto[];

  @ApiProperty({
    description: 'The request id, also in the X-Request-Id header; quote it in bug reports.',
    example: '3f1c7a52-9c1e-4a55-9d55-0d1d7a8f2b1e',
  })
  requestId: string;
}
