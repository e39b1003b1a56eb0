import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';

/** Which job a hold applies to: the first one to start that matches. */
export interface StepHoldMatch {
  jobId?: string;
  outputModelName?: string;
}

/** A hold on one job at one step: `reached` resolves once the worker waits there. */
export interface StepHold {
  readonly step: number;
  readonly reached: Promise<{ jobId: string; step: number }>;
  /** Lets the worker go on; a pause or cancel asked for meanwhile takes effect at this step. */
  release(): void;
}

interface PendingHold {
  step: number;
  match: StepHoldMatch;
  jobId: string | null;
  reachedOnce: boolean;
  onReached: (value: { jobId: string; step: number }) => void;
  released: Promise<void>;
  release: () => void;
}

/**
 * Holds a running job at a chosen optimiser step until released, so that tests can land a pause,
 * a cancel or a crash at a known step instead of racing the trainer. Nothing is held unless a
 * test asks (`hold`) or `TRAINER_HOLD_AT_STEPS` is set; a job with no hold pays nothing.
 */
@Injectable()
export class TrainingStepGate {
  private readonly holds: PendingHold[] = [];
  private stopped = false;
  private releaseConfigured: () => void = () => undefined;
  private readonly configuredReleased = new Promise<void>((resolve) => {
    this.releaseConfigured = resolve;
  });

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Holds the first job that starts matching `match` when it has done `step` steps. */
  hold(step: number, match: StepHoldMatch): StepHold {
    if (!Number.isInteger(step) || step < 0) {
      throw new Error(`A hold needs a step >= 0, not ${step}`);
    }
    let onReached: PendingHold['onReached'] = () => undefined;
    const reached = new Promise<{ jobId: string; step: number }>((resolve) => {
      onReached = resolve;
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ step, match, jobId: null, reachedOnce: false, onReached, released, release });
    return { step, reached, release };
  }

  /**
   * The steps a job about to run must stop at, binding the holds it matches to it; null when
   * there are none (the worker then checks nothing).
   */
  stepsFor(job: { id: string; outputModelName: string }): number[] | null {
    const steps = new Set<number>(this.stopped ? [] : this.config.trainerHoldAtSteps);
    for (const hold of this.holds) {
      const matches =
        hold.jobId === job.id ||
        (hold.jobId === null &&
          (hold.match.jobId === undefined || hold.match.jobId === job.id) &&
          (hold.match.outputModelName === undefined || hold.match.outputModelName === job.outputModelName));
      if (matches && !hold.reachedOnce) {
        hold.jobId = job.id;
        steps.add(hold.step);
      }
    }
    return steps.size > 0 ? [...steps].sort((a, b) => a - b) : null;
  }

  /** The worker of `jobId` waits at `step`: resolves when every hold there is released. */
  async atStep(jobId: string, step: number): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const hold of this.holds) {
      if (hold.jobId === jobId && hold.step === step && !hold.reachedOnce) {
        hold.reachedOnce = true;
        hold.onReached({ jobId, step });
        waits.push(hold.released);
      }
    }
    if (!this.stopped && this.config.trainerHoldAtSteps.includes(step)) {
      waits.push(this.configuredReleased);
    }
    await Promise.all(waits);
  }

  /** On shutdown: every hold lets go, so running jobs can checkpoint and be requeued. */
  releaseAll(): void {
    this.stopped = true;
    this.releaseConfigured();
    for (const hold of this.holds) {
      hold.release();
    }
  }
}
