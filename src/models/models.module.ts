import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LineageEdgeEntity } from '../lineage/lineage-edge.entity.js';
import { ModelBundleExporter } from './model-export.js';
import { ModelImporter } from './model-import.js';
import { ModelRegistryRepository } from './model-registry.repository.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { ModelsController } from './models.controller.js';
import { ModelsService } from './models.service.js';
import { PredictionsController } from './predictions.controller.js';
import { PredictionsService } from './predictions.service.js';
import { InferencePool } from '../trainer/pool/inference-pool.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredModelEntity, ModelVersionEntity, LineageEdgeEntity])],
  controllers: [ModelsController, PredictionsController],
  providers: [
    ModelsService,
    ModelRegistryRepository,
    ModelBundleExporter,
    ModelImporter,
    PredictionsService,
    InferencePool,
  ],
  exports: [ModelsService, ModelRegistryRepository, InferencePool],
})
export class ModelsModule {}
