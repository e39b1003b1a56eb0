import path from 'node:path';
import type { AppConfig } from '../config/config.js';
import type { ArtifactStore } from './artifact-store.js';
import { FolderArtifactStore } from './folder-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

/** S3 when the configuration names a bucket, otherwise the folder DATA_DIR/artifacts. */
export function createArtifactStore(config: AppConfig): ArtifactStore {
  return config.s3 ? new S3ArtifactStore(config.s3) : new FolderArtifactStore(path.join(config.dataDir, 'artifacts'));
}
