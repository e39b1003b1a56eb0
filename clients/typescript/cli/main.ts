/**
 * `tuneforge`: the TuneForge API from a shell or a CI pipeline, built on the generated SDK.
 *
 * Exit codes: 0 done; 1 the outcome was negative (a job failed or was cancelled, a quality report
 * failed the threshold given); 2 usage error; 3 the API refused or could not be reached.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createClient, type Client } from '../src/client/index.js';
import {
  cancelJob,
  createDataset,
  createEvaluation,
  createJob,
  downloadModelVersion,
  getDatasetVersionQuality,
  getEvaluation,
  getJob,
  importModelVersion,
  listJobEvents,
  predict,
  promoteAlias,
  uploadDatasetVersion,
} from '../src/sdk.gen.js';
import type { CreateDatasetDto, CreateJobDto, EvaluationDto, JobDto, JobEventDto } from '../src/types.gen.js';
import { Output, progressBar } from './output.js';
import { readServerSentEvents } from './sse.js';

export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_USAGE = 2;
export const EXIT_API = 3;

class UsageError extends Error {}

/** An API answer other than success: status, code and message from TuneForge's error body. */
class ApiError extends Error {
  constructor(
    readonly status: number | null,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

const USAGE = `usage: tuneforge <command> [options]

  datasets create --name N --task T --source S --license L [--personal-data yes|no|unknown]
                  [--input-fields a,b] [--label-field f] [--description D]
  datasets upload <datasetId> <file> [--format jsonl|csv]
  datasets quality <datasetId> <version> [--fail-on fail|warn]
  jobs create --spec <file.json|-> [--wait]
  jobs wait <jobId>
  jobs logs <jobId>
  jobs cancel <jobId>
  models download <name> <version> [--format tar|zip] [--output file]
  models import <name> <archive>
  evaluate --model NAME:VERSION --dataset NAME:VERSION [--baseline VERSION] [--slice-by FIELD]
  promote <model> <alias> <version> [--force --reason TEXT]
  predict <model> (--version N | --alias A) (--input JSON | --inputs file.jsonl)

options for every command:
  --url U    the service (env TUNEFORGE_URL, default http://localhost:8080)
  --key K    an API key (env TUNEFORGE_KEY)
  --json     machine-readable output (one JSON document per line)

exit codes: 0 done; 1 negative outcome (job or evaluation failed or was cancelled, quality below
            --fail-on, a promotion blocked by its gates);
            2 usage error; 3 the API refused the call or could not be reached`;

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  name: { type: 'string' },
  task: { type: 'string' },
  source: { type: 'string' },
  license: { type: 'string' },
  description: { type: 'string' },
  'personal-data': { type: 'string' },
  'input-fields': { type: 'string' },
  'label-field': { type: 'string' },
  format: { type: 'string' },
  'fail-on': { type: 'string' },
  spec: { type: 'string' },
  wait: { type: 'boolean', default: false },
  output: { type: 'string', short: 'o' },
  model: { type: 'string' },
  dataset: { type: 'string' },
  baseline: { type: 'string' },
  'slice-by': { type: 'string' },
  force: { type: 'boolean', default: false },
  reason: { type: 'string' },
  version: { type: 'string' },
  alias: { type: 'string' },
  input: { type: 'string' },
  inputs: { type: 'string' },
} satisfies ParseArgsConfig['options'];

type Flags = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

interface Context {
  client: Client;
  out: Output;
  flags: Flags;
  args: string[];
}

/** The SDK's `{data, error, response}` as data, or an ApiError with TuneForge's error message. */
async function call<T>(promise: Promise<{ data?: T; error?: unknown; response?: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response?: Response };
  try {
    result = await promise;
  } catch (error) {
    throw new ApiError(null, null, `cannot reach the service: ${describeCause(error)}`);
  }
  if (!result.response) {
    throw new ApiError(null, null, `cannot reach the service: ${describeCause(result.error)}`);
  }
  if (!result.response.ok) {
    const body = result.error as { code?: string; message?: string } | undefined;
    const detail = body?.message ? `${body.code ?? 'error'}: ${body.message}` : result.response.statusText;
    throw new ApiError(result.response.status, result.error ?? null, `${result.response.status} ${detail}`);
  }
  return result.data as T;
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : error.message;
  }
  return String(error);
}

