import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainMetrics } from '../platform/metrics/domain-metrics.js';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { TrainerPool, WorkerCrashedError } from '../trainer/pool/trainer-pool.js';
import { CONTROL_CANCEL } from '../trainer/runtime/protocol.js';
import { EvaluationHoldGate } from './evaluation-hold-gate.js';
import { EvaluationInputs, InputFailure } from './evaluation-inputs.js';
import { EvaluationQueue, type ClaimedEvaluation } from './evaluation-queue.js';
import { EvaluationEntity, type EvaluationError } from './evaluation.entity.js';
import type { EvaluationOutcome } from './worker/evaluation-protocol.js';

interface Execution {
  id: string;
  control: Int32Array;
  lost: boolean;
  processedRows: number;
  done: Promise<void>;
}

export const predictionsKey = (evaluation: { projectId: string; id: string }) =>
  `projects/${evaluation.projectId}/evaluations/${evaluation.id}/predictions.jsonl`;

/**
 * This replica's side of the evaluation queue: claims evaluations while a trainer slot is free,
 * feeds the worker the model files and the data chunk by chunk, writes the prediction lines it
 * sends back to the ArtifactStore, renews the lease, passes a cancel on, and records the result.
 * A result is recorded only with the whole predictions file stored, in one write under the lease:
 * an evaluation that stops half-way (crash, lost lease) is re-run from its first row by the next
 * claim, deterministically, and nothing it had acknowledged is lost.
 */
