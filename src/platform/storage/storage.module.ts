import { Global, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.js';
import { createArtifactStore } from './artifact-store.factory.js';
import { ArtifactStore } from './artifact-store.js';

/** Provides the ArtifactStore chosen by the configuration (APP_CONFIG comes from the global ConfigModule). */
@Global()
@Module({
  providers: [{ provide: ArtifactStore, inject: [APP_CONFIG], useFactory: createArtifactStore }],
  exports: [ArtifactStore],
})
export class StorageModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageModule.name);

  constructor(private readonly artifactStore: ArtifactStore) {}

  /** Leftovers of uploads cut short by a crash go at start; a failure here must not stop the start. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const removed = await this.artifactStore.removeAbandonedUploads();
      if (removed > 0) {
        this.logger.log({ msg: 'removed uploads abandoned by a crashed process', count: removed });
      }
    } catch (error) {
      this.logger.warn({ msg: 'could not remove abandoned uploads', error });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.artifactStore.close();
    } catch (error) {
      this.logger.warn({ msg: 'closing the artifact store failed', error });
    }
  }
}