function positional(context: Context, index: number, name: string): string {
  const value = context.args[index];
  if (value === undefined || value === '') {
    throw new UsageError(`missing <${name}>`);
  }
  return value;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') {
    throw new UsageError(`missing --${flag}`);
  }
  return value;
}

function integer(value: string, name: string): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`<${name}> must be a whole number, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function contentTypeOf(file: string, format: string | undefined): string {
  if (/\.gz$/i.test(file)) {
    return 'application/gzip';
  }
  if (format === 'csv' || (format === undefined && /\.csv$/i.test(file))) {
    return 'text/csv';
  }
  return 'application/x-ndjson';
}

/** A file as a request body, streamed: a large file is never read into memory. */
function fileBody(file: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
}

// ------------------------------------------------------------------------------------- datasets

async function datasetsCreate(context: Context): Promise<number> {
  const { flags } = context;
  const body: CreateDatasetDto = {
    name: required(flags.name, 'name'),
    task: required(flags.task, 'task') as CreateDatasetDto['task'],
    source: required(flags.source, 'source'),
    license: required(flags.license, 'license'),
    containsPersonalData: (flags['personal-data'] ?? 'unknown') as CreateDatasetDto['containsPersonalData'],
    ...(flags.description ? { description: flags.description } : {}),
  };
  if (flags['input-fields'] || flags['label-field']) {
    body.schema = {
      ...(flags['input-fields'] ? { inputFields: flags['input-fields'].split(',').map((field) => field.trim()) } : {}),
      ...(flags['label-field'] ? { labelField: flags['label-field'] } : {}),
    } as CreateDatasetDto['schema'];
  }
  const dataset = await call(createDataset({ client: context.client, body }));
  context.out.result(dataset, dataset.id);
  return EXIT_OK;
}

async function datasetsUpload(context: Context): Promise<number> {
  const datasetId = positional(context, 0, 'datasetId');
  const file = positional(context, 1, 'file');
  const size = (await stat(file).catch(() => null))?.size;
  if (size === undefined) {
    throw new UsageError(`cannot read ${file}`);
  }
  const format = context.flags.format;
  if (format !== undefined && format !== 'jsonl' && format !== 'csv') {
    throw new UsageError('--format must be jsonl or csv');
  }
  context.out.live(`uploading ${file} (${size} bytes)`);
  const version = await call(
    uploadDatasetVersion({
      client: context.client,
      path: { datasetId },
      query: format ? { format } : undefined,
      body: fileBody(file) as never,
      headers: { 'Content-Type': contentTypeOf(file, format), 'Content-Length': String(size) },
      // Node's fetch needs this to send a stream as the body.
      duplex: 'half',
    } as Parameters<typeof uploadDatasetVersion>[0]),
  );
  context.out.result(
    version,
    `version ${version.version}: ${version.state}, ${version.rowCount ?? 0} rows, quality ${version.qualityVerdict ?? 'pending'}`,
  );
  return version.state === 'invalid' ? EXIT_NEGATIVE : EXIT_OK;
}

async function datasetsQuality(context: Context): Promise<number> {
  const datasetId = positional(context, 0, 'datasetId');
  const version = integer(positional(context, 1, 'version'), 'version');
  const failOn = context.flags['fail-on'];
  if (failOn !== undefined && failOn !== 'fail' && failOn !== 'warn') {
    throw new UsageError('--fail-on must be fail or warn');
  }
  const report = await call(getDatasetVersionQuality({ client: context.client, path: { datasetId, version } }));
  const checks = (report as { checks?: Array<{ name?: string; verdict?: string; message?: string }> }).checks ?? [];
  const lines = [`verdict: ${report.verdict}`];
  for (const check of checks.filter((item) => item.verdict && item.verdict !== 'pass')) {
    lines.push(`  ${check.verdict} ${check.name ?? ''}: ${check.message ?? ''}`);
  }
  context.out.result(report, lines.join('\n'));
  const bad = failOn === 'warn' ? ['warn', 'fail'] : failOn === 'fail' ? ['fail'] : [];
  return bad.includes(report.verdict) ? EXIT_NEGATIVE : EXIT_OK;
}

// ------------------------------------------------------------------------------------- jobs

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

async function readSpec(source: string): Promise<CreateJobDto> {
  const text = source === '-' ? await readStdin() : await readFile(source, 'utf8').catch(() => null);
  if (text === null) {
    throw new UsageError(`cannot read ${source}`);
  }
  try {
    return JSON.parse(text) as CreateJobDto;
  } catch {
    throw new UsageError(`${source} is not JSON`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function jobsCreate(context: Context): Promise<number> {
  const spec = await readSpec(required(context.flags.spec, 'spec'));
  const job = await call(createJob({ client: context.client, body: spec }));
  if (!context.flags.wait) {
    context.out.result(job, job.id);
    return EXIT_OK;
  }
  context.out.line(`job ${job.id}: ${job.status}`, { event: 'created', job });
  return followJob(context, job.id, false);
}

/** Follows the job's event stream until it ends; `logs` prints every event, `wait` a progress line. */
async function followJob(context: Context, jobId: string, printEvents: boolean): Promise<number> {
  let totalSteps: number | null = null;
  let after = '0';
  // The stream ends when the job ends; a dropped connection resumes after the last event seen.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const { response } = await context.client.get({
      url: '/api/v1/jobs/{jobId}/events',
      path: { jobId },
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': after },
      parseAs: 'stream',
      security: [{ scheme: 'bearer', type: 'http' }],
    });
    if (!response?.ok || !response.body) {
      await call(listJobEvents({ client: context.client, path: { jobId } }));
      break;
    }
    let ended = false;
    for await (const message of readServerSentEvents(response.body)) {
      if (message.event === 'end') {
        ended = true;
        break;
      }
      const event = JSON.parse(message.data) as JobEventDto;
      after = event.sequence;
      const data = event.data ?? {};
      if (event.kind === 'plan' && typeof data.totalSteps === 'number') {
        totalSteps = data.totalSteps;
      }
      if (printEvents) {
        context.out.line(`${event.createdAt} ${event.level.padEnd(5)} ${event.kind}: ${event.message}`, event);
      } else if (context.out.json && event.type === 'message') {
        context.out.line('', event);
      }
      if (event.kind === 'progress' && typeof data.step === 'number') {
        const loss = typeof data.loss === 'number' ? ` loss ${data.loss.toPrecision(4)}` : '';
        const eta = typeof data.etaSeconds === 'number' ? ` eta ${Math.round(data.etaSeconds)}s` : '';
        const bar = totalSteps ? `${progressBar(data.step / totalSteps)} ` : '';
        context.out.live(`${bar}step ${data.step}${totalSteps ? `/${totalSteps}` : ''}${loss}${eta}`);
      }
    }
    if (ended) {
      break;
    }
  }
  const job = await call(getJob({ client: context.client, path: { jobId } }));
  return reportJob(context, job);
}

function reportJob(context: Context, job: JobDto): number {
  if (!ENDED.has(job.status)) {
    context.out.result(job, `job ${job.id}: ${job.status}`);
    return EXIT_NEGATIVE;
  }
  const error = job.error ? ` (${job.error.code}: ${job.error.message})` : '';
  context.out.result(job, `job ${job.id}: ${job.status}${error}`);
  return job.status === 'succeeded' ? EXIT_OK : EXIT_NEGATIVE;
}

async function jobsWait(context: Context): Promise<number> {
  return followJob(context, positional(context, 0, 'jobId'), false);
}

async function jobsLogs(context: Context): Promise<number> {
  return followJob(context, positional(context, 0, 'jobId'), true);
}

async function jobsCancel(context: Context): Promise<number> {
  const job = await call(cancelJob({ client: context.client, path: { jobId: positional(context, 0, 'jobId') } }));
  context.out.result(job, `job ${job.id}: ${job.status}`);
  return EXIT_OK;
}

// ------------------------------------------------------------------------------------- models

async function modelsDownload(context: Context): Promise<number> {
  const modelName = positional(context, 0, 'name');
  const version = integer(positional(context, 1, 'version'), 'version');
  const format = context.flags.format ?? 'tar';
  if (format !== 'tar' && format !== 'zip') {
    throw new UsageError('--format must be tar or zip');
  }
  const file = context.flags.output ?? `${modelName}-v${version}.${format}`;
  const result = await downloadModelVersion({
    client: context.client,
    path: { modelName, version },
    query: { format },
    parseAs: 'stream',
  });
  if (!result.response?.ok || !(result.data instanceof ReadableStream)) {
    await call(Promise.resolve(result));
    throw new ApiError(result.response?.status ?? null, null, 'the download had no body');
  }
  await pipeline(Readable.fromWeb(result.data as never), createWriteStream(file));
  const size = (await stat(file)).size;
  context.out.result({ file, sizeBytes: size, modelName, version, format }, `${file} (${size} bytes)`);
  return EXIT_OK;
}

async function modelsImport(context: Context): Promise<number> {
  const modelName = positional(context, 0, 'name');
  const archive = positional(context, 1, 'archive');
  const size = (await stat(archive).catch(() => null))?.size;
  if (size === undefined) {
    throw new UsageError(`cannot read ${archive}`);
  }
  const type = /\.zip$/i.test(archive)
    ? 'application/zip'
    : /\.(tgz|gz)$/i.test(archive)
      ? 'application/gzip'
      : 'application/x-tar';
  context.out.live(`importing ${archive} (${size} bytes)`);
  const version = await call(
    importModelVersion({
      client: context.client,
      path: { modelName },
      body: fileBody(archive) as never,
      headers: { 'Content-Type': type, 'Content-Length': String(size) },
      duplex: 'half',
    } as Parameters<typeof importModelVersion>[0]),
  );
  context.out.result(version, `${modelName} v${version.version}: ${version.family} ${version.task}`);
  return EXIT_OK;
}

// ------------------------------------------------------------------------------------- evaluate, promote, predict

/** `name:version`, the way the commands name a model or dataset version. */
function versionRef(value: string | undefined, flag: string): { name: string; version: number } {
  const match = /^(.+):(\d+)$/.exec(required(value, flag));
  if (!match) {
    throw new UsageError(`--${flag} must be NAME:VERSION`);
  }
  return { name: match[1], version: Number(match[2]) };
}

async function evaluate(context: Context): Promise<number> {
  const { flags } = context;
  const body = {
    model: versionRef(flags.model, 'model'),
    dataset: versionRef(flags.dataset, 'dataset'),
    ...(flags.baseline ? { baseline: { version: integer(flags.baseline, 'baseline') } } : {}),
    ...(flags['slice-by'] ? { sliceBy: flags['slice-by'] } : {}),
  };
  let evaluation: EvaluationDto = await call(createEvaluation({ client: context.client, body }));
  context.out.line(`evaluation ${evaluation.id}: ${evaluation.status}`, { event: 'created', evaluation });
  while (!['succeeded', 'failed', 'cancelled'].includes(evaluation.status)) {
    const { processedRows, totalRows } = evaluation.progress;
    context.out.live(`${totalRows ? progressBar(processedRows / totalRows) : ''} ${processedRows} rows`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    evaluation = await call(getEvaluation({ client: context.client, path: { evaluationId: evaluation.id } }));
  }
  const metrics = evaluation.result?.metrics ?? {};
  const lines = [`evaluation ${evaluation.id}: ${evaluation.status}`];
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'number') {
      lines.push(`  ${name} ${value.toPrecision(4)}`);
    }
  }
  const comparison = evaluation.result?.comparison as
    { differences?: Record<string, { estimate: number; lower: number; upper: number }> } | null | undefined;
  const differences = comparison?.differences ?? {};
  for (const [name, interval] of Object.entries(differences)) {
    lines.push(
      `  ${name} vs baseline: ${interval.estimate.toPrecision(3)} [${interval.lower.toPrecision(3)}, ${interval.upper.toPrecision(3)}]`,
    );
  }
  context.out.result(evaluation, lines.join('\n'));
  return evaluation.status === 'succeeded' ? EXIT_OK : EXIT_NEGATIVE;
}

async function promote(context: Context): Promise<number> {
  const modelName = positional(context, 0, 'model');
  const alias = positional(context, 1, 'alias');
  const version = integer(positional(context, 2, 'version'), 'version');
  const { flags } = context;
  const result = await promoteAlias({
    client: context.client,
    path: { modelName, alias },
    body: { version, ...(flags.force ? { force: true } : {}), ...(flags.reason ? { reason: flags.reason } : {}) },
  });
  const body = result.error as
    | { code?: string; message?: string; details?: Array<{ reason?: string; passed?: boolean; kind?: string }> }
    | undefined;
  if (result.response?.status === 409 && body?.code === 'promotion_blocked') {
    const lines = [`blocked: ${body.message ?? ''}`];
    for (const detail of body.details ?? []) {
      lines.push(`  ${detail.passed ? 'pass' : 'FAIL'} ${detail.kind ?? ''}: ${detail.reason ?? ''}`);
    }
    context.out.result(body, lines.join('\n'));
    return EXIT_NEGATIVE;
  }
  const promotion = await call(Promise.resolve(result));
  const lines = [`${modelName}:${alias} -> v${version} (${promotion.kind})`];
  for (const gate of promotion.gateReport.results) {
    lines.push(`  ${gate.passed ? 'pass' : 'FAIL'} ${gate.kind}: ${gate.detail}`);
  }
  context.out.result(promotion, lines.join('\n'));
  return EXIT_OK;
}

async function predictCommand(context: Context): Promise<number> {
  const modelName = positional(context, 0, 'model');
  const { flags } = context;
  if ((flags.version === undefined) === (flags.alias === undefined)) {
    throw new UsageError('give --version or --alias');
  }
  let inputs: Array<Record<string, unknown>>;
  try {
    if (flags.input !== undefined) {
      inputs = [JSON.parse(flags.input) as Record<string, unknown>];
    } else {
      const text = await readFile(required(flags.inputs, 'input or --inputs'), 'utf8');
      inputs = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      throw error;
    }
    throw new UsageError(`cannot read the inputs: ${error instanceof Error ? error.message : String(error)}`);
  }
  const response = await call(
    predict({
      client: context.client,
      path: { modelName },
      query: flags.version !== undefined ? { version: integer(flags.version, 'version') } : { alias: flags.alias },
      body: { inputs },
    }),
  );
  const lines = response.predictions.map((prediction) => JSON.stringify(prediction));
  context.out.result(response, [`${modelName} v${response.version}:`, ...lines].join('\n'));
  return EXIT_OK;
}

// ------------------------------------------------------------------------------------- main

const COMMANDS: Record<string, Record<string, (context: Context) => Promise<number>>> = {
  datasets: { create: datasetsCreate, upload: datasetsUpload, quality: datasetsQuality },
  jobs: { create: jobsCreate, wait: jobsWait, logs: jobsLogs, cancel: jobsCancel },
  models: { download: modelsDownload, import: modelsImport },
};
/** Commands of one word. */
const SINGLE: Record<string, (context: Context) => Promise<number>> = {
  evaluate,
  promote,
  predict: predictCommand,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`tuneforge: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const { values: flags, positionals } = parsed;
  const out = new Output(flags.json);
  const single = positionals[0] !== undefined ? SINGLE[positionals[0]] : undefined;
  const [group, command, ...args] = single ? [positionals[0], '', ...positionals.slice(1)] : positionals;
  if (flags.help || group === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return flags.help ? EXIT_OK : EXIT_USAGE;
  }
  const run = single ?? COMMANDS[group]?.[command ?? ''];
  if (!run) {
    process.stderr.write(`tuneforge: unknown command ${[group, command].filter(Boolean).join(' ')}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const key = flags.key ?? env.TUNEFORGE_KEY;
  if (!key) {
    process.stderr.write('tuneforge: no API key: pass --key or set TUNEFORGE_KEY\n');
    return EXIT_USAGE;
  }
  const client = createClient({ baseUrl: flags.url ?? env.TUNEFORGE_URL ?? 'http://localhost:8080', auth: key });
  try {
    return await run({ client, out, flags, args });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tuneforge: ${error.message}\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ApiError) {
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ error: error.body ?? { message: error.message } })}\n`);
      }
      out.warn(`tuneforge: ${error.message}`);
      return EXIT_API;
    }
    throw error;
  }
}
