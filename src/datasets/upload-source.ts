import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';

/** Content types an upload may be sent as (raw body), besides multipart/form-data with a `file` field. */
export const RAW_UPLOAD_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/jsonlines',
  'text/csv',
  'text/plain',
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
];

/**
 * The file of an upload request as a stream, never buffered: the raw body, or the `file` part of a
 * multipart form (the part is handed over as soon as its headers arrive).
 */
export function uploadSource(request: Request): Promise<Readable> {
  const contentType = (request.headers['content-type'] ?? 'application/octet-stream')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (contentType === 'multipart/form-data') {
    return multipartFile(request);
  }
  if (contentType === 'application/json') {
    return Promise.reject(
      new DomainError(
        ErrorCode.UnsupportedMediaType,
        'Send JSON Lines as application/x-ndjson (application/json is read as one JSON document)',
      ),
    );
  }
  if (!RAW_UPLOAD_TYPES.includes(contentType)) {
    return Promise.reject(
      new DomainError(ErrorCode.UnsupportedMediaType, `Content-Type ${contentType} is not an accepted upload type`, [
        { reason: `use one of ${[...RAW_UPLOAD_TYPES, 'multipart/form-data'].join(', ')}` },
      ]),
    );
  }
  return Promise.resolve(request);
}

function multipartFile(request: Request): Promise<Readable> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch (error) {
      reject(
        DomainError.validation(`Malformed multipart upload: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    let found = false;
    parser.on('file', (name, stream) => {
      if (name !== 'file' || found) {
        stream.resume();
        return;
      }
      found = true;
      resolve(stream);
    });
    parser.on('error', (error: Error) => {
      if (!found) {
        reject(DomainError.validation(`Malformed multipart upload: ${error.message}`));
      }
    });
    parser.on('close', () => {
      if (!found) {
        reject(
          DomainError.validation('The multipart upload has no `file` part', [{ field: 'file', reason: 'missing' }]),
        );
      }
    });
    request.pipe(parser);
  });
}
