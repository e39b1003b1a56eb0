import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { DatasetIngestor } from './dataset-ingestor.js';
import { DatasetMetrics } from './dataset-metrics.js';
import { DatasetVersionEntity } from './dataset-version.entity.js';
import { DatasetEntity } from './dataset.entity.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsService } from './datasets.service.js';
import { QualityReportEntity } from './quality-report.entity.js';
import { DatasetTransformsService } from './transforms/dataset-transforms.service.js';
import { TransformMetrics } from './transforms/transform-metrics.js';
import { TransformRunner } from './transforms/transform-runner.js';

@Module({
  imports: [TypeOrmModule.forFeature([DatasetEntity, DatasetVersionEntity, QualityReportEntity]), WebhooksModule],
  controllers: [DatasetsController],
  providers: [
    DatasetsService,
    DatasetIngestor,
    DatasetMetrics,
    DatasetTransformsService,
    TransformRunner,
    TransformMetrics,
  ],
  exports: [DatasetsService],
})
export class DatasetsModule {}
