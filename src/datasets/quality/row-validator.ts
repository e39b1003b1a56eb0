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
 * The problem with a row, or undefined. `line` goes into the error (callers that know it may also
 * set it on the result). Rules:
 * - every task: the row is an object;
 * - classification, regression, prompt-completion: at least one input field is present, and present
 *   input fields hold a string, number or boolean; the label field is present;
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
    case 'prompt-completion':
      return validateInputs(record, schema, line) ?? validateLabel(record, task, schema, line);
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

function validateInputs(record: DatasetRecord, schema: DatasetSchema, line: number): RowError | undefined {
  const fields = schema.inputFields;
  let present = 0;
  for (let index = 0; index < fields.length; index += 1) {
    const value = record[fields[index]];
    if (isAbsent(value)) {
      continue;
    }
    present += 1;
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      return error(line, fields[index], `input field "${fields[index]}" must be a string, number or boolean`);
    }
  }
  if (present === 0 && fields.length > 0) {
    return fields.length === 1
      ? error(line, fields[0], `missing input field "${fields[0]}"`)
      : error(line, undefined, `missing input fields: none of ${fields.map((field) => `"${field}"`).join(', ')}`);
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
