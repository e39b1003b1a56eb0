import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LineageEdgeEntity } from '../lineage/lineage-edge.entity.js';
import { AliasHistoryEntity } from './alias-history.entity.js';
import { GateFactsRepository } from './gates/gate-facts.repository.js';
import { PromotionGateEvaluator } from './gates/promotion-gate-evaluator.js';
import { ModelAliasEntity } from './model-alias.entity.js';
import { ModelAliasesController } from './model-aliases.controller.js';
import { ModelAliasesService } from './model-aliases.service.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ModelBundleExporter } from './model-export.js';
import { ModelImporter } from './model-import.js';
import { ModelLineageSummaryRepository } from './model-lineage-summary.repository.js';
import { ModelRegistryRepository } from './model-registry.repository.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { ModelsController } from './models.controller.js';
import { ModelsService } from './models.service.js';
import { PredictionsController } from './predictions.controller.js';
import { PredictionsService } from './predictions.service.js';
import { InferencePool } from '../trainer/pool/inference-pool.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([
      RegisteredModelEntity,
      ModelVersionEntity,
      ModelAliasEntity,
      AliasHistoryEntity,
      LineageEdgeEntity,
    ]),
    WebhooksModule,
  ],
  controllers: [ModelsController, ModelAliasesController, PredictionsController],
  providers: [
    ModelsService,
    ModelAliasesService,
    ModelRegistryRepository,
    ModelLineageSummaryRepository,
    GateFactsRepository,
    PromotionGateEvaluator,
    ModelBundleExporter,
    ModelImporter,
    PredictionsService,
    InferencePool,
  ],
  exports: [ModelsService, ModelRegistryRepository, InferencePool],
})
export class ModelsModule {}
