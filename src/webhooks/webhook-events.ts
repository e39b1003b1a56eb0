/** Every event a subscription may ask for. `ping` is sent only on request and to one subscription. */
export const WEBHOOK_EVENT_TYPES = [
  'dataset.version.created',
  'dataset.quality.failed',
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'model.version.created',
  'evaluation.completed',
  'alias.promoted',
  'alias.promotion_blocked',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a delivery can carry: the subscribable events and `ping`. */
export type DeliveredEventType = WebhookEventType | 'ping';

export interface DatasetVersionEventData {
  datasetId: string;
  datasetName: string;
  datasetVersionId: string;
  version: number;
  sha256: string;
  rowCount: number;
  qualityVerdict: 'pass' | 'warn' | 'fail';
  /** The version it was derived from by a transform, or null for an upload. */
  parentVersionId: string | null;
}

export interface JobEventData {
  jobId: string;
  name: string;
  outputModelName: string;
  /** 1 for the first run; higher when a run was taken over after its replica stopped. */
  attempt: number;
}

export interface JobStartedData extends JobEventData {
  /** True when another replica's run stopped (lease expired) and this run takes over. */
  recovered: boolean;
}

export interface JobSucceededData extends JobEventData {
  modelVersionId: string;
  step: number;
}

export interface JobFailedData extends JobEventData {
  error: { code: string; message: string; step?: number };
}

export interface JobCancelledData extends JobEventData {
  step: number | null;
}

export interface ModelVersionEventData {
  modelId: string;
  modelName: string;
  modelVersionId: string;
  version: number;
  family: string;
  task: string;
  /** The job that trained it, or null for an import. */
  sourceJobId: string | null;
}

export interface EvaluationCompletedData {
  evaluationId: string;
  modelVersionId: string;
  datasetVersionId: string;
  status: 'succeeded' | 'failed';
  /** Metric name to value, as the evaluation reports them. */
  metrics: Record<string, number>;
}

export interface AliasPromotedData {
  modelName: string;
  alias: string;
  modelVersionId: string;
  version: number;
  /** The version the alias pointed at before, or null when it is new. */
  previousModelVersionId: string | null;
}

export interface AliasPromotionBlockedData {
  modelName: string;
  alias: string;
  /** The version that was to be promoted. */
  modelVersionId: string;
  version: number;
  /** Why the gate refused it, one entry per failed check. */
  reasons: Array<{ check: string; message: string }>;
}

export interface PingData {
  webhookId: string;
  message: string;
}

/** The `data` each event type carries: publishers cannot send the wrong shape. */
export interface WebhookEventData {
  'dataset.version.created': DatasetVersionEventData;
  'dataset.quality.failed': DatasetVersionEventData;
  'job.started': JobStartedData;
  'job.succeeded': JobSucceededData;
  'job.failed': JobFailedData;
  'job.cancelled': JobCancelledData;
  'model.version.created': ModelVersionEventData;
  'evaluation.completed': EvaluationCompletedData;
  'alias.promoted': AliasPromotedData;
  'alias.promotion_blocked': AliasPromotionBlockedData;
  ping: PingData;
}

/** The JSON body of every delivery. */
export interface WebhookEnvelope<T extends DeliveredEventType = DeliveredEventType> {
  /** The event's id: the same on every attempt and redelivery, so receivers can drop duplicates. */
  id: string;
  type: T;
  createdAt: string;
  projectId: string;
  data: WebhookEventData[T];
}
