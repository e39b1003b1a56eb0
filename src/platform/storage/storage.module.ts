import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.js';
import { createArtifactStore } from './artifact-store.factory.js';
import { ArtifactStore } from './artifact-store.js';

/** Provides the ArtifactStore chosen by the configuration (APP_CONFIG comes from the global ConfigModule). */
@Global()
@Module({
  providers: [{ provide: ArtifactStore, inject: [APP_CONFIG], useFactory: createArtifactStore }],
  exports: [ArtifactStore],
})
export class StorageModule implements OnApplicationShutdown {
  private readonly logger = new Logger(StorageModule.name);

  constructor(private readonly artifactStore: ArtifactStore) {}

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.artifactStore.close();
    } catch (error) {
      this.logger.warn({ msg: 'closing the artifact store failed', error });
    }
  }
}
