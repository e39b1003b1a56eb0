/**
 * Whether a parsed row can be trained on for its task. A row that fails is an error row (the version
 * becomes invalid); a missing or empty optional input field is not an error, the quality report's
 * completeness counts it. Cheap and allocation-free on the happy path: it runs on every row.
 */
import type { DatasetRecord, DatasetSchema, DatasetTask, RowError } from '../dataset-types.js';

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function error(line: number, field: string | undefined, reason: string): RowError {
  return field === undefined ? { line, reason } : { line, field, reason };
}

/** Numbers, and (for CSV, where every value is a string) strings that hold one. */
export function numericLabel(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * What earlier rows established about each input field: a vector field's length, and which fields
 * held single values. A RowValidator keeps one per file.
 */
export interface FieldShapes {
  vectorLengths: Map<string, number>;
  scalarFields: Set<string>;
}

/** Validates the rows of one file in order: vector lengths are established by the first row that has one. */
export class RowValidator {
  private readonly shapes: FieldShapes = { vectorLengths: new Map(), scalarFields: new Set() };

  constructor(
    private readonly task: DatasetTask,
    private readonly schema: DatasetSchema,
  ) {}

  validate(record: DatasetRecord, line = 0): RowError | undefined {
    return validateRow(record, this.task, this.schema, line, this.shapes);
  }
}

/**
 * The problem with a row, or undefined. `line` goes into the error (callers that know it may also
 * set it on the result). Rules:
 * - every task: the row is an object;
 * - classification, regression, prompt-completion: at least one input field is present, and present
 *   input fields hold a string, number or boolean; the label field is present;
 * - classification and regression: an input field may instead hold a vector, a non-empty flat array
 *   of finite numbers (pixels, an embedding); with `shapes`, every row's vector in a field has the
 *   length of the first, and a field holds vectors in every row or in none;
 * - classification: the label is a non-empty string or an integer;
 * - regression: the label is a finite number, or a string holding one (CSV);
 * - prompt-completion: the completion is a string (it may be empty: completeness reports that);
 * - causal-lm: every text field is a string;
 * - chat: every input field (`messages`) is a non-empty array of { role, content } with role one of
 *   system/user/assistant/tool and content a string (an assistant message with `tool_calls` may have
 *   null content), with at least one assistant message.
 */
export function validateRow(
  record: DatasetRecord,
  task: DatasetTask,
  schema: DatasetSchema,
  line = 0,
  shapes?: FieldShapes,
): RowError | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return error(line, undefined, 'row must be a JSON object');
  }
  switch (task) {
    case 'causal-lm':
      return validateText(record, schema, line);
    case 'chat':
      return validateChat(record, schema, line);
    case 'classification':
    case 'regression':
      return validateInputs(record, schema, line, shapes ?? null) ?? validateLabel(record, task, schema, line);
    case 'prompt-completion':
      return validateInputs(record, schema, line, undefined) ?? validateLabel(record, task, schema, line);
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

/**
 * `shapes`: undefined where vectors are not accepted (prompt-completion), null where they are but
 * no earlier rows are known (a single row), else what earlier rows established.
 */
function validateInputs(
  record: DatasetRecord,
  schema: DatasetSchema,
  line: number,
  shapes: FieldShapes | null | undefined,
): RowError | undefined {
  const fields = schema.inputFields;
  let present = 0;
  for (let index = 0; index < fields.length; index += 1) {
    const field = fields[index];
    const value = record[field];
    if (isAbsent(value)) {
      continue;
    }
    present += 1;
    if (Array.isArray(value) && shapes !== undefined) {
      const problem = validateVector(value, field, line, shapes);
      if (problem) {
        return problem;
      }
      continue;
    }
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      return error(
        line,
        field,
        shapes === undefined
          ? `input field "${field}" must be a string, number or boolean`
          : `input field "${field}" must be a string, number, boolean or an array of numbers`,
      );
    }
    if (shapes) {
      const length = shapes.vectorLengths.get(field);
      if (length !== undefined) {
        return error(line, field, `input field "${field}" must be an array of ${length} numbers, as in earlier rows`);
      }
      shapes.scalarFields.add(field);
    }
  }
  if (present === 0 && fields.length > 0) {
    return fields.length === 1
      ? error(line, fields[0], `missing input field "${fields[0]}"`)
      : error(line, undefined, `missing input fields: none of ${fields.map((field) => `"${field}"`).join(', ')}`);
  }
  return undefined;
}

