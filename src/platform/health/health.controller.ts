import { Controller, Get, HttpCode, Logger, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { AnswersWithoutDatabase, DatabaseStatus } from '../database/database-status.js';
import { ArtifactStore } from '../storage/artifact-store.js';
import { Readiness } from './readiness.js';

const CHECK_STATES = ['ok', 'starting', 'restarting', 'disabled', 'unavailable'] as const;
type CheckState = (typeof CHECK_STATES)[number];

export class HealthCheckDto {
  @ApiProperty({
    description:
      '`ok`; `starting` or `restarting` (wait); `disabled` (not used on this replica, counts as ready); `unavailable`. Reasons are logged, not shown here.',
    enum: CHECK_STATES,
    example: 'ok',
  })
  status: CheckState;

  @ApiProperty({ description: 'Milliseconds the check took.', example: 3 })
  durationMs: number;
}

export class ReadinessDto {
  @ApiProperty({
    description: 'ok when every part is ready, else unavailable.',
    enum: ['ok', 'unavailable'],
    example: 'ok',
  })
  status: 'ok' | 'unavailable';

  @ApiProperty({ description: 'The database.', type: HealthCheckDto })
  database: HealthCheckDto;

  @ApiProperty({ description: 'The artifact storage.', type: HealthCheckDto })
  storage: HealthCheckDto;

  @ApiProperty({
    description: 'The trainer pool: ready once its backend has loaded; `disabled` with TRAINER_SLOTS=0.',
    type: HealthCheckDto,
  })
  trainer: HealthCheckDto;
}

export class LivenessDto {
  @ApiProperty({
    description: '`ok` while the process can serve and recover; `failing` when it cannot (restart it).',
    enum: ['ok', 'failing'],
    example: 'ok',
  })
  status: 'ok' | 'failing';

  @ApiProperty({
    description: 'Why the process cannot recover, when failing.',
    required: false,
    example: 'the embedded database stopped and could not be restarted',
  })
  reason?: string;
}

const CHECK_TIMEOUT_MS = 3_000;

/** Unauthenticated probes for orchestrators; they reveal which part is not ready, never why. */
@ApiTags('health')
@AnswersWithoutDatabase()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly artifactStore: ArtifactStore,
    private readonly databaseStatus: DatabaseStatus,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @ApiOperation({
    summary: 'Liveness',
    description:
      'Answers 200 while the process can serve HTTP and recover; 503 once it cannot (the embedded database died and could not be restarted), so that an orchestrator restarts it.',
  })
  @ApiOkResponse({ type: LivenessDto })
  @ApiServiceUnavailableResponse({ description: 'The process cannot recover; restart it.', type: LivenessDto })
  getLiveness(@Res({ passthrough: true }) response: Response): LivenessDto {
    if (this.databaseStatus.availability() === 'failed') {
      response.status(503);
      return { status: 'failing', reason: 'the embedded database stopped and could not be restarted' };
    }
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Readiness',
    description:
      'Checks the database, the artifact storage and the trainer pool; 503 until all are ready, naming the part that is not.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ description: 'A part is not ready.', type: ReadinessDto })
  async getReadiness(@Res({ passthrough: true }) response: Response): Promise<ReadinessDto> {
    const [database, storage] = await Promise.all([
      this.checkDatabase(),
      this.timed('storage', () => this.artifactStore.check()),
    ]);
    const trainer = this.checkTrainer();
    const ready = [database, storage, trainer].every((check) => check.status === 'ok' || check.status === 'disabled');
    response.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', database, storage, trainer };
  }

  private checkDatabase(): Promise<HealthCheckDto> {
    switch (this.databaseStatus.availability()) {
      case 'available':
        return this.timed('database', () => this.dataSource.query('SELECT 1'));
      case 'restarting':
        return Promise.resolve({ status: 'restarting', durationMs: 0 });
      case 'failed':
        return Promise.resolve({ status: 'unavailable', durationMs: 0 });
    }
  }

  private checkTrainer(): HealthCheckDto {
    const state = this.readiness.trainerState();
    switch (state) {
      case 'ready':
        return { status: 'ok', durationMs: 0 };
      case 'starting':
        return { status: 'starting', durationMs: 0 };
      case 'disabled':
        return { status: 'disabled', durationMs: 0 };
      case 'failed':
        return { status: 'unavailable', durationMs: 0 };
    }
  }

  private async timed(part: string, check: () => Promise<unknown>): Promise<HealthCheckDto> {
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
      // The reason (addresses, ports, driver messages) goes to the log, not to unauthenticated callers.
      this.logger.warn(`readiness: ${part} is failing: ${error instanceof Error ? error.message : String(error)}`);
      return { status: 'unavailable', durationMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }
}
