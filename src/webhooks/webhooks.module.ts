import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookDeliveryQueue } from './webhook-delivery-queue.js';
import { WebhookDeliveryWorker } from './webhook-delivery-worker.js';
import { WebhookPublisher } from './webhook-publisher.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookEntity } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/** Subscriptions, the delivery queue and its worker; other modules import it for WebhookPublisher. */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEntity, WebhookDeliveryEntity, WebhookDeliveryAttemptEntity])],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhookPublisher,
    WebhookSecretBox,
    WebhookSender,
    WebhookDeliveryQueue,
    WebhookDeliveryWorker,
  ],
  exports: [WebhookPublisher],
})
export class WebhooksModule {}
