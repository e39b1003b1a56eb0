import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetVersionEntity } from '../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import { ModelsModule } from '../models/models.module.js';
import { ModelVersionEntity } from '../models/model-version.entity.js';
import { RegisteredModelEntity } from '../models/registered-model.entity.js';
import { TrainerPool } from '../trainer/pool/trainer-pool.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { CheckpointEntity } from './checkpoint.entity.js';
import { JobEventEntity } from './job-event.entity.js';
import { JobEventsRepository } from './job-events.repository.js';
import { JobMetricEntity } from './job-metric.entity.js';
import { JobQueue } from './job-queue.js';
import { JobRunner } from './job-runner.js';
import { JobEntity } from './job.entity.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { TrainingStepGate } from './training-step-gate.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([
      JobEntity,
      JobEventEntity,
      JobMetricEntity,
      CheckpointEntity,
      DatasetEntity,
      DatasetVersionEntity,
      RegisteredModelEntity,
      ModelVersionEntity,
    ]),
    ModelsModule,
    WebhooksModule,
  ],
  controllers: [JobsController],
  providers: [JobsService, JobQueue, JobRunner, JobEventsRepository, TrainerPool, TrainingStepGate],
  exports: [JobsService, TrainerPool, TrainingStepGate],
})
export class JobsModule {}
