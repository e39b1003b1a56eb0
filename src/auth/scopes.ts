/** What an API key may do. `admin` includes every other scope of its project. */
export const SCOPES = [
  'datasets:read',
  'datasets:write',
  'jobs:read',
  'jobs:write',
  'models:read',
  'models:write',
  'metrics:read',
  'webhooks:read',
  'webhooks:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes only keys of the root project may hold: they reach beyond one project. */
export const INSTANCE_SCOPES: readonly Scope[] = ['metrics:read'];

export function hasScope(granted: readonly string[], required: Scope): boolean {
  return granted.includes('admin') || granted.includes(required);
}
