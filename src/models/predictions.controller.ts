import { Body, Controller, HttpCode, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiGoneResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/authenticated.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { patternParam } from '../platform/http/params.js';
import { MODEL_NAME_PATTERN } from './model.dto.js';
import { PredictQueryDto, PredictRequestDto, PredictResponseDto } from './prediction.dto.js';
import { PredictionsService } from './predictions.service.js';

// eslint-disable-next-line no-useless-assignment -- read by the parameter decorator below
const modelNameParam = patternParam(
  'modelName',
  MODEL_NAME_PATTERN,
  'must be 1-100 letters, digits, dots, underscores or hyphens',
);

const STREAM_FORMAT =
  'With `stream: true` the answer is `text/event-stream`: `token` events (`data: {"index": 0, "text": "..."}`, ' +
  'text of input `index` as it is generated), then one `done` event whose data is the whole JSON response, or an ' +
  '`error` event (`data: {"code": "...", "message": "..."}`) if the generation fails after it began. Every event ' +
  'is `event: <name>` and one `data:` line of JSON.';

@ApiTags('models')
@ApiExtraModels(PredictResponseDto)
@Controller('api/v1/models')
export class PredictionsController {
  constructor(private readonly predictionsService: PredictionsService) {}

  @Post(':modelName/predict')
  @HttpCode(200)
  @Authenticated({ scope: 'models:read' })
  @ApiOperation({
    summary: 'Predict with a model version',
    description:
      'Runs a batch of inputs through one version: a classifier answers the label and the probability of every ' +
      "label, a regression model the value in its target's units, a causal LM generated text (greedy at " +
      'temperature 0, else sampled with top-k and top-p; the same seed gives the same text). Inputs are checked ' +
      "against the model's input fields. Answered off the main thread by inference workers that keep recently " +
      `used models loaded. ${STREAM_FORMAT}`,
  })
  @ApiOkResponse({
    description: 'One prediction per input, and the version that answered.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(PredictResponseDto) } },
      'text/event-stream': {
        schema: { type: 'string', description: STREAM_FORMAT },
        example: 'event: token\ndata: {"index":0,"text":" once"}\n\nevent: done\ndata: {"model":"story",...}\n\n',
      },
    },
  })
  @ApiBadRequestResponse({
    description:
      "The request is invalid: too many inputs, an input that does not fit the model's fields, or options its head does not take.",
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({
    description: 'No such model, version or alias in this project, or the alias points at no version.',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({ description: "The version's files cannot be loaded as a model.", type: ErrorResponseDto })
  @ApiGoneResponse({ description: '`model_version_deleted`: the version was deleted.', type: ErrorResponseDto })
  @ApiServiceUnavailableResponse({ description: 'This replica runs no inference workers.', type: ErrorResponseDto })
  async predict(
    @CurrentPrincipal() principal: Principal,
    @Param('modelName', modelNameParam) modelName: string,
    @Query() query: PredictQueryDto,
    @Body() body: PredictRequestDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PredictResponseDto | StreamableFile> {
    if (!body.stream) {
      return this.predictionsService.predict(principal, modelName, query, body);
    }
    const events = await this.predictionsService.predictStream(principal, modelName, query, body);
    // Proxies must pass each event on at once.
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('X-Accel-Buffering', 'no');
    return new StreamableFile(events, { type: 'text/event-stream; charset=utf-8' });
  }
}
