/** Steps that rewrite text in place: clean and redact. */
import type { DatasetTask } from '../dataset-types.js';
import { PERSONAL_DATA_TYPES, type CleanStep, type PersonalDataType, type RedactStep } from './transform-types.js';
import { fail, KnownFields, rewriteTextFields, type StepFunction } from './transform-rows.js';

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  laquo: '\u00ab',
  raquo: '\u00bb',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  euro: '\u20ac',
  pound: '\u00a3',
  yen: '\u00a5',
  cent: '\u00a2',
  deg: '\u00b0',
  times: '\u00d7',
  divide: '\u00f7',
  middot: '\u00b7',
  bull: '\u2022',
};

const INVISIBLE_ELEMENT = /<(script|style|noscript|template)\b[^>]*>[\s\S]*?<\/\1\s*>/giu;
const COMMENT = /<!--[\s\S]*?-->/gu;
/** Tags whose boundaries separate text, so `a<br>b` does not become `ab`. */
const BREAKING_TAG =
  /<\/?(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|pre|section|article|header|footer|hr)\b[^>]*>/giu;
/** A tag starts with a letter, `/` or `!` right after `<`, so `3 < 4` is left alone. */
const TAG = /<[a-zA-Z/!?][^<>]*>/gu;
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/gu;

/** Removes tags, comments and script/style contents, then decodes entities (once: `&amp;lt;` gives `&lt;`). */
export function stripHtml(text: string): string {
  const withoutTags = text
    .replace(INVISIBLE_ELEMENT, ' ')
    .replace(COMMENT, '')
    .replace(BREAKING_TAG, '\n')
    .replace(TAG, '');
  return withoutTags.replace(ENTITY, (entity, decimal?: string, hexadecimal?: string, name?: string) => {
    if (name !== undefined) {
      return Object.hasOwn(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : entity;
    }
    const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hexadecimal ?? '', 16);
    const isSurrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
    return codePoint > 0 && codePoint <= 0x10ffff && !isSurrogate ? String.fromCodePoint(codePoint) : entity;
  });
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu;

/** Removes C0 and C1 control characters except tab and newline; CR and CRLF become LF first. */
export function stripControlCharacters(text: string): string {
  return text.replace(/\r\n?/gu, '\n').replace(CONTROL, '');
}

interface CleanOptions {
  trim: boolean;
  nfkc: boolean;
  stripControl: boolean;
  stripHtml: boolean;
  lowercase: boolean;
}

/** HTML first (decoded entities may need NFKC), then NFKC, controls, case, and trimming last. */
export function cleanText(text: string, options: CleanOptions): string {
  let result = text;
  if (options.stripHtml) {
    result = stripHtml(result);
  }
  if (options.nfkc) {
    result = result.normalize('NFKC');
  }
  if (options.stripControl) {
    result = stripControlCharacters(result);
  }
  if (options.lowercase) {
    result = result.toLowerCase();
  }
  if (options.trim) {
    result = result.trim();
  }
  return result;
}

/**
 * clean: every enabled operation on `fields` (default: the input fields; chat: message contents).
 * Classification labels that are strings also get trim and NFKC by default (so `"pos "` and
 * `"pos"` are one class) but not lowercasing, HTML or control stripping, which could merge classes
 * silently; list the label field in `fields` to apply everything to it.
 */
export const cleanStep: StepFunction<CleanStep> = (input, step, context) => {
  const options: CleanOptions = {
    trim: step.trim ?? true,
    nfkc: step.nfkc ?? true,
    stripControl: step.stripControl ?? true,
    stripHtml: step.stripHtml ?? false,
    lowercase: step.lowercase ?? false,
  };
  const known = step.fields ? new KnownFields(step.fields) : undefined;
  const fields = step.fields ?? context.schema.inputFields;
  const labelField = context.schema.labelField;
  const cleanLabels =
    context.task === 'classification' &&
    labelField !== undefined &&
    !fields.includes(labelField) &&
    (options.trim || options.nfkc);
  const labelOptions: CleanOptions = { ...options, stripHtml: false, stripControl: false, lowercase: false };

  let valuesChanged = 0;
  let rowsChanged = 0;
  let labelsChanged = 0;
  const output = context.newSink();
  for (const row of input.rows()) {
    known?.see(row.record);
    const cleaned = rewriteTextFields(row.record, fields, (text) => cleanText(text, options));
    let record = cleaned.record;
    valuesChanged += cleaned.changed;
    if (cleanLabels) {
      const label = rewriteTextFields(record, [labelField], (text) => cleanText(text, labelOptions));
      labelsChanged += label.changed;
      record = label.record;
    }
    if (record === row.record) {
      output.write(row);
      continue;
    }
    rowsChanged += 1;
    output.write({ ...row, record });
  }
  known?.check(context);
  return {
    output: output.finish(),
    details: { fields, options, valuesChanged, labelsChanged, rowsChanged },
  };
};

/**
 * redact: replaces personal data with typed placeholders through the injected redactor, in
 * `fields` (default: the input fields, plus the completion of prompt-completion datasets).
 */
export const redactStep: StepFunction<RedactStep> = (input, step, context) => {
  const redact = context.redact;
  if (!redact) {
    return fail(context, 'no personal-data redactor is configured');
  }
  const known = step.fields ? new KnownFields(step.fields) : undefined;
  const fields =
    step.fields ?? defaultRedactionFields(context.task, context.schema.inputFields, context.schema.labelField);
  const types = step.types ? new Set<PersonalDataType>(step.types) : undefined;
  const counts = new Map<PersonalDataType, number>();
  let rowsChanged = 0;
  let valuesChanged = 0;
  const output = context.newSink();
  for (const row of input.rows()) {
    known?.see(row.record);
    const result = rewriteTextFields(row.record, fields, (text) => {
      const redacted = redact(text, types);
      for (const type of PERSONAL_DATA_TYPES) {
        const count = redacted.counts[type] ?? 0;
        if (count > 0) {
          counts.set(type, (counts.get(type) ?? 0) + count);
        }
      }
      return redacted.text;
    });
    valuesChanged += result.changed;
    if (result.record === row.record) {
      output.write(row);
      continue;
    }
    rowsChanged += 1;
    output.write({ ...row, record: result.record });
  }
  known?.check(context);
  const byType: Partial<Record<PersonalDataType, number>> = {};
  for (const type of PERSONAL_DATA_TYPES) {
    const count = counts.get(type);
    if (count !== undefined) {
      byType[type] = count;
    }
  }
  return {
    output: output.finish(),
    details: { fields, types: step.types ?? [...PERSONAL_DATA_TYPES], redactions: byType, valuesChanged, rowsChanged },
  };
};

function defaultRedactionFields(task: DatasetTask, inputFields: string[], labelField: string | undefined): string[] {
  return task === 'prompt-completion' && labelField !== undefined && !inputFields.includes(labelField)
    ? [...inputFields, labelField]
    : inputFields;
}
