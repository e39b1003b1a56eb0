import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { Clock } from '../platform/clock.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { classifyAddress } from './webhook-address-policy.js';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookPublisher } from './webhook-publisher.js';
import { generateWebhookSecret, WebhookSecretBox } from './webhook-secret-box.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  ListWebhookDeliveriesQueryDto,
  RotateWebhookSecretDto,
  UpdateWebhookDto,
  WebhookDeliveryAttemptDto,
  WebhookDeliveryDetailDto,
  WebhookDeliveryDto,
  WebhookDeliveryListDto,
  WebhookDto,
  WebhookListDto,
} from './webhook.dto.js';
import { WebhookEntity } from './webhook.entity.js';

const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @InjectRepository(WebhookEntity) private readonly webhooks: Repository<WebhookEntity>,
    @InjectRepository(WebhookDeliveryEntity) private readonly deliveries: Repository<WebhookDeliveryEntity>,
    @InjectRepository(WebhookDeliveryAttemptEntity)
    private readonly attempts: Repository<WebhookDeliveryAttemptEntity>,
    private readonly secrets: WebhookSecretBox,
    private readonly publisher: WebhookPublisher,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async createWebhook(principal: Principal, request: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const url = this.checkUrl(request.url);
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const webhook = await this.webhooks.save(
      this.webhooks.create({
        id,
        projectId: principal.projectId,
        url,
        eventTypes: request.eventTypes ?? null,
        active: request.active ?? true,
        description: request.description ?? '',
        sealedSecret: await this.secrets.seal(id, secret),
        sealedPreviousSecret: null,
        previousSecretExpiresAt: null,
        createdByKeyId: principal.apiKeyId,
      }),
    );
    this.logger.log({ webhookId: id, projectId: principal.projectId }, 'webhook created');
    return { ...WebhookDto.from(webhook, this.clock.now()), secret };
  }

  async listWebhooks(principal: Principal, page: PageQueryDto): Promise<WebhookListDto> {
    const query = this.webhooks
      .createQueryBuilder('webhook')
      .where('webhook.projectId = :projectId', { projectId: principal.projectId });
    const result = await paginate(query, page);
    const now = this.clock.now();
    return { data: result.data.map((webhook) => WebhookDto.from(webhook, now)), nextCursor: result.nextCursor };
  }

  async getWebhook(principal: Principal, webhookId: string): Promise<WebhookDto> {
    return WebhookDto.from(await this.visibleWebhook(principal, webhookId), this.clock.now());
  }

  async updateWebhook(principal: Principal, webhookId: string, request: UpdateWebhookDto): Promise<WebhookDto> {
    const webhook = await this.visibleWebhook(principal, webhookId);
    const changes: Partial<WebhookEntity> = {};
    if (request.url !== undefined) {
      changes.url = this.checkUrl(request.url);
    }
    if (request.eventTypes !== undefined) {
      changes.eventTypes = request.eventTypes;
    }
    if (request.active !== undefined) {
      changes.active = request.active;
    }
    if (request.description !== undefined) {
      changes.description = request.description;
    }
    if (Object.keys(changes).length > 0) {
      await this.webhooks.update({ id: webhook.id }, changes);
    }
    return WebhookDto.from(await this.webhooks.findOneByOrFail({ id: webhook.id }), this.clock.now());
  }

  /** Deletes the subscription and its delivery log; deliveries not yet sent are dropped. */
  async deleteWebhook(principal: Principal, webhookId: string): Promise<WebhookDto> {
    const webhook = await this.visibleWebhook(principal, webhookId);
    await this.webhooks.delete({ id: webhook.id });
    this.logger.log({ webhookId, projectId: principal.projectId }, 'webhook deleted');
    return WebhookDto.from(webhook, this.clock.now());
  }

  async rotateWebhookSecret(
    principal: Principal,
    webhookId: string,
    request: RotateWebhookSecretDto,
  ): Promise<CreatedWebhookDto> {
    const webhook = await this.visibleWebhook(principal, webhookId);
    const grace = request.previousSecretValidSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS;
    const secret = generateWebhookSecret();
    const now = this.clock.now();
    await this.webhooks.update(
      { id: webhook.id },
      {
        sealedSecret: await this.secrets.seal(webhook.id, secret),
        sealedPreviousSecret: grace > 0 ? webhook.sealedSecret : null,
        previousSecretExpiresAt: grace > 0 ? new Date(now.getTime() + grace * 1000) : null,
      },
    );
    this.logger.log({ webhookId, projectId: principal.projectId, graceSeconds: grace }, 'webhook secret rotated');
    return { ...WebhookDto.from(await this.webhooks.findOneByOrFail({ id: webhook.id }), now), secret };
  }

  async listWebhookDeliveries(
    principal: Principal,
    webhookId: string,
    query: ListWebhookDeliveriesQueryDto,
  ): Promise<WebhookDeliveryListDto> {
    const webhook = await this.visibleWebhook(principal, webhookId);
    const builder = this.deliveries
      .createQueryBuilder('delivery')
      .where('delivery.webhookId = :webhookId', { webhookId: webhook.id });
    if (query.status) {
      builder.andWhere('delivery.status = :status', { status: query.status });
    }
    const result = await paginate(builder, query);
    return { data: result.data.map((delivery) => WebhookDeliveryDto.from(delivery)), nextCursor: result.nextCursor };
  }

  async getWebhookDelivery(
    principal: Principal,
    webhookId: string,
    deliveryId: string,
  ): Promise<WebhookDeliveryDetailDto> {
    const delivery = await this.visibleDelivery(principal, webhookId, deliveryId);
    const attempts = await this.attempts.find({ where: { deliveryId: delivery.id }, order: { attempt: 'ASC' } });
    return {
      ...WebhookDeliveryDto.from(delivery),
      payload: JSON.parse(delivery.payload) as Record<string, unknown>,
      attempts: attempts.map((attempt) => WebhookDeliveryAttemptDto.from(attempt)),
    };
  }

  /** Queues the same event again (same payload and event id) as a new delivery with its own attempts. */
  async redeliverWebhookDelivery(
    principal: Principal,
    webhookId: string,
    deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    const original = await this.visibleDelivery(principal, webhookId, deliveryId);
    const webhook = await this.visibleWebhook(principal, webhookId);
    this.requireActive(webhook);
    const delivery = await this.enqueue(webhook, {
      eventId: original.eventId,
      eventType: original.eventType,
      payload: original.payload,
      redeliveryOf: original.id,
    });
    return WebhookDeliveryDto.from(delivery);
  }

  async pingWebhook(principal: Principal, webhookId: string): Promise<WebhookDeliveryDto> {
    const webhook = await this.visibleWebhook(principal, webhookId);
    this.requireActive(webhook);
    const envelope = this.publisher.envelope(webhook.projectId, 'ping', {
      webhookId: webhook.id,
      message: 'A test delivery asked for through the API',
    });
    const delivery = await this.enqueue(webhook, {
      eventId: envelope.id,
      eventType: 'ping',
      payload: JSON.stringify(envelope),
      redeliveryOf: null,
    });
    return WebhookDeliveryDto.from(delivery);
  }

  private async enqueue(
    webhook: WebhookEntity,
    event: { eventId: string; eventType: string; payload: string; redeliveryOf: string | null },
  ): Promise<WebhookDeliveryEntity> {
    const saved = await this.deliveries.save(
      this.deliveries.create({
        webhookId: webhook.id,
        projectId: webhook.projectId,
        ...event,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: this.clock.now(),
        lastResponseStatus: null,
        lastError: null,
        deliveredAt: null,
      }),
    );
    return this.deliveries.findOneByOrFail({ id: saved.id });
  }

  /**
   * An absolute http(s) URL without credentials. Literal addresses the delivery policy refuses are
   * refused here already; names are checked when a delivery connects, since DNS can change.
   */
  private checkUrl(raw: string): string {
    const refuse = (reason: string) => DomainError.validation(`url ${reason}`, [{ field: 'url', reason }]);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse('must be an absolute http or https URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw refuse('must use http or https');
    }
    if (url.username || url.password) {
      throw refuse('must not contain credentials (user:password@); authenticate receivers by the signature');
    }
    if (!url.hostname) {
      throw refuse('must name a host');
    }
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal)) {
      const verdict = classifyAddress(literal);
      if (verdict === 'blocked') {
        throw refuse('points at an address webhooks may never reach (link-local, metadata, multicast or unspecified)');
      }
      if (verdict === 'private' && !this.config.webhooks.allowPrivateAddresses) {
        throw refuse('points at a loopback or private address, which WEBHOOK_ALLOW_PRIVATE_ADDRESSES=false refuses');
      }
    }
    if (url.href.length > 2000) {
      throw refuse('must be at most 2000 characters');
    }
    return url.href;
  }

  private requireActive(webhook: WebhookEntity): void {
    if (!webhook.active) {
      throw new DomainError(ErrorCode.InvalidState, 'The webhook is inactive; activate it to send deliveries', [
        { field: 'active', reason: 'inactive' },
      ]);
    }
  }

  /** Another project's subscriptions answer 404, as if absent. */
  private async visibleWebhook(principal: Principal, webhookId: string): Promise<WebhookEntity> {
    const webhook = await this.webhooks.findOne({ where: { id: webhookId, projectId: principal.projectId } });
    if (!webhook) {
      throw DomainError.notFound('Webhook', webhookId);
    }
    return webhook;
  }

  private async visibleDelivery(
    principal: Principal,
    webhookId: string,
    deliveryId: string,
  ): Promise<WebhookDeliveryEntity> {
    const delivery = await this.deliveries.findOne({
      where: { id: deliveryId, webhookId, projectId: principal.projectId },
    });
    if (!delivery) {
      throw DomainError.notFound('Webhook delivery', deliveryId);
    }
    return delivery;
  }
}
