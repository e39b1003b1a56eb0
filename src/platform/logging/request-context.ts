import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
  apiKeyId?: string;
  projectId?: string;
}

/** Carries the request id (and, once authenticated, the caller) through async calls, for logs. */
export const requestContext = new AsyncLocalStorage<RequestContext>();
