import { AuditEventEntity } from '../../audit/audit-event.entity.js';
import { ApiKeyEntity } from '../../auth/api-key.entity.js';
import { ProjectEntity } from '../../auth/project.entity.js';
import { DatasetVersionEntity } from '../../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../../datasets/dataset.entity.js';
import { QualityReportEntity } from '../../datasets/quality-report.entity.js';
import { IdempotencyKeyEntity } from '../../idempotency/idempotency-key.entity.js';
import { CheckpointEntity } from '../../jobs/checkpoint.entity.js';
import { JobEventEntity } from '../../jobs/job-event.entity.js';
import { JobMetricEntity } from '../../jobs/job-metric.entity.js';
import { JobEntity } from '../../jobs/job.entity.js';
import { LineageEdgeEntity } from '../../lineage/lineage-edge.entity.js';
import { AliasHistoryEntity } from '../../models/alias-history.entity.js';
import { ModelAliasEntity } from '../../models/model-alias.entity.js';
import { EvaluationEntity } from '../../evaluation/evaluation.entity.js';
import { ModelVersionEntity } from '../../models/model-version.entity.js';
import { RegisteredModelEntity } from '../../models/registered-model.entity.js';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity } from '../../webhooks/webhook-delivery.entity.js';
import { WebhookEntity } from '../../webhooks/webhook.entity.js';

/** Every entity, in one list: the app, the migration tools and the tests all load this. */
export const ENTITIES = [
  ProjectEntity,
  ApiKeyEntity,
  AuditEventEntity,
  DatasetEntity,
  DatasetVersionEntity,
  QualityReportEntity,
  RegisteredModelEntity,
  ModelVersionEntity,
  ModelAliasEntity,
  AliasHistoryEntity,
  LineageEdgeEntity,
  JobEntity,
  JobEventEntity,
  JobMetricEntity,
  CheckpointEntity,
  IdempotencyKeyEntity,
  EvaluationEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryAttemptEntity,
];
