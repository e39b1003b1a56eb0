import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { PageOf, PageQueryDto } from '../platform/http/pagination.js';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type WebhookDeliveryAttemptEntity,
  type WebhookDeliveryEntity,
} from './webhook-delivery.entity.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import type { WebhookEntity } from './webhook.entity.js';

/** Longest target URL accepted. */
export const WEBHOOK_URL_MAX_LENGTH = 2000;
/** Longest a rotated-out secret may stay valid: a week. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;

const URL_DESCRIPTION =
  'Where deliveries are POSTed: an absolute http or https URL without credentials (no `user:password@`). ' +
  'Redirects are not followed. Loopback and private addresses are allowed unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES=false; ' +
  'link-local and metadata addresses never are.';
const URL_EXAMPLE = 'https://ci.example.invalid/hooks/tuneforge';

const EVENT_TYPES_DESCRIPTION =
  'Event types to send; omit (or null) for every type, including types added later. At least one when given.';

export class CreateWebhookDto {
  @ApiProperty({ description: URL_DESCRIPTION, maxLength: WEBHOOK_URL_MAX_LENGTH, example: URL_EXAMPLE })
  @IsString()
  @MaxLength(WEBHOOK_URL_MAX_LENGTH)
  url: string;

  @ApiProperty({
    description: EVENT_TYPES_DESCRIPTION,
    enum: WEBHOOK_EVENT_TYPES,
    enumName: 'WebhookEventType',
    isArray: true,
    required: false,
    nullable: true,
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    example: ['job.succeeded', 'job.failed'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `eventTypes must be among ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes?: WebhookEventType[] | null;

  @ApiProperty({ description: 'Whether events are sent; default true.', required: false, example: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiProperty({
    description: 'What the subscription is for.',
    required: false,
    maxLength: 500,
    example: 'CI: deploy on success',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiProperty({
    description: URL_DESCRIPTION,
    required: false,
    maxLength: WEBHOOK_URL_MAX_LENGTH,
    example: URL_EXAMPLE,
  })
  @IsOptional()
  @IsString()
  @MaxLength(WEBHOOK_URL_MAX_LENGTH)
  url?: string;

  @ApiProperty({
    description: `${EVENT_TYPES_DESCRIPTION} Omit to keep the current list; null for every type.`,
    enum: WEBHOOK_EVENT_TYPES,
    enumName: 'WebhookEventType',
    isArray: true,
    required: false,
    nullable: true,
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    example: ['job.succeeded'],
  })
  @ValidateIf((request: UpdateWebhookDto) => request.eventTypes !== null && request.eventTypes !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `eventTypes must be among ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes?: WebhookEventType[] | null;

  @ApiProperty({
    description: 'Whether events are sent. Deliveries already queued wait while it is false.',
    required: false,
    example: false,
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiProperty({
    description: 'What the subscription is for.',
    required: false,
    maxLength: 500,
    example: 'CI: deploy on success',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class RotateWebhookSecretDto {
  @ApiProperty({
    description:
      'How long deliveries stay signed with the old secret too (a second `v1` in TuneForge-Signature), so receivers can switch over. 0 ends the old secret at once; default 86400 (a day).',
    required: false,
    type: 'integer',
    minimum: 0,
    maximum: MAX_ROTATION_GRACE_SECONDS,
    example: 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_ROTATION_GRACE_SECONDS)
  previousSecretValidSeconds?: number;
}

export class WebhookDto {
  @ApiProperty({ description: 'Subscription id.', format: 'uuid', example: '5c1e7f3a-9b2d-4e8f-a1c3-d5e7f9a1b3c5' })
  id: string;

  @ApiProperty({
    description: 'The project whose events it receives.',
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  projectId: string;

  @ApiProperty({ description: 'Where deliveries are POSTed.', example: URL_EXAMPLE })
  url: string;

  @ApiProperty({
    description: 'Subscribed event types; null: every type.',
    enum: WEBHOOK_EVENT_TYPES,
    enumName: 'WebhookEventType',
    isArray: true,
    nullable: true,
    example: ['job.succeeded', 'job.failed'],
  })
  eventTypes: WebhookEventType[] | null;

  @ApiProperty({ description: 'Whether events are sent.', example: true })
  active: boolean;

  @ApiProperty({ description: 'What the subscription is for.', example: 'CI: deploy on success' })
  description: string;

  @ApiProperty({
    description: 'Until when deliveries are also signed with the secret before the last rotation; null when not.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  previousSecretExpiresAt: string | null;

  @ApiProperty({ description: 'When it was created.', format: 'date-time', example: '2026-12-04T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ description: 'When it last changed.', format: 'date-time', example: '2026-12-04T10:00:00.000Z' })
  updatedAt: string;

  static from(webhook: WebhookEntity, now: Date): WebhookDto {
    const graceActive = webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now;
    return {
      id: webhook.id,
      projectId: webhook.projectId,
      url: webhook.url,
      eventTypes: webhook.eventTypes as WebhookEventType[] | null,
      active: webhook.active,
      description: webhook.description,
      previousSecretExpiresAt: graceActive ? (webhook.previousSecretExpiresAt as Date).toISOString() : null,
      createdAt: webhook.createdAt.toISOString(),
      updatedAt: webhook.updatedAt.toISOString(),
    };
  }
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    description:
      'The signing secret, shown this once (at creation and at each rotation). Absent from a replay of the request with the same Idempotency-Key.',
    example: 'whsec_Qm9vdHN0cmFwIGEgd2ViaG9vayBzZWNyZXQgaGVyZQ',
  })
  secret: string;
}

export class WebhookListDto extends PageOf(WebhookDto, 'Subscriptions of the project, newest first.') {}

export class ListWebhookDeliveriesQueryDto extends PageQueryDto {
  @ApiProperty({
    description: 'Only deliveries in this status.',
    enum: DELIVERY_STATUSES,
    required: false,
    example: 'failed',
  })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class WebhookDeliveryDto {
  @ApiProperty({
    description: 'Delivery id (the TuneForge-Delivery header).',
    format: 'uuid',
    example: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
  })
  id: string;

  @ApiProperty({ description: 'The subscription.', format: 'uuid', example: '5c1e7f3a-9b2d-4e8f-a1c3-d5e7f9a1b3c5' })
  webhookId: string;

  @ApiProperty({
    description: "The event's id (the payload's `id`), shared by its redeliveries.",
    format: 'uuid',
    example: '2f4e6a8c-0b1d-4f3e-8a5c-7e9b1d3f5a7c',
  })
  eventId: string;

  @ApiProperty({ description: 'The event type, or `ping`.', example: 'job.succeeded' })
  eventType: string;

  @ApiProperty({
    description:
      '`pending`: waiting for its (next) attempt; `sending`: an attempt is under way; `delivered`: a 2xx came back; `failed`: every attempt failed.',
    enum: DELIVERY_STATUSES,
    example: 'delivered',
  })
  status: DeliveryStatus;

  @ApiProperty({ description: 'Attempts made so far.', type: 'integer', example: 1 })
  attemptCount: number;

  @ApiProperty({
    description: 'When the next attempt is due, for a pending delivery; null otherwise.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  nextAttemptAt: string | null;

  @ApiProperty({
    description: 'HTTP status of the last attempt; null when none or no response.',
    type: 'integer',
    nullable: true,
    example: 200,
  })
  lastResponseStatus: number | null;

  @ApiProperty({
    description: 'Why the last attempt failed; null when it did not.',
    type: String,
    nullable: true,
    example: null,
  })
  lastError: string | null;

  @ApiProperty({
    description: 'When a 2xx came back.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: '2026-12-04T10:00:01.000Z',
  })
  deliveredAt: string | null;

  @ApiProperty({
    description: 'The delivery this one repeats, for a redelivery.',
    format: 'uuid',
    type: String,
    nullable: true,
    example: null,
  })
  redeliveryOf: string | null;

  @ApiProperty({
    description: 'When the event was queued for this subscription.',
    format: 'date-time',
    example: '2026-12-04T10:00:00.000Z',
  })
  createdAt: string;

  static from(delivery: WebhookDeliveryEntity): WebhookDeliveryDto {
    return {
      id: delivery.id,
      webhookId: delivery.webhookId,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      status: delivery.status,
      attemptCount: delivery.attempts,
      nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
      lastResponseStatus: delivery.lastResponseStatus,
      lastError: delivery.lastError,
      deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
      redeliveryOf: delivery.redeliveryOf,
      createdAt: delivery.createdAt.toISOString(),
    };
  }
}

export class WebhookDeliveryListDto extends PageOf(
  WebhookDeliveryDto,
  'Deliveries of the subscription, newest first.',
) {}

export class WebhookDeliveryAttemptDto {
  @ApiProperty({ description: 'Attempt number, from 1.', type: 'integer', example: 1 })
  attempt: number;

  @ApiProperty({ description: 'When it started.', format: 'date-time', example: '2026-12-04T10:00:00.000Z' })
  startedAt: string;

  @ApiProperty({ description: 'How long it took, in milliseconds.', type: 'integer', example: 42 })
  durationMs: number;

  @ApiProperty({
    description: 'The HTTP status; null when no response came (refused, timed out, address not allowed).',
    type: 'integer',
    nullable: true,
    example: 200,
  })
  responseStatus: number | null;

  @ApiProperty({
    description: 'The start of the response body (at most 1024 bytes).',
    type: String,
    nullable: true,
    example: 'ok',
  })
  responseExcerpt: string | null;

  @ApiProperty({
    description: 'Why it failed; null when a 2xx came back.',
    type: String,
    nullable: true,
    example: null,
  })
  error: string | null;

  static from(attempt: WebhookDeliveryAttemptEntity): WebhookDeliveryAttemptDto {
    return {
      attempt: attempt.attempt,
      startedAt: attempt.startedAt.toISOString(),
      durationMs: attempt.durationMs,
      responseStatus: attempt.responseStatus,
      responseExcerpt: attempt.responseExcerpt,
      error: attempt.error,
    };
  }
}

export class WebhookDeliveryDetailDto extends WebhookDeliveryDto {
  @ApiProperty({
    description: 'The JSON body sent: `{id, type, createdAt, projectId, data}`.',
    type: 'object',
    additionalProperties: true,
    example: {
      id: '2f4e6a8c-0b1d-4f3e-8a5c-7e9b1d3f5a7c',
      type: 'ping',
      createdAt: '2026-12-04T10:00:00.000Z',
      projectId: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
      data: {},
    },
  })
  payload: Record<string, unknown>;

  @ApiProperty({ description: 'Every attempt, first to last.', type: [WebhookDeliveryAttemptDto] })
  attempts: WebhookDeliveryAttemptDto[];
}
