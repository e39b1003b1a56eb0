import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { ArtifactStore } from '../storage/artifact-store.js';

export class HealthCheckDto {
  @ApiProperty({ description: 'ok, or failing with the reason.', example: 'ok' })
  status: string;

  @ApiProperty({ description: 'Milliseconds the check took.', example: 3 })
  durationMs: number;
}

export class ReadinessDto {
  @ApiProperty({
    description: 'ok when every dependency answers, else unavailable.',
    enum: ['ok', 'unavailable'],
    example: 'ok',
  })
  status: 'ok' | 'unavailable';

  @ApiProperty({ description: 'The database check.', type: HealthCheckDto })
  database: HealthCheckDto;

  @ApiProperty({ description: 'The artifact storage check.', type: HealthCheckDto })
  storage: HealthCheckDto;
}

export class LivenessDto {
  @ApiProperty({ description: 'Always ok while the process serves requests.', example: 'ok' })
  status: string;
}

const CHECK_TIMEOUT_MS = 3_000;

async function timed(check: () => Promise<unknown>): Promise<HealthCheckDto> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', durationMs: Date.now() - started };
  } catch (error) {
    return {
      status: `failing: ${error instanceof Error ? error.message : String(error)}`,
      durationMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Unauthenticated probes for orchestrators; they reveal nothing but up or down. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly artifactStore: ArtifactStore,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness', description: 'Answers while the process can serve HTTP.' })
  @ApiOkResponse({ type: LivenessDto })
  getLiveness(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Readiness',
    description: 'Checks the database and the artifact storage; 503 when either fails.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ description: 'A dependency is failing.', type: ReadinessDto })
  async getReadiness(@Res({ passthrough: true }) response: Response): Promise<ReadinessDto> {
    const [database, storage] = await Promise.all([
      timed(() => this.dataSource.query('SELECT 1')),
      timed(() => this.artifactStore.check()),
    ]);
    const ready = database.status === 'ok' && storage.status === 'ok';
    response.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', database, storage };
  }
}
