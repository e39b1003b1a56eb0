/** Machine-readable reasons an ArtifactStore call failed; services map them to domain errors. */
export enum ArtifactStoreErrorCode {
  NotFound = 'artifact_not_found',
  TooLarge = 'artifact_too_large',
  InvalidKey = 'invalid_artifact_key',
  /** A folder-store key that is also a prefix of other keys, or the reverse (`a` and `a/b`). */
  KeyConflict = 'artifact_key_conflict',
  /** The backend (file system or S3) failed or is unreachable; `cause` holds its error. */
  BackendFailure = 'artifact_backend_failure',
}

/** Base class of every error an ArtifactStore throws on its own account. */
export class ArtifactStoreError extends Error {
  constructor(
    readonly code: ArtifactStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ArtifactNotFoundError extends ArtifactStoreError {
  constructor(readonly key: string) {
    super(ArtifactStoreErrorCode.NotFound, `Artifact ${describeKey(key)} was not found`);
  }
}

export class ArtifactTooLargeError extends ArtifactStoreError {
  constructor(readonly maxBytes: number) {
    super(ArtifactStoreErrorCode.TooLarge, `Artifact is larger than the limit of ${maxBytes} bytes`);
  }
}

export class InvalidArtifactKeyError extends ArtifactStoreError {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(ArtifactStoreErrorCode.InvalidKey, `Invalid artifact key ${describeKey(key)}: ${reason}`);
  }
}

/** Keys are not secret, but a rejected one may be long or hold control characters. */
function describeKey(key: string): string {
  const shown = key.length > 120 ? `${key.slice(0, 120)}…` : key;
  return JSON.stringify(shown);
}
