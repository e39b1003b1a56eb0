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
  /** A model version that was deleted: its row remains, its files are gone. */
  ModelVersionDeleted = 'model_version_deleted',
  /** A model version that an alias or an unfinished job still uses. */
  ModelVersionInUse = 'model_version_in_use',
  /** A promotion that failed one or more of the alias's gates; details hold the gate report. */
  PromotionBlocked = 'promotion_blocked',
  /** A model alias that does not exist or points at no version. */
  AliasNotFound = 'alias_not_found',
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
    case ErrorCode.AliasNotFound:
      return 404;
    case ErrorCode.MethodNotAllowed:
      return 405;
    case ErrorCode.Conflict:
    case ErrorCode.InvalidState:
    case ErrorCode.ModelVersionInUse:
    case ErrorCode.PromotionBlocked:
      return 409;
    case ErrorCode.ModelVersionDeleted:
      return 410;
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
