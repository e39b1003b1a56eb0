import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { SecretResponse } from '../idempotency/secret-response.decorator.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import { uuidParam } from '../platform/http/params.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  ListWebhookDeliveriesQueryDto,
  RotateWebhookSecretDto,
  UpdateWebhookDto,
  WebhookDeliveryDetailDto,
  WebhookDeliveryDto,
  WebhookDeliveryListDto,
  WebhookDto,
  WebhookListDto,
} from './webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

const NOT_FOUND = { description: 'No such webhook (or delivery) in this project.', type: ErrorResponseDto };
const INACTIVE = { description: 'The webhook is inactive (`invalid_state`).', type: ErrorResponseDto };
const REDACTED_HEADER = {
  'Idempotent-Redacted': {
    description: 'On a replayed response: the fields left out because they carry a secret (`secret`).',
    schema: { type: 'string', example: 'secret' },
  },
};

@ApiTags('webhooks')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooksService: WebhooksService) {}

  @Post()
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Create a webhook',
    description:
      "Subscribes a URL to the project's events. Returns the signing secret, shown this once; a retry with the same `Idempotency-Key` gets the webhook without it (`Idempotent-Redacted: secret`).",
  })
  @SecretResponse('secret')
  @ApiCreatedResponse({ type: CreatedWebhookDto, headers: REDACTED_HEADER })
  createWebhook(@CurrentPrincipal() principal: Principal, @Body() body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooksService.createWebhook(principal, body);
  }

  @Get()
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOperation({
    summary: 'List webhooks',
    description: "The project's subscriptions, newest first, without secrets.",
  })
  @ApiOkResponse({ type: WebhookListDto })
  listWebhooks(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<WebhookListDto> {
    return this.webhooksService.listWebhooks(principal, query);
  }

  @Get(':webhookId')
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOperation({ summary: 'Get a webhook', description: 'One subscription, without its secret.' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse(NOT_FOUND)
  getWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
  ): Promise<WebhookDto> {
    return this.webhooksService.getWebhook(principal, webhookId);
  }

  @Patch(':webhookId')
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Update a webhook',
    description: 'Changes the URL, event types, active flag or description; fields left out stay as they are.',
  })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse(NOT_FOUND)
  updateWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    return this.webhooksService.updateWebhook(principal, webhookId, body);
  }

  @Delete(':webhookId')
  @HttpCode(200)
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Delete a webhook',
    description: 'Removes the subscription and its delivery log; deliveries not yet sent are dropped.',
  })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse(NOT_FOUND)
  deleteWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
  ): Promise<WebhookDto> {
    return this.webhooksService.deleteWebhook(principal, webhookId);
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(200)
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Rotate a webhook secret',
    description:
      'Replaces the signing secret and returns the new one, shown this once. For `previousSecretValidSeconds` (default a day) deliveries carry a signature with each secret, so receivers can switch without missing any.',
  })
  @SecretResponse('secret')
  @ApiOkResponse({ type: CreatedWebhookDto, headers: REDACTED_HEADER })
  @ApiNotFoundResponse(NOT_FOUND)
  rotateWebhookSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
    @Body() body: RotateWebhookSecretDto,
  ): Promise<CreatedWebhookDto> {
    return this.webhooksService.rotateWebhookSecret(principal, webhookId, body);
  }

  @Post(':webhookId/ping')
  @HttpCode(202)
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Ping a webhook',
    description: 'Queues a `ping` event for this subscription only; follow it in its delivery log.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(INACTIVE)
  pingWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooksService.pingWebhook(principal, webhookId);
  }

  @Get(':webhookId/deliveries')
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOperation({
    summary: 'List webhook deliveries',
    description: 'The delivery log of a subscription, newest first.',
  })
  @ApiOkResponse({ type: WebhookDeliveryListDto })
  @ApiNotFoundResponse(NOT_FOUND)
  listWebhookDeliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
    @Query() query: ListWebhookDeliveriesQueryDto,
  ): Promise<WebhookDeliveryListDto> {
    return this.webhooksService.listWebhookDeliveries(principal, webhookId, query);
  }

  @Get(':webhookId/deliveries/:deliveryId')
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOperation({
    summary: 'Get a webhook delivery',
    description: 'One delivery with its payload and every attempt (status, duration, response excerpt, error).',
  })
  @ApiOkResponse({ type: WebhookDeliveryDetailDto })
  @ApiNotFoundResponse(NOT_FOUND)
  getWebhookDelivery(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
    @Param('deliveryId', uuidParam('deliveryId')) deliveryId: string,
  ): Promise<WebhookDeliveryDetailDto> {
    return this.webhooksService.getWebhookDelivery(principal, webhookId, deliveryId);
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOperation({
    summary: 'Redeliver a webhook delivery',
    description:
      'Queues the same event (same payload and event `id`) again as a new delivery with attempts of its own.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(INACTIVE)
  redeliverWebhookDelivery(
    @CurrentPrincipal() principal: Principal,
    @Param('webhookId', uuidParam('webhookId')) webhookId: string,
    @Param('deliveryId', uuidParam('deliveryId')) deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooksService.redeliverWebhookDelivery(principal, webhookId, deliveryId);
  }
}