@Injectable()
export class EvaluationRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EvaluationRunner.name);
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly executions = new Map<string, Execution>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: EvaluationQueue,
    private readonly pool: TrainerPool,
    private readonly inputs: EvaluationInputs,
    private readonly store: ArtifactStore,
    private readonly gate: EvaluationHoldGate,
    private readonly metrics: DomainMetrics,
    @InjectRepository(EvaluationEntity) private readonly evaluations: Repository<EvaluationEntity>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.trainerSlots === 0) {
      return;
    }
    this.pool.start().then(
      () => this.schedule(0),
      () => undefined, // The job runner reports a pool that does not start.
    );
  }

  /** Look for work now (an evaluation was just queued) rather than at the next poll. */
  poke(): void {
    if (this.config.trainerSlots !== 0 && !this.stopping) {
      this.schedule(0);
    }
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) {
      return;
    }
    this.ticking = true;
    try {
      while (!this.stopping) {
        const placeholder = `claiming:${randomUUID()}`;
        if (!this.pool.reserve(placeholder)) {
          break;
        }
        let claimed: ClaimedEvaluation | null = null;
        try {
          claimed = await this.queue.claim(this.replicaId);
        } finally {
          if (!claimed) {
            this.pool.release(placeholder);
          }
        }
        if (!claimed) {
          break;
        }
        this.pool.transferReservation(placeholder, claimed.id);
        this.startExecution(claimed);
      }
    } catch (error) {
      this.logger.warn(`Evaluation claim failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
      if (!this.stopping) {
        this.schedule(this.config.jobs.pollMs);
      }
    }
  }

  private startExecution(claimed: ClaimedEvaluation): void {
    const execution: Execution = {
      id: claimed.id,
      control: new Int32Array(new SharedArrayBuffer(4)),
      lost: false,
      processedRows: 0,
      done: Promise.resolve(),
    };
    this.executions.set(claimed.id, execution);
    const started = process.hrtime.bigint();
    execution.done = this.execute(claimed, execution)
      .then((outcome) => {
        if (outcome === 'succeeded' || outcome === 'failed') {
          this.metrics.evaluationFinished(Number(process.hrtime.bigint() - started) / 1e9, outcome);
        }
      })
      .catch((error: unknown) => this.logger.error(`Evaluation ${claimed.id} runner error: ${String(error)}`))
      .finally(() => {
        this.executions.delete(claimed.id);
        this.pool.release(claimed.id);
        this.poke();
      });
  }

  private async execute(claimed: ClaimedEvaluation, execution: Execution): Promise<string> {
    const heartbeat = setInterval(
      () => void this.heartbeat(execution),
      Math.max(200, (this.config.jobs.leaseSeconds * 1000) / 4),
    );
    const key = predictionsKey(await this.evaluations.findOneByOrFail({ id: claimed.id }));
    const sink = new PassThrough();
    let stored: Promise<unknown> | null = null;
    const streams = new Map<'training' | 'evaluation', AsyncIterator<Buffer>>();
    try {
      const evaluation = await this.evaluations.findOneByOrFail({ id: claimed.id });
      if (evaluation.control === 'cancel') {
        await this.queue.finish(evaluation.id, this.replicaId, { status: 'cancelled' });
        return 'cancelled';
      }
      const prepared = await this.inputs.prepare(evaluation);
      stored = this.store.put(key, sink);
      // A run that stops destroys the sink, which rejects the put: expected, and awaited in `finally`.
      stored.catch(() => undefined);
      const open = async (stream: 'training' | 'evaluation'): Promise<AsyncIterator<Buffer>> => {
        let iterator = streams.get(stream);
        if (!iterator) {
          const source: Readable = await this.inputs.open(prepared.keys[stream]);
          iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
          streams.set(stream, iterator);
        }
        return iterator;
      };
      const outcome: EvaluationOutcome = await this.pool.evaluate(
        {
          ...prepared.start,
          evaluationId: evaluation.id,
          attempt: claimed.attempt,
          control: execution.control.buffer as SharedArrayBuffer,
          holdAtBatches: this.gate.batchesFor(evaluation),
        },
        {
          onPull: async (stream) => {
            const next = await (await open(stream)).next();
            return next.done ? null : new Uint8Array(next.value);
          },
          onPredictions: async (text) => {
            if (!sink.write(text)) {
              await once(sink, 'drain');
            }
          },
          onProgress: (rows) => {
            execution.processedRows = rows;
          },
          onHeld: async (batches) => {
            await this.heartbeat(execution);
            await this.gate.atBatch(evaluation.id, batches);
            await this.heartbeat(execution);
          },
        },
      );
      if (execution.lost) {
        sink.destroy();
        return 'lost';
      }
      switch (outcome.status) {
        case 'succeeded':
          sink.end();
          await stored;
          await this.queue.finish(evaluation.id, this.replicaId, {
            status: 'succeeded',
            result: outcome.result,
            predictionsKey: key,
            processedRows: outcome.result.rows,
          });
          return 'succeeded';
        case 'cancelled':
          sink.destroy();
          await this.queue.finish(evaluation.id, this.replicaId, { status: 'cancelled' });
          return 'cancelled';
        case 'failed':
          sink.destroy();
          await this.fail(evaluation.id, { code: outcome.code, message: outcome.message });
          return 'failed';
        default: {
          const unreachable: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
        }
      }
    } catch (error) {
      sink.destroy();
      if (execution.lost) {
        return 'lost';
      }
      if (error instanceof InputFailure) {
        await this.fail(claimed.id, { code: error.code, message: error.message });
        return 'failed';
      }
      if (error instanceof WorkerCrashedError) {
        if (claimed.attempt < claimed.maxAttempts) {
          this.logger.warn(
            `Evaluation ${claimed.id}: ${error.message}; queued again (attempt ${claimed.attempt} of ${claimed.maxAttempts})`,
          );
          await this.queue.finish(claimed.id, this.replicaId, { status: 'queued' });
          return 'requeued';
        }
        await this.fail(claimed.id, {
          code: 'worker_crashed',
          message: `${error.message}, on each of ${claimed.maxAttempts} attempts`,
        });
        return 'failed';
      }
      this.logger.error(
        `Evaluation ${claimed.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      await this.fail(claimed.id, {
        code: 'internal_error',
        message: error instanceof Error ? error.message : String(error),
      });
      return 'failed';
    } finally {
      clearInterval(heartbeat);
      for (const iterator of streams.values()) {
        await iterator.return?.().catch(() => undefined);
      }
      await stored?.catch(() => undefined);
    }
  }

  private async fail(id: string, error: EvaluationError): Promise<void> {
    await this.queue.finish(id, this.replicaId, { status: 'failed', error });
  }

  private async heartbeat(execution: Execution): Promise<void> {
    if (this.executions.get(execution.id) !== execution) {
      return;
    }
    try {
      const beat = await this.queue.heartbeat(execution.id, this.replicaId, execution.processedRows);
      if (beat.lost && !execution.lost) {
        execution.lost = true;
        this.logger.warn(`Lost the lease of evaluation ${execution.id}; stopping its worker`);
        await this.pool.terminate(execution.id);
      } else if (beat.cancel) {
        Atomics.store(execution.control, 0, CONTROL_CANCEL);
      }
    } catch (error) {
      this.logger.warn(`Heartbeat of evaluation ${execution.id} failed: ${String(error)}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.gate.releaseAll();
    // A running evaluation restarts from its first row on the next claim; stop it rather than wait.
    for (const execution of this.executions.values()) {
      execution.lost = true;
      await this.pool.terminate(execution.id);
      await this.queue.finish(execution.id, this.replicaId, { status: 'queued' }).catch(() => false);
    }
  }
}
