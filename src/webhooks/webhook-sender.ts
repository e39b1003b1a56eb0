import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { AddressRefusedError, guardedLookup, isAddressPermitted } from './webhook-address-policy.js';

/** The most of a response body kept per attempt. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface OutgoingDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type SendResult =
  | { kind: 'response'; status: number; excerpt: string; error?: undefined }
  | { kind: 'error'; error: string; excerpt?: undefined; status?: undefined };

/**
 * Sends one delivery over HTTP(S): a POST with a time limit on the whole exchange, never following
 * redirects, connecting only to addresses the policy permits (checked after DNS, at connect time).
 * Reads at most RESPONSE_EXCERPT_BYTES of the answer and drops the rest.
 */
@Injectable()
export class WebhookSender {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  send(delivery: OutgoingDelivery, signal?: AbortSignal): Promise<SendResult> {
    const allowPrivate = this.config.webhooks.allowPrivateAddresses;
    let url: URL;
    try {
      url = new URL(delivery.url);
    } catch {
      return Promise.resolve({ kind: 'error', error: 'the URL is not valid' });
    }
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !isAddressPermitted(literal, allowPrivate)) {
      return Promise.resolve({ kind: 'error', error: new AddressRefusedError(literal, literal).message });
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(result);
        }
      };
      const request = transport.request(url, {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(allowPrivate),
        headers: { ...delivery.headers, 'Content-Length': String(Buffer.byteLength(delivery.body)) },
      });
      const fail = (message: string) => {
        finish({ kind: 'error', error: message });
        request.destroy();
      };
      const timer = setTimeout(
        () => fail(`no answer within ${this.config.webhooks.timeoutMs} ms`),
        this.config.webhooks.timeoutMs,
      );
      const onAbort = () => fail('the replica stopped while sending');
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', error: describeError(error) }));
      request.on('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          finish({
            kind: 'response',
            status: response.statusCode ?? 0,
            excerpt: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'),
          });
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= RESPONSE_EXCERPT_BYTES) {
            done();
          }
        });
        response.on('end', done);
        response.on('error', done);
      });
      request.end(delivery.body);
    });
  }
}

function describeError(error: NodeJS.ErrnoException): string {
  const text = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return text.slice(0, 500);
}
