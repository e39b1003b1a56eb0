import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DomainError } from '../errors/domain-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import { fromBodyParser, isBodyParserError } from '../errors/global-exception.filter.js';

/**
 * The deepest nesting of objects and arrays a JSON body may have. The deepest request DTO is far
 * shallower; a bound keeps deeply nested bodies from overflowing the stack in the recursive
 * transformers and validators that run after parsing.
 */
export const JSON_MAX_DEPTH = 64;

/** A route whose body is a streamed file: never parsed as JSON (an upload sent as application/json gets 415). */
export interface RawBodyRoute {
  method: string;
  path: RegExp;
}

/**
 * The operations whose spec declares a request body that cannot be JSON (uploads): the document says
 * which bodies the app streams itself, so a new upload route needs no change here.
 */
export function rawBodyRoutesOf(document: OpenAPIObject): RawBodyRoute[] {
  const routes: RawBodyRoute[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of ['post', 'put', 'patch'] as const) {
      const body = item[method]?.requestBody;
      const types = body && 'content' in body ? Object.keys(body.content) : [];
      if (types.length > 0 && !types.includes('application/json')) {
        const pattern = template
          .split(/\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('[^/]+');
        routes.push({ method: method.toUpperCase(), path: new RegExp(`^${pattern}/?$`) });
      }
    }
  }
  return routes;
}

export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';

  constructor(readonly limit: number) {
    super(`The JSON body is nested more than ${limit} levels deep`);
  }
}

/** The deepest nesting of `[` and `{` outside strings, scanning the raw bytes without parsing them. */
export function jsonNestingDepth(body: Uint8Array, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < body.length; index++) {
    const byte = body[index];
    if (inString) {
      if (byte === 0x5c) {
        index++;
      } else if (byte === 0x22) {
        inString = false;
      }
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) {
          return deepest;
        }
      }
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function isRawBodyRoute(request: IncomingMessage, routes: readonly RawBodyRoute[]): boolean {
  const path = (request.url ?? '').split('?')[0];
  return routes.some((route) => route.method === request.method && route.path.test(path));
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Every body the API reads is JSON, except a streamed upload's: any other body is a 415 rather than
 * being ignored and reported as missing fields.
 */
export function refuseNonJsonBodies(rawBodyRoutes: readonly RawBodyRoute[]) {
  return (request: IncomingMessage, _response: ServerResponse, next: (error?: unknown) => void): void => {
    if (
      BODY_METHODS.has(request.method ?? '') &&
      hasBody(request) &&
      mediaType(request) !== 'application/json' &&
      !isRawBodyRoute(request, rawBodyRoutes)
    ) {
      next(
        new DomainError(
          ErrorCode.UnsupportedMediaType,
          `Content-Type ${mediaType(request) || '(none)'} is not accepted: send application/json`,
          [{ field: 'Content-Type', reason: 'must be application/json' }],
        ),
      );
      return;
    }
    next();
  };
}

/**
 * Options for Express's JSON body parser: the size limit, the depth bound, no parsing of streamed
 * uploads, and none of GET bodies (no operation reads them).
 */
export function jsonBodyParserOptions(limit: string | number, rawBodyRoutes: readonly RawBodyRoute[]) {
  return {
    limit,
    type: (request: IncomingMessage) =>
      BODY_METHODS.has(request.method ?? '') &&
      mediaType(request) === 'application/json' &&
      !isRawBodyRoute(request, rawBodyRoutes),
    verify: (_request: IncomingMessage, _response: unknown, body: Buffer) => {
      if (jsonNestingDepth(body, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
        throw new JsonTooDeepError(JSON_MAX_DEPTH);
      }
    },
  };
}

/** Stands in for a body that could not be parsed; the validation pipe throws its error. */
export class RejectedBody {
  constructor(readonly error: DomainError) {}
}

const DEFERRED_BODY_ERRORS = new Set(['entity.parse.failed', 'entity.too.deep']);

/**
 * A body that is not valid JSON, or nested too deeply, is refused where the operation reads its
 * body (the validation pipe) rather than here, so the key is checked first and the refused call is
 * audited like any other. Whatever else the parser reports is answered at once.
 */
export function deferBodyErrors() {
  return (
    error: unknown,
    request: IncomingMessage & { body?: unknown },
    _response: ServerResponse,
    next: (error?: unknown) => void,
  ): void => {
    if (isBodyParserError(error) && DEFERRED_BODY_ERRORS.has(error.type)) {
      request.body = new RejectedBody(fromBodyParser(error));
      next();
      return;
    }
    next(error);
  };
}
