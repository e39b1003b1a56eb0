import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { API_KEY_SECURITY } from '../auth/authenticated.decorator.js';
import { declareCommonResponses } from './http/common-responses.js';

export const API_VERSION = '0.1.0';

/** The OpenAPI document of the app; operationIds are the controller method names (the SDK's function names). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('TuneForge API')
    .setDescription(
      'Self-hosted fine-tuning: datasets, fine-tuning jobs, a model registry, evaluation and generated documentation. ' +
        'Authenticate with `Authorization: Bearer tf_...`. Every error has the shape `{status, code, message, details, requestId}`.',
    )
    .setVersion(API_VERSION)
    .setContact('TuneForge maintainers', 'https://github.com/tuneforge/tuneforge', 'maintainers@tuneforge.dev')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'This server')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'tf_ API key', description: 'An API key, created by an admin.' },
      API_KEY_SECURITY,
    )
    .addTag('auth', 'Projects, API keys and the calling identity')
    .addTag('audit', 'The audit log of mutating calls')
    .addTag('datasets', 'Datasets, immutable versions, quality reports and transforms')
    .addTag('jobs', 'Fine-tuning jobs: queue, events, metrics, checkpoints, control; and the trainer status')
    .addTag('models', 'The model registry: models and their versions')
    .addTag('webhooks', 'Signed webhook subscriptions, their delivery log, ping and redelivery')
    .addTag('health', 'Liveness and readiness probes')
    .addTag('observability', 'Prometheus metrics')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
  });
  // Every JSON POST honours Idempotency-Key (src/idempotency): say so on each of them.
  for (const item of Object.values(document.paths)) {
    const post = item.post;
    if (post?.requestBody && 'content' in post.requestBody && post.requestBody.content['application/json']) {
      post.parameters = [
        ...(post.parameters ?? []),
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Retry safely: a second request with the same key and body gets the first response (header Idempotent-Replayed: true) instead of creating again. Kept 24 hours per project.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      ];
    }
  }
  declareCommonResponses(document);
  return document;
}
