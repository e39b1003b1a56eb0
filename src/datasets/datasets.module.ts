import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetIngestor } from './dataset-ingestor.js';
import { DatasetMetrics } from './dataset-metrics.js';
import { DatasetVersionEntity } from './dataset-version.entity.js';
import { DatasetEntity } from './dataset.entity.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsService } from './datasets.service.js';
import { QualityReportEntity } from './quality-report.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([DatasetEntity, DatasetVersionEntity, QualityReportEntity])],
  controllers: [DatasetsController],
  providers: [DatasetsService, DatasetIngestor, DatasetMetrics],
  exports: [DatasetsService],
})
export class DatasetsModule {}
