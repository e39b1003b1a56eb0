/** Machine-readable error codes. Clients switch on these; the messages are for people. */
export enum ErrorCode {
  ValidationFailed = 'validation_failed',
  MalformedJson = 'malformed_json',
  /** An uploaded file that cannot be read at all (corrupt or truncated gzip, unknown format, no CSV header). */
  UnreadableFile = 'unreadable_file',
  /** An uploaded file without a single data row (0 bytes, blank lines, or a CSV header alone). */
  EmptyFile = 'empty_file',
  /** A request that is well-formed but cannot be done in the resource's current state. */
  InvalidState = 'invalid_state',
  PayloadTooLarge = 'payload_too_large',
  /** A dataset transform whose output would pass TRANSFORM_MAX_OUTPUT_ROWS or TRANSFORM_MAX_OUTPUT_BYTES. */
  TransformOutputTooLarge = 'transform_output_too_large',
  /** A training job whose memory estimate exceeds a trainer slot's budget. */
  ExceedsMemoryBudget = 'exceeds_memory_budget',
  /** An evaluation whose data or baseline cannot be scored by the model (task, fields, labels). */
  IncompatibleData = 'incompatible_data',
  UnsupportedMediaType = 'unsupported_media_type',
  Unauthenticated = 'unauthenticated',
  InsufficientScope = 'insufficient_scope',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  RouteNotFound = 'route_not_found',
  MethodNotAllowed = 'method_not_allowed',
  Conflict = 'conflict',
  RateLimited = 'rate_limited',
  ServiceUnavailable = 'service_unavailable',
  Internal = 'internal_error',
}

export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
    case ErrorCode.MalformedJson:
    case ErrorCode.UnreadableFile:
    case ErrorCode.EmptyFile:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.InsufficientScope:
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
    case ErrorCode.RouteNotFound:
      return 404;
    case ErrorCode.MethodNotAllowed:
      return 405;
    case ErrorCode.Conflict:
    case ErrorCode.InvalidState:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.ExceedsMemoryBudget:
    case ErrorCode.TransformOutputTooLarge:
    case ErrorCode.IncompatibleData:
      return 422;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.ServiceUnavailable:
      return 503;
    case ErrorCode.Internal:
      return 500;
    default:
      return assertUnreachable(code);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
