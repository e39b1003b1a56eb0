import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Clock } from '../platform/clock.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainMetrics } from '../platform/metrics/domain-metrics.js';
import { retryDelaySeconds } from './webhook-backoff.js';
import { WebhookDeliveryQueue, type ClaimedDelivery } from './webhook-delivery-queue.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { WebhookSender, type SendResult } from './webhook-sender.js';
import { signatureHeader } from './webhook-signature.js';

/**
 * Sends due deliveries from the queue, on every replica whose WEBHOOK_DELIVERY_CONCURRENCY is above
 * zero: claims up to that many (one per subscription), sends them in parallel, records each attempt
 * and schedules retries with exponential backoff and jitter until WEBHOOK_MAX_ATTEMPTS.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private running?: Promise<number>;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly queue: WebhookDeliveryQueue,
    private readonly sender: WebhookSender,
    private readonly secrets: WebhookSecretBox,
    private readonly clock: Clock,
    private readonly metrics: DomainMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhooks.deliveryConcurrency === 0) {
      this.logger.log('WEBHOOK_DELIVERY_CONCURRENCY=0: this replica sends no webhook deliveries');
      return;
    }
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    // Attempts in flight end now and are retried (here after a restart, or by another replica).
    this.shutdown.abort();
    await this.running?.catch(() => 0);
  }

  /**
   * Sends every delivery due now (or by `asOf`), batch after batch, and returns how many attempts
   * were made. The poll loop calls it; tests call it to drive deliveries without waiting.
   */
  async runDueDeliveries(options: { asOf?: Date } = {}): Promise<number> {
    const previous = this.running ?? Promise.resolve(0);
    const run = previous.catch(() => 0).then(() => this.drain(options.asOf));
    this.running = run;
    return run;
  }

  private async drain(asOf?: Date): Promise<number> {
    const batchSize = Math.max(1, this.config.webhooks.deliveryConcurrency);
    let attempts = 0;
    while (!this.shutdown.signal.aborted) {
      const claimed = await this.queue.claim(batchSize, asOf);
      if (claimed.length === 0) {
        break;
      }
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      attempts += claimed.length;
    }
    return attempts;
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.runDueDeliveries();
    } catch (error) {
      this.logger.warn(`Webhook delivery poll failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (!this.stopping) {
        this.schedule(this.config.webhooks.pollMs);
      }
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = this.clock.now();
    const started = performance.now();
    let result: SendResult;
    try {
      result = await this.sender.send(
        { url: delivery.url, headers: await this.headers(delivery, startedAt), body: delivery.payload },
        this.shutdown.signal,
      );
    } catch (error) {
      // Secrets that cannot be opened (a changed WEBHOOK_SECRET_KEY): nothing is sent unsigned.
      result = { kind: 'error', error: error instanceof Error ? error.message : String(error) };
    }
    const delivered = result.kind === 'response' && result.status >= 200 && result.status < 300;
    const retryInSeconds =
      delivery.attempt >= this.config.webhooks.maxAttempts
        ? null
        : retryDelaySeconds(
            delivery.attempt,
            { baseSeconds: this.config.webhooks.retryBaseSeconds, capSeconds: this.config.webhooks.retryCapSeconds },
            Math.random(),
          );
    const recorded = await this.queue
      .complete(
        delivery,
        {
          startedAt,
          durationMs: Math.round(performance.now() - started),
          responseStatus: result.kind === 'response' ? result.status : null,
          responseExcerpt: result.kind === 'response' ? result.excerpt : null,
          error:
            result.kind === 'error'
              ? result.error
              : delivered
                ? null
                : `the receiver answered ${result.status}; only 2xx counts as delivered`,
        },
        delivered ? { delivered: true } : { delivered: false, retryInSeconds },
      )
      .catch((error: unknown) => {
        this.logger.warn(`Could not record webhook delivery ${delivery.id}: ${String(error)}`);
        return false;
      });
    if (recorded) {
      this.metrics.webhookAttempted(delivered ? 'delivered' : retryInSeconds === null ? 'failed' : 'retrying');
    }
  }

  private async headers(delivery: ClaimedDelivery, now: Date): Promise<Record<string, string>> {
    const secrets = [await this.secrets.open(delivery.webhookId, delivery.sealedSecret)];
    if (
      delivery.sealedPreviousSecret &&
      delivery.previousSecretExpiresAt &&
      delivery.previousSecretExpiresAt.getTime() > now.getTime()
    ) {
      secrets.push(await this.secrets.open(delivery.webhookId, delivery.sealedPreviousSecret));
    }
    return {
      'Content-Type': 'application/json',
      'User-Agent': 'TuneForge-Webhooks/1',
      'TuneForge-Event': delivery.eventType,
      'TuneForge-Delivery': delivery.id,
      'TuneForge-Signature': signatureHeader(secrets, Math.floor(now.getTime() / 1000), delivery.payload),
    };
  }
}
