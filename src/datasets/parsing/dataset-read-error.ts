/**
 * Why a whole upload could not be read. Problems confined to one line or record are not thrown:
 * the readers yield them as `RowError`s and carry on.
 */
export const DATASET_READ_ERROR_CODES = [
  /** More decompressed bytes than `maxInflatedBytes` (a gzip bomb, or simply a file over the size limit). */
  'inflated_too_large',
  /** More bytes arrived from the source than `maxInputBytes`. */
  'input_too_large',
  /** The gzip data is damaged (bad header, bad block, bad checksum, garbage after the last member). */
  'corrupt_gzip',
  /** The gzip data stops before its end: typically an upload cut off half way. */
  'truncated_gzip',
  /** Not JSONL or CSV text: binary or UTF-16 data, another compression format, a JSON array. */
  'unknown_format',
  /** A CSV upload without a header row (empty, or only blank lines). */
  'csv_no_header',
  /** A CSV header with an empty column name, invalid UTF-8, or longer than `maxLineBytes`. */
  'csv_invalid_header',
  /** A CSV header that names the same column twice. */
  'csv_duplicate_header',
] as const;
export type DatasetReadErrorCode = (typeof DATASET_READ_ERROR_CODES)[number];

/** How far reading got when it failed, for logs and for telling the uploader. */
export interface ReadProgress {
  lines: number;
  bytesRead: number;
  bytesInflated: number;
}

export class DatasetReadError extends Error {
  /** Set by the reader before the error leaves it. */
  progress?: ReadProgress;

  constructor(
    readonly code: DatasetReadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatasetReadError';
  }
}
