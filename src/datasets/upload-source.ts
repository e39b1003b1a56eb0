import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request, Response } from 'express';
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

/** How long a refused upload's connection keeps reading (and discarding) after the answer was sent. */
export const REFUSED_UPLOAD_LINGER_MS = 10_000;

/** The file of an upload request, and its size when the request states it (a raw body's Content-Length). */
export interface UploadBody {
  stream: Readable;
  declaredBytes?: number;
}

/**
 * The file of an upload request as a stream, never buffered: the raw body, or the `file` part of a
 * multipart form (the part is handed over as soon as its headers arrive).
 */
export async function uploadSource(request: Request): Promise<UploadBody> {
  const stream = await uploadStream(request);
  const declared = stream === request ? Number(request.headers['content-length']) : Number.NaN;
  return Number.isSafeInteger(declared) && declared >= 0 ? { stream, declaredBytes: declared } : { stream };
}

function uploadStream(request: Request): Promise<Readable> {
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
    // A request cut off by the client ends nothing that was piped from it: without this the file
    // part would wait for more bytes forever, and with it the upload's worker and staging file.
    request.once('close', () => {
      if (!request.complete) {
        parser.destroy(new Error('the upload was cut off before it was complete'));
      }
    });
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

/**
 * Answers a refused upload without reading the rest of its body, in a way the client can read.
 * Node destroys the socket as soon as a `Connection: close` response is flushed; with request bytes
 * still unread the kernel then resets the connection, and a client still sending can lose the
 * answer. Instead the socket stops writing (FIN) and discards what still arrives, until the client
 * closes its side or REFUSED_UPLOAD_LINGER_MS have passed.
 */
export function closeAfterAnswer(request: Request, response: Response, lingerMs = REFUSED_UPLOAD_LINGER_MS): void {
  response.setHeader('Connection', 'close');
  const socket: Socket = request.socket;
  if (socket.destroyed) {
    return;
  }
  socket.destroySoon = () => {
    const close = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(close, lingerMs);
    timer.unref();
    socket.once('end', close);
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    // Whatever still reads the body (the multipart parser, the ingest's iterator) is detached, so
    // the body flows into the void rather than filling buffers until the socket stalls.
    request.unpipe();
    request.removeAllListeners('readable');
    request.on('data', () => undefined);
    request.resume();
  };
}
