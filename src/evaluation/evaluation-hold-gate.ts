import { Injectable } from '@nestjs/common';

/** A hold on one evaluation after a number of batches: `reached` resolves once the worker waits there. */
export interface BatchHold {
  readonly batches: number;
  readonly reached: Promise<{ evaluationId: string; batches: number }>;
  release(): void;
}

interface PendingHold {
  batches: number;
  modelName: string | undefined;
  evaluationId: string | null;
  reachedOnce: boolean;
  onReached: (value: { evaluationId: string; batches: number }) => void;
  released: Promise<void>;
  release: () => void;
}

/**
 * Holds a running evaluation after a chosen number of batches until released, so that tests can
 * land a cancel or a worker crash at a known point instead of racing the worker. Nothing is held
 * unless a test asks; an evaluation with no hold pays nothing.
 */
@Injectable()
export class EvaluationHoldGate {
  private readonly holds: PendingHold[] = [];
  private stopped = false;

  /** Holds the first evaluation that starts (of `modelName`, when given) after `batches` batches. */
  hold(batches: number, match: { modelName?: string } = {}): BatchHold {
    if (!Number.isInteger(batches) || batches < 1) {
      throw new Error(`A hold needs a batch count >= 1, not ${batches}`);
    }
    let onReached: PendingHold['onReached'] = () => undefined;
    const reached = new Promise<{ evaluationId: string; batches: number }>((resolve) => {
      onReached = resolve;
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({
      batches,
      modelName: match.modelName,
      evaluationId: null,
      reachedOnce: false,
      onReached,
      released,
      release,
    });
    return { batches, reached, release };
  }

  /** The batch counts an evaluation about to run stops at, binding matching holds to it; null for none. */
  batchesFor(evaluation: { id: string; modelName: string }): number[] | null {
    if (this.stopped) {
      return null;
    }
    const batches = new Set<number>();
    for (const hold of this.holds) {
      const matches =
        hold.evaluationId === evaluation.id ||
        (hold.evaluationId === null && (hold.modelName === undefined || hold.modelName === evaluation.modelName));
      if (matches && !hold.reachedOnce) {
        hold.evaluationId = evaluation.id;
        batches.add(hold.batches);
      }
    }
    return batches.size > 0 ? [...batches].sort((a, b) => a - b) : null;
  }

  /** The worker of `evaluationId` waits after `batches` batches: resolves when every hold there is released. */
  async atBatch(evaluationId: string, batches: number): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const hold of this.holds) {
      if (hold.evaluationId === evaluationId && hold.batches === batches && !hold.reachedOnce) {
        hold.reachedOnce = true;
        hold.onReached({ evaluationId, batches });
        waits.push(hold.released);
      }
    }
    await Promise.all(waits);
  }

  releaseAll(): void {
    this.stopped = true;
    for (const hold of this.holds) {
      hold.release();
    }
  }
}
