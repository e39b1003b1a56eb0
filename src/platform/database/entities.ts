import { AuditEventEntity } from '../../audit/audit-event.entity.js';
import { ApiKeyEntity } from '../../auth/api-key.entity.js';
import { ProjectEntity } from '../../auth/project.entity.js';
import { DatasetVersionEntity } from '../../datasets/dataset-version.entity.js';
import { DatasetEntity } from '../../datasets/dataset.entity.js';
import { QualityReportEntity } from '../../datasets/quality-report.entity.js';

/** Every entity, in one list: the app, the migration tools and the tests all load this. */
export const ENTITIES = [
  ProjectEntity,
  ApiKeyEntity,
  AuditEventEntity,
  DatasetEntity,
  DatasetVersionEntity,
  QualityReportEntity,
];
