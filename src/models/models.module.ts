import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LineageEdgeEntity } from '../lineage/lineage-edge.entity.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ModelBundleExporter } from './model-export.js';
import { ModelImporter } from './model-import.js';
import { ModelRegistryRepository } from './model-registry.repository.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { ModelsController } from './models.controller.js';
import { ModelsService } from './models.service.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredModelEntity, ModelVersionEntity, LineageEdgeEntity]), WebhooksModule],
  controllers: [ModelsController],
  providers: [ModelsService, ModelRegistryRepository, ModelBundleExporter, ModelImporter],
  exports: [ModelsService, ModelRegistryRepository],
})
export class ModelsModule {}
