import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import { JobEntity } from '../jobs/job.entity.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { RegisteredModelEntity } from '../models/registered-model.entity.js';
import { EvaluationHoldGate } from './evaluation-hold-gate.js';
import { EvaluationInputs } from './evaluation-inputs.js';
import { EvaluationQueue } from './evaluation-queue.js';
import { EvaluationRunner } from './evaluation-runner.js';
import { EvaluationEntity } from './evaluation.entity.js';
import { EvaluationsController } from './evaluations.controller.js';
import { EvaluationsService } from './evaluations.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([
      EvaluationEntity,
      RegisteredModelEntity,
      ModelVersionEntity,
      DatasetEntity,
      DatasetVersionEntity,
      JobEntity,
    ]),
    JobsModule,
    WebhooksModule,
  ],
  controllers: [EvaluationsController],
  providers: [EvaluationsService, EvaluationQueue, EvaluationRunner, EvaluationInputs, EvaluationHoldGate],
  exports: [EvaluationsService, EvaluationHoldGate],
})
export class EvaluationModule {}
