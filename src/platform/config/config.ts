import path from 'node:path';
import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TRAINER_BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TrainerBackendSetting = (typeof TRAINER_BACKENDS)[number];

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') {
    return value;
  }
  const normalised = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalised)) {
    return true;
  }
  if (['false', '0', 'no', 'off'].includes(normalised)) {
    return false;
  }
  return value;
};

const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/**
 * A whole number in [min, max]. Every failure (not a number, a fraction, out of range) gives the
 * same message, which says what is allowed.
 */
function IntegerIn(min: number, max: number): PropertyDecorator {
  const message = `$property must be a whole number from ${min} to ${max}`;
  return (target: object, property: string | symbol) => {
    Transform(toInteger)(target, property);
    IsInt({ message })(target, property);
    Min(min, { message })(target, property);
    Max(max, { message })(target, property);
  };
}

const SIZE_PATTERN = /^\d+(b|kb|mb|gb)?$/i;

/**
 * Every environment variable TuneForge reads, declared once. Nothing else reads process.env.
 * The names are the variables' own names so that a validation error names the variable.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IntegerIn(0, 65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  @MinLength(1)
  HOST?: string;

  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  DATA_DIR?: string;

  @IsOptional()
  @IntegerIn(1, 3600)
  HTTP_KEEP_ALIVE_SECONDS?: number;

  @IsOptional()
  @IntegerIn(0, 86_400)
  HTTP_REQUEST_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @IntegerIn(0, 19)
  WORKER_THREAD_NICENESS?: number;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message: 'S3_BUCKET must be a valid S3 bucket name (3-63 characters: a-z, 0-9, dot, hyphen)',
  })
  S3_BUCKET?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'S3_ENDPOINT must be an http(s) URL' },
  )
  S3_ENDPOINT?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9-]+$/, { message: 'S3_REGION must look like us-east-1' })
  S3_REGION?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'S3_FORCE_PATH_STYLE must be one of true, false' })
  S3_FORCE_PATH_STYLE?: boolean;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9/._-]*$/, { message: 'S3_PREFIX may contain only letters, digits, /, ., _ and -' })
  S3_PREFIX?: string;

  @IsOptional()
  @IsString()
  @Matches(/^tf_[A-Za-z0-9_]{32,}$/, {
    message: 'TUNEFORGE_BOOTSTRAP_KEY must start with tf_ followed by at least 32 letters, digits or underscores',
  })
  TUNEFORGE_BOOTSTRAP_KEY?: string;

  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: LogLevel;

  @IsOptional()
  @IsIn(TRAINER_BACKENDS, { message: `TRAINER_BACKEND must be one of ${TRAINER_BACKENDS.join(', ')}` })
  TRAINER_BACKEND?: TrainerBackendSetting;

  @IsOptional()
  @IntegerIn(0, 64)
  TRAINER_SLOTS?: number;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'TRAINER_MEMORY_BUDGET must be a size such as 2gb or 1048576' })
  TRAINER_MEMORY_BUDGET?: string;

  @IsOptional()
  @IsString()
  @Matches(/^\d{1,9}(,\d{1,9})*$/, { message: 'TRAINER_HOLD_AT_STEPS must be step numbers such as 6 or 4,10' })
  TRAINER_HOLD_AT_STEPS?: string;

  @IsOptional()
  @IntegerIn(0, 64)
  INFERENCE_WORKERS?: number;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'INFERENCE_CACHE_BYTES must be a size such as 2gb, 500mb or 1048576' })
  INFERENCE_CACHE_BYTES?: string;

  @IsOptional()
  @IntegerIn(1, 10_000)
  INFERENCE_MAX_BATCH?: number;

  @IsOptional()
  @IntegerIn(1, 100_000)
  INFERENCE_MAX_NEW_TOKENS?: number;

  @IsOptional()
  @IsString()
  @Matches(/^\d{1,9}(,\d{1,9})*$/, {
    message: 'INFERENCE_HOLD_AT_TOKENS must be token counts such as 3 or 2,5',
  })
  INFERENCE_HOLD_AT_TOKENS?: string;

  @IsOptional()
  @IntegerIn(1, 3600)
  JOB_LEASE_SECONDS?: number;

  @IsOptional()
  @IntegerIn(50, 60_000)
  JOB_POLL_MS?: number;

  @IsOptional()
  @IntegerIn(1, 100)
  JOB_MAX_ATTEMPTS?: number;

  @IsOptional()
  @IntegerIn(1, 1000)
  JOBS_PER_PROJECT_LIMIT?: number;

  @IsOptional()
  @IntegerIn(1, 4096)
  EVALUATION_BATCH_SIZE?: number;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'JSON_BODY_LIMIT must be a size such as 1mb, 512kb or 1048576' })
  JSON_BODY_LIMIT?: string;

  @IsOptional()
  @IntegerIn(1, 1_000_000)
  RATE_LIMIT_PER_MINUTE?: number;

  @IsOptional()
  @IntegerIn(1, 1_000_000)
  RATE_LIMIT_BURST?: number;

  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'PUBLIC_URL must be an http(s) URL' },
  )
  PUBLIC_URL?: string;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'DATASET_MAX_UPLOAD_BYTES must be a size such as 10gb, 500mb or 1048576' })
  DATASET_MAX_UPLOAD_BYTES?: string;

  @IsOptional()
  @Matches(SIZE_PATTERN, { message: 'MODEL_IMPORT_MAX_BYTES must be a size such as 20gb, 500mb or 1048576' })
  MODEL_IMPORT_MAX_BYTES?: string;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'DATASET_MAX_INFLATED_BYTES must be a size such as 40gb or 1048576' })
  DATASET_MAX_INFLATED_BYTES?: string;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'DATASET_MAX_LINE_BYTES must be a size such as 1mb or 65536' })
  DATASET_MAX_LINE_BYTES?: string;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  TRANSFORM_MAX_OUTPUT_ROWS?: number;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'TRANSFORM_MAX_OUTPUT_BYTES must be a size such as 10gb or 1048576' })
  TRANSFORM_MAX_OUTPUT_BYTES?: string;

  @IsOptional()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'TRANSFORM_WORKER_MEMORY must be a size such as 2gb or 536870912' })
  TRANSFORM_WORKER_MEMORY?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'DB_MIGRATE_ON_START must be one of true, false' })
  DB_MIGRATE_ON_START?: boolean;

  @IsOptional()
  @IntegerIn(1, 200)
  DB_POOL_SIZE?: number;

  @IsOptional()
  @IntegerIn(1, 1_000_000)
  AUTH_FAILURE_PER_MINUTE?: number;

  @IsOptional()
  @IntegerIn(1, 1_000_000)
  AUTH_FAILURE_BURST?: number;

  @IsOptional()
  @IntegerIn(0, 100)
  DB_RESTART_ATTEMPTS?: number;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'WEBHOOK_SECRET_KEY must be at least 32 characters (e.g. openssl rand -base64 32)' })
  @MaxLength(1024, { message: 'WEBHOOK_SECRET_KEY must be at most 1024 characters' })
  WEBHOOK_SECRET_KEY?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES must be one of true, false' })
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES?: boolean;

  @IsOptional()
  @IntegerIn(0, 64)
  WEBHOOK_DELIVERY_CONCURRENCY?: number;

  @IsOptional()
  @IntegerIn(50, 60_000)
  WEBHOOK_POLL_MS?: number;

  @IsOptional()
  @IntegerIn(1, 50)
  WEBHOOK_MAX_ATTEMPTS?: number;

  @IsOptional()
  @IntegerIn(100, 120_000)
  WEBHOOK_TIMEOUT_MS?: number;

  @IsOptional()
  @IntegerIn(1, 3600)
  WEBHOOK_RETRY_BASE_SECONDS?: number;

  @IsOptional()
  @IntegerIn(1, 86_400)
  WEBHOOK_RETRY_CAP_SECONDS?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200, { message: 'NODE_ENV must be at most 200 characters' })
  NODE_ENV?: string;
}

export interface S3Settings {
  bucket: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  prefix: string;
}

/** The validated, typed configuration the rest of the app reads. */
export interface AppConfig {
  port: number;
  host: string;
  /**
   * How long an idle keep-alive connection stays open. Above the idle timeout of the clients and load
   * balancers in front, so that they, not the server, close idle connections: a server that closes
   * first races a client that is just reusing the connection, and that request fails.
   */
  httpKeepAliveSeconds: number;
  /**
   * The longest a whole request may take to arrive, body included (0: no limit). Node's own default
   * (300 s) cuts off a large dataset or model upload on an ordinary link with a 408.
   */
  httpRequestTimeoutSeconds: number;
  /**
   * Niceness of the compute worker threads (training, dataset profiling, transforms): above the main
   * thread's, so that the thread answering HTTP gets a core first when the cores are busy.
   */
  workerThreadNiceness: number;
  /** Set when the operator gives a server; unset means the embedded PostgreSQL. */
  databaseUrl?: string;
  dataDir: string;
  /** Set when artifacts go to S3; unset means the local folder DATA_DIR/artifacts. */
  s3?: S3Settings;
  bootstrapKey?: string;
  logLevel: LogLevel;
  trainerBackend: TrainerBackendSetting;
  /** Unset means: one per GPU on GPU backends, one on CPU backends. */
  trainerSlots?: number;
  /** Bytes one trainer slot may use; unset means 2 GiB (wasm32 heaps stop at 4 GiB; set it to the GPU's memory on GPU hosts). */
  trainerMemoryBudget?: number;
  /**
   * Steps at which every job this replica runs waits until the replica stops: for tests that kill
   * a replica at a known step. Empty in production.
   */
  trainerHoldAtSteps: number[];
  inference: {
    /** Inference worker threads; 0 means this replica answers no predictions (503). */
    workers: number;
    /** Bytes of loaded models one inference worker keeps (least recently used out first). */
    cacheBytes: number;
    /** Most inputs in one prediction request. */
    maxBatch: number;
    /** Most tokens one generation may ask for. */
    maxNewTokens: number;
    /** Tests: generations wait after this many tokens until released. Empty in production. */
    holdAtTokens: number[];
  };
  jobs: {
    /** A running job's lease; a replica that stops renewing it (killed) loses the job after this long. */
    leaseSeconds: number;
    /** How often an idle replica looks for queued jobs. */
    pollMs: number;
    /** Attempts (first run plus retries after crashes) before a job fails. */
    maxAttempts: number;
    /** Jobs of one project that may run at once across all replicas. */
    perProjectLimit: number;
  };
  evaluations: {
    /** Rows per forward pass of an evaluation; also the unit of its progress and test holds. */
    batchSize: number;
  };
  jsonBodyLimit: string;
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  /** Failed authentications one client address may make at once, and how fast that allowance refills. */
  authFailureBurst: number;
  authFailurePerMinute: number;
  /** Restarts in a row of a crashed embedded PostgreSQL before the process reports itself dead. */
  databaseRestartAttempts: number;
  publicUrl?: string;
  migrateOnStart: boolean;
  databasePoolSize: number;
  models: {
    /** Largest model import upload (the archive as sent). */
    maxImportBytes: number;
  };
  datasets: {
    /** Largest upload, in bytes as sent (compressed). */
    maxUploadBytes: number;
    /** Largest decompressed content: the gzip-bomb guard. */
    maxInflatedBytes: number;
    /** Longest line (JSONL) or record (CSV). */
    maxLineBytes: number;
  };
  webhooks: {
    /** Key material for encrypting webhook secrets at rest; unset: generated into DATA_DIR. */
    secretKey?: string;
    /** Whether deliveries may go to loopback and private networks (self-hosted receivers live there). */
    allowPrivateAddresses: boolean;
    /** Deliveries this replica sends at once; 0: this replica sends none. */
    deliveryConcurrency: number;
    /** How often an idle replica looks for due deliveries. */
    pollMs: number;
    /** Attempts of one delivery before it is marked failed. */
    maxAttempts: number;
    /** Time allowed for one attempt: connect, send, and the response's status and headers. */
    timeoutMs: number;
    /** Wait before the first retry; doubles per attempt up to the cap, with jitter. */
    retryBaseSeconds: number;
    retryCapSeconds: number;
  };
  transforms: {
    /** The most rows any one step of a transform may write (refused up front when certain). */
    maxOutputRows: number;
    /** The most bytes (as JSON Lines) any one step of a transform may write. */
    maxOutputBytes: number;
    /** Heap of a transform worker; past it the worker stops and the transform is refused. */
    workerMemoryBytes: number;
  };
}

