import type { Scope } from './scopes.js';

/** The authenticated caller, attached to the request by the bearer strategy. */
export interface Principal {
  apiKeyId: string;
  apiKeyName: string;
  projectId: string;
  projectName: string;
  /** True for keys of the root project: with `admin`, they administer the whole instance. */
  isRootProject: boolean;
  scopes: Scope[];
}

declare module 'express' {
  interface Request {
    user?: Principal;
  }
}
