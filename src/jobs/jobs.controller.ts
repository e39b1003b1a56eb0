import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import { uuidParam } from '../platform/http/params.js';
import {
  CheckpointListDto,
  CreateJobDto,
  JobDto,
  JobEventListDto,
  JobEventQueryDto,
  JobListDto,
  JobMetricsDto,
  JobMetricsQueryDto,
  ResumeJobDto,
  TrainerStatusDto,
} from './job.dto.js';
import { JobsService } from './jobs.service.js';
import { streamJobEvents } from './job-event-stream.js';

@ApiTags('jobs')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1')
export class JobsController {
  constructor(private readonly jobsService: JobsService) {}

  @Post('jobs')
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Create a fine-tuning job',
    description:
      'Validates the request against the data and the model (datasets must be ready and pass their quality checks, the head must fit the task, hyperparameters must be in range, the memory estimate must fit a trainer slot) and queues the job. Nothing is queued when validation fails.',
  })
  @ApiCreatedResponse({ type: JobDto })
  @ApiNotFoundResponse({
    description: '`alias_not_found`: baseModel names an alias that points at no version.',
    type: ErrorResponseDto,
  })
  @ApiGoneResponse({
    description: '`model_version_deleted`: the base model version was deleted.',
    type: ErrorResponseDto,
  })
  @ApiUnprocessableEntityResponse({
    description: 'The memory estimate exceeds a trainer slot: details carry the estimate and a batch size that fits.',
    type: ErrorResponseDto,
  })
  createJob(@CurrentPrincipal() principal: Principal, @Body() body: CreateJobDto): Promise<JobDto> {
    return this.jobsService.createJob(principal, body);
  }

  @Get('jobs')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({ summary: 'List jobs', description: "The project's jobs, newest first." })
  @ApiOkResponse({ type: JobListDto })
  listJobs(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<JobListDto> {
    return this.jobsService.listJobs(principal, query);
  }

  @Get('jobs/:jobId')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({ summary: 'Get a job', description: 'State, progress, spec, memory estimate and result of one job.' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  getJob(@CurrentPrincipal() principal: Principal, @Param('jobId', uuidParam('jobId')) jobId: string): Promise<JobDto> {
    return this.jobsService.getJob(principal, jobId);
  }

  @Get('jobs/:jobId/events')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({
    summary: 'List or stream job events',
    description:
      'The job log (messages, progress with throughput and ETA, validation metrics, checkpoints, warnings) as JSON pages, or as server-sent events with `Accept: text/event-stream` (resumable with `Last-Event-ID`; the stream ends when the job has ended).',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'SSE: continue after this event.' })
  @ApiOkResponse({ type: JobEventListDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  async listJobEvents(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
    @Query() query: JobEventQueryDto,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    // One route, two representations: the response is written here rather than by Nest.
    if (accept?.includes('text/event-stream')) {
      await this.jobsService.assertVisible(principal, jobId);
      await streamJobEvents(this.jobsService, principal, jobId, lastEventId ?? query.after ?? '0', response);
      return;
    }
    response.json(await this.jobsService.listEvents(principal, jobId, query));
  }

  @Get('jobs/:jobId/metrics')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({
    summary: 'Get job metrics',
    description: 'The metric time series: training loss, learning rate and throughput; validation metrics by step.',
  })
  @ApiOkResponse({ type: JobMetricsDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  getJobMetrics(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
    @Query() query: JobMetricsQueryDto,
  ): Promise<JobMetricsDto> {
    return this.jobsService.getMetrics(principal, jobId, query);
  }

  @Get('jobs/:jobId/checkpoints')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({
    summary: 'List job checkpoints',
    description: 'Kept checkpoints, newest first, with their metrics and file hashes.',
  })
  @ApiOkResponse({ type: CheckpointListDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  listJobCheckpoints(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
  ): Promise<CheckpointListDto> {
    return this.jobsService.listCheckpoints(principal, jobId);
  }

  @Post('jobs/:jobId/cancel')
  @HttpCode(200)
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Cancel a job',
    description:
      'A queued or paused job is cancelled at once; a running one stops at its next step (`pendingControl: cancel` until then).',
  })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The job has already ended.', type: ErrorResponseDto })
  cancelJob(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
  ): Promise<JobDto> {
    return this.jobsService.cancelJob(principal, jobId);
  }

  @Post('jobs/:jobId/pause')
  @HttpCode(200)
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Pause a job',
    description: 'A running job checkpoints and stops at its next step; a queued one is held back.',
  })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The job is not queued or running.', type: ErrorResponseDto })
  pauseJob(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
  ): Promise<JobDto> {
    return this.jobsService.pauseJob(principal, jobId);
  }

  @Post('jobs/:jobId/resume')
  @HttpCode(200)
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Resume a paused job',
    description:
      'Queues it to continue from its last checkpoint. Changing hyperparameters needs `confirmSpecChange: true`; the change is recorded in `specChanges`.',
  })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({
    description: 'The job is not paused, or a spec change was not confirmed.',
    type: ErrorResponseDto,
  })
  resumeJob(
    @CurrentPrincipal() principal: Principal,
    @Param('jobId', uuidParam('jobId')) jobId: string,
    @Body() body: ResumeJobDto,
  ): Promise<JobDto> {
    return this.jobsService.resumeJob(principal, jobId, body);
  }

  @Get('trainer')
  @Authenticated({ scope: 'jobs:read' })
  @ApiOperation({
    summary: 'Get trainer status',
    description: "This replica's trainer: backend, devices, slots, memory budget, and the queue depth.",
  })
  @ApiOkResponse({ type: TrainerStatusDto })
  getTrainerStatus(): Promise<TrainerStatusDto> {
    return this.jobsService.trainerStatus();
  }
}
