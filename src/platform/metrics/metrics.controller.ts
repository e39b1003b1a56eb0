import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated } from '../../auth/authenticated.decorator.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Authenticated({ scope: 'metrics:read' })
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Request durations by route and status, and process metrics, in the Prometheus text format. Needs a key with `metrics:read` (root project only).',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format.',
    schema: {
      type: 'string',
      example: 'tuneforge_http_request_duration_seconds_count{method="GET",route="/api/v1/me",status="200"} 1',
    },
  })
  async getMetrics(@Res({ passthrough: true }) response: Response): Promise<string> {
    response.setHeader('Content-Type', this.metrics.contentType);
    return this.metrics.render();
  }
}
