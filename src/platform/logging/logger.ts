import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/config.js';
import { requestContext } from './request-context.js';

/** Paths that may hold secrets; pino replaces them before anything is written. */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'secret',
  'token',
  'apiKey',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'tuneforge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const context = requestContext.getStore();
        return context
          ? { requestId: context.requestId, projectId: context.projectId, apiKeyId: context.apiKeyId }
          : {};
      },
    },
    destination,
  );
}

/** Nest's logger interface over pino, so framework and app logs are one JSON stream. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}

  log(message: unknown, ...optional: unknown[]): void {
    this.write('info', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('trace', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }
  setLogLevels(_levels: NestLogLevel[]): void {
    // The level comes from LOG_LEVEL alone.
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    optional: unknown[],
  ): void {
    // Nest appends the logger's context (the class name) last. Before it may come a message, when
    // the first argument is an object of fields (`logger.log({ id }, 'created')`), or a stack trace.
    const context =
      optional.length > 0 && typeof optional[optional.length - 1] === 'string' ? optional.pop() : undefined;
    const text = typeof optional[0] === 'string' ? optional[0] : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, text ?? message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...message }, text);
    } else {
      this.logger[level]({ context, stack: level === 'error' ? text : undefined }, String(message));
    }
  }
}
