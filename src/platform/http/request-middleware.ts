import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger as PinoLogger } from 'pino';
import { requestContext } from '../logging/request-context.js';
import type { MetricsService } from '../metrics/metrics.service.js';

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

declare module 'express' {
  interface Request {
    requestId?: string;
  }
}

/**
 * First middleware of every request: picks the request id (the caller's X-Request-Id when it is
 * sane, else a new UUID), opens the async context that logs read it from, and on finish writes one
 * access-log line and the duration histogram sample (by route template, never by raw path).
 */
export function requestMiddleware(logger: PinoLogger, metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const context = { requestId };
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeTemplate(req);
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      requestContext.run(context, () => {
        logger.info(
          { method: req.method, route, path: req.path, status: res.statusCode, durationMs: Math.round(seconds * 1000) },
          'request completed',
        );
      });
    });
    requestContext.run(context, next);
  };
}

function routeTemplate(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') {
    return `${req.baseUrl}${route.path}`;
  }
  return 'unmatched';
}