export class ConfigurationError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function loadConfig(
  environment: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): AppConfig {
  // Empty strings count as unset, as in most twelve-factor tools; variables not declared above are
  // dropped by the whitelist.
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && value !== '') {
      raw[name] = value;
    }
  }
  const env = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(env, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    const reason = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
    const shown = first.property.includes('KEY') ? '(hidden)' : JSON.stringify(raw[first.property]);
    const message = reason.startsWith(first.property) ? reason : `${first.property}: ${reason}`;
    throw new ConfigurationError(first.property, `Invalid configuration: ${message} (got ${shown})`);
  }
  if ((env.S3_ENDPOINT || env.S3_REGION || env.S3_PREFIX || env.S3_FORCE_PATH_STYLE !== undefined) && !env.S3_BUCKET) {
    throw new ConfigurationError(
      'S3_BUCKET',
      'Invalid configuration: S3_BUCKET must be set when any other S3_* variable is set',
    );
  }
  const dataDir = path.resolve(env.DATA_DIR ?? 'data');
  return {
    port: env.PORT ?? 8080,
    host: env.HOST ?? '0.0.0.0',
    httpKeepAliveSeconds: env.HTTP_KEEP_ALIVE_SECONDS ?? 65,
    httpRequestTimeoutSeconds: env.HTTP_REQUEST_TIMEOUT_SECONDS ?? 3600,
    workerThreadNiceness: env.WORKER_THREAD_NICENESS ?? 10,
    databaseUrl: env.DATABASE_URL,
    dataDir,
    s3: env.S3_BUCKET
      ? {
          bucket: env.S3_BUCKET,
          endpoint: env.S3_ENDPOINT,
          region: env.S3_REGION ?? 'us-east-1',
          forcePathStyle: env.S3_FORCE_PATH_STYLE ?? false,
          prefix: normalisePrefix(env.S3_PREFIX ?? ''),
        }
      : undefined,
    bootstrapKey: env.TUNEFORGE_BOOTSTRAP_KEY,
    logLevel: env.LOG_LEVEL ?? 'info',
    trainerBackend: env.TRAINER_BACKEND ?? 'auto',
    trainerSlots: env.TRAINER_SLOTS,
    trainerMemoryBudget: env.TRAINER_MEMORY_BUDGET ? parseSize(env.TRAINER_MEMORY_BUDGET) : undefined,
    trainerHoldAtSteps: env.TRAINER_HOLD_AT_STEPS ? env.TRAINER_HOLD_AT_STEPS.split(',').map(Number) : [],
    inference: {
      workers: env.INFERENCE_WORKERS ?? 1,
      cacheBytes: parseSize(env.INFERENCE_CACHE_BYTES ?? '1gb'),
      maxBatch: env.INFERENCE_MAX_BATCH ?? 64,
      maxNewTokens: env.INFERENCE_MAX_NEW_TOKENS ?? 256,
      holdAtTokens: env.INFERENCE_HOLD_AT_TOKENS ? env.INFERENCE_HOLD_AT_TOKENS.split(',').map(Number) : [],
    },
    jobs: {
      leaseSeconds: env.JOB_LEASE_SECONDS ?? 30,
      pollMs: env.JOB_POLL_MS ?? 1000,
      maxAttempts: env.JOB_MAX_ATTEMPTS ?? 3,
      perProjectLimit: env.JOBS_PER_PROJECT_LIMIT ?? 2,
    },
    evaluations: { batchSize: env.EVALUATION_BATCH_SIZE ?? 64 },
    jsonBodyLimit: env.JSON_BODY_LIMIT ?? '1mb',
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE ?? 600,
    rateLimitBurst: env.RATE_LIMIT_BURST ?? env.RATE_LIMIT_PER_MINUTE ?? 600,
    authFailureBurst: env.AUTH_FAILURE_BURST ?? 20,
    authFailurePerMinute: env.AUTH_FAILURE_PER_MINUTE ?? 10,
    databaseRestartAttempts: env.DB_RESTART_ATTEMPTS ?? 5,
    publicUrl: env.PUBLIC_URL,
    migrateOnStart: env.DB_MIGRATE_ON_START ?? true,
    databasePoolSize: env.DB_POOL_SIZE ?? 10,
    models: {
      maxImportBytes: parseSize(env.MODEL_IMPORT_MAX_BYTES ?? '20gb'),
    },
    datasets: {
      maxUploadBytes: parseSize(env.DATASET_MAX_UPLOAD_BYTES ?? '10gb'),
      maxInflatedBytes: parseSize(env.DATASET_MAX_INFLATED_BYTES ?? '40gb'),
      maxLineBytes: parseSize(env.DATASET_MAX_LINE_BYTES ?? '1mb'),
    },
    webhooks: {
      secretKey: env.WEBHOOK_SECRET_KEY,
      allowPrivateAddresses: env.WEBHOOK_ALLOW_PRIVATE_ADDRESSES ?? true,
      deliveryConcurrency: env.WEBHOOK_DELIVERY_CONCURRENCY ?? 4,
      pollMs: env.WEBHOOK_POLL_MS ?? 1000,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS ?? 12,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS ?? 10_000,
      retryBaseSeconds: env.WEBHOOK_RETRY_BASE_SECONDS ?? 10,
      retryCapSeconds: Math.max(env.WEBHOOK_RETRY_CAP_SECONDS ?? 3600, env.WEBHOOK_RETRY_BASE_SECONDS ?? 10),
    },
    transforms: {
      maxOutputRows: env.TRANSFORM_MAX_OUTPUT_ROWS ?? 10_000_000,
      maxOutputBytes: parseSize(env.TRANSFORM_MAX_OUTPUT_BYTES ?? '10gb'),
      workerMemoryBytes: parseSize(env.TRANSFORM_WORKER_MEMORY ?? '2gb'),
    },
  };
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `10gb` -> bytes (binary units, as body-parser reads `1mb`). */
export function parseSize(size: string): number {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!match) {
    throw new Error(`not a size: ${size}`);
  }
  return Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()];
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

/** Injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
