import { Injectable } from '@nestjs/common';

/** A part of the app that starts after the HTTP server and may not be ready yet. */
export type ComponentState = 'starting' | 'ready' | 'failed' | 'disabled';

/**
 * Where parts that start in the background (the trainer pool) report how far they are, for the
 * readiness probe. A part that never reports is `starting`.
 */
@Injectable()
export class Readiness {
  private trainer: ComponentState = 'starting';

  reportTrainer(state: ComponentState): void {
    this.trainer = state;
  }

  trainerState(): ComponentState {
    return this.trainer;
  }
}
