import { Body, Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { uuidParam } from '../platform/http/params.js';
import { CreateEvaluationDto, EvaluationDto, EvaluationListDto, EvaluationListQueryDto } from './evaluation.dto.js';
import { EvaluationsService } from './evaluations.service.js';

@ApiTags('evaluations')
@ApiBadRequestResponse({ description: 'The request is invalid.', type: ErrorResponseDto })
@Controller('api/v1/evaluations')
export class EvaluationsController {
  constructor(private readonly evaluationsService: EvaluationsService) {}

  @Post()
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Evaluate a model version on a dataset version',
    description:
      'Queues an evaluation on the trainer pool: metrics of the model on the data (optionally per slice of a field), ' +
      'reference models fitted on its training data, a predictions file, and, with `baseline`, a paired-bootstrap ' +
      'comparison with another version of the same model. The model, data and baseline are checked first; nothing is ' +
      'queued when a check fails.',
  })
  @ApiCreatedResponse({ type: EvaluationDto })
  @ApiNotFoundResponse({ description: 'No such model, version or dataset in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The dataset version is deleted or invalid.', type: ErrorResponseDto })
  @ApiUnprocessableEntityResponse({
    description:
      '`incompatible_data`: the data cannot be scored by the model (task, input fields, no label field) or the baseline has another head or labels.',
    type: ErrorResponseDto,
  })
  createEvaluation(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateEvaluationDto,
  ): Promise<EvaluationDto> {
    return this.evaluationsService.createEvaluation(principal, body);
  }

  @Get()
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'List evaluations',
    description: "The project's evaluations, newest first; filter by model and version.",
  })
  @ApiOkResponse({ type: EvaluationListDto })
  listEvaluations(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EvaluationListQueryDto,
  ): Promise<EvaluationListDto> {
    return this.evaluationsService.listEvaluations(principal, query);
  }

  @Get(':evaluationId')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Get an evaluation',
    description: 'Status, progress and, once succeeded, metrics, slices, reference models and the comparison.',
  })
  @ApiOkResponse({ type: EvaluationDto })
  @ApiNotFoundResponse({ description: 'No such evaluation in this project.', type: ErrorResponseDto })
  getEvaluation(
    @CurrentPrincipal() principal: Principal,
    @Param('evaluationId', uuidParam('evaluationId')) evaluationId: string,
  ): Promise<EvaluationDto> {
    return this.evaluationsService.getEvaluation(principal, evaluationId);
  }

  @Get(':evaluationId/predictions')
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Download the predictions of an evaluation',
    description:
      'JSON Lines, one per row of the data in order: `line` (1-based line of the input), `prediction`, `target`, ' +
      '`scored` (false when the row had no usable target), and `probabilities` per label (classification), or ' +
      '`loss`, `tokens`, `correctTokens` (language models).',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'The predictions.', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'No such evaluation in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The evaluation has not succeeded.', type: ErrorResponseDto })
  async downloadEvaluationPredictions(
    @CurrentPrincipal() principal: Principal,
    @Param('evaluationId', uuidParam('evaluationId')) evaluationId: string,
  ): Promise<StreamableFile> {
    return new StreamableFile(await this.evaluationsService.openPredictions(principal, evaluationId), {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="predictions-${evaluationId}.jsonl"`,
    });
  }

  @Post(':evaluationId/cancel')
  @HttpCode(200)
  @Authenticated({ scope: 'jobs:write' })
  @ApiOperation({
    summary: 'Cancel an evaluation',
    description: 'A queued evaluation is cancelled at once; a running one stops before its next batch.',
  })
  @ApiOkResponse({ type: EvaluationDto })
  @ApiNotFoundResponse({ description: 'No such evaluation in this project.', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The evaluation has already ended.', type: ErrorResponseDto })
  cancelEvaluation(
    @CurrentPrincipal() principal: Principal,
    @Param('evaluationId', uuidParam('evaluationId')) evaluationId: string,
  ): Promise<EvaluationDto> {
    return this.evaluationsService.cancelEvaluation(principal, evaluationId);
  }
}
