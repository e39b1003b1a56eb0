/** A failure with a code the job records; anything else is reported as `training_error`. */
export class TrainingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly step?: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}