function validateVector(
  value: unknown[],
  field: string,
  line: number,
  shapes: FieldShapes | null,
): RowError | undefined {
  if (value.length === 0) {
    return error(line, field, `input field "${field}" is an empty array; a vector needs at least one number`);
  }
  for (let index = 0; index < value.length; index += 1) {
    const element = value[index];
    if (typeof element !== 'number' || !Number.isFinite(element)) {
      const shown =
        typeof element === 'number'
          ? String(element)
          : Array.isArray(element)
            ? 'an array'
            : element === null
              ? 'null'
              : JSON.stringify(element);
      return error(
        line,
        field,
        `input field "${field}" must be an array of finite numbers; element ${index} is ${shown ?? typeof element}`,
      );
    }
  }
  if (!shapes) {
    return undefined;
  }
  if (shapes.scalarFields.has(field)) {
    return error(line, field, `input field "${field}" holds single values in earlier rows, not arrays`);
  }
  const established = shapes.vectorLengths.get(field);
  if (established === undefined) {
    shapes.vectorLengths.set(field, value.length);
  } else if (established !== value.length) {
    return error(line, field, `input field "${field}" has ${value.length} numbers; earlier rows have ${established}`);
  }
  return undefined;
}

function validateLabel(
  record: DatasetRecord,
  task: 'classification' | 'regression' | 'prompt-completion',
  schema: DatasetSchema,
  line: number,
): RowError | undefined {
  const field = schema.labelField;
  if (field === undefined) {
    return error(line, undefined, `the schema of a ${task} dataset has no label field`);
  }
  const value = record[field];
  if (isAbsent(value)) {
    return error(line, field, `missing label field "${field}"`);
  }
  switch (task) {
    case 'classification':
      if (typeof value === 'string' ? value.trim() === '' : !Number.isInteger(value)) {
        return error(line, field, `label field "${field}" must be a non-empty string or an integer`);
      }
      return undefined;
    case 'regression':
      return numericLabel(value) === undefined
        ? error(line, field, `label field "${field}" must be a finite number`)
        : undefined;
    case 'prompt-completion':
      return typeof value === 'string' ? undefined : error(line, field, `label field "${field}" must be a string`);
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

function validateText(record: DatasetRecord, schema: DatasetSchema, line: number): RowError | undefined {
  for (const field of schema.inputFields) {
    const value = record[field];
    if (isAbsent(value)) {
      return error(line, field, `missing text field "${field}"`);
    }
    if (typeof value !== 'string') {
      return error(line, field, `text field "${field}" must be a string`);
    }
  }
  return undefined;
}

function validateChat(record: DatasetRecord, schema: DatasetSchema, line: number): RowError | undefined {
  for (const field of schema.inputFields) {
    const messages = record[field];
    if (isAbsent(messages)) {
      return error(line, field, `missing messages field "${field}"`);
    }
    if (!Array.isArray(messages) || messages.length === 0) {
      return error(line, field, `field "${field}" must be a non-empty array of messages`);
    }
    let assistant = false;
    for (let index = 0; index < messages.length; index += 1) {
      const message: unknown = messages[index];
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        return error(line, field, `message ${index + 1} must be an object with role and content`);
      }
      const { role, content } = message as { role?: unknown; content?: unknown };
      if (typeof role !== 'string' || !(CHAT_ROLES as readonly string[]).includes(role)) {
        return error(line, field, `message ${index + 1}: role must be one of ${CHAT_ROLES.join(', ')}`);
      }
      const toolCalls = (message as { tool_calls?: unknown }).tool_calls;
      const contentOptional = role === 'assistant' && Array.isArray(toolCalls) && toolCalls.length > 0;
      if (typeof content !== 'string' && !(contentOptional && isAbsent(content))) {
        return error(line, field, `message ${index + 1}: content must be a string`);
      }
      if (role === 'assistant') {
        assistant = true;
      }
    }
    if (!assistant) {
      return error(line, field, `field "${field}" has no assistant message`);
    }
  }
  return undefined;
}
