import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileSpoolFactory, MemorySpoolFactory } from './row-spool.js';
import { applyTransforms, runTransforms } from './transform-engine.js';
import { memorySpool } from './row-spool.js';
import { TransformLimitError, type TransformContext, type TransformStep } from './transform-types.js';

const classification: TransformContext = {
  task: 'classification',
  schema: { inputFields: ['text'], labelField: 'label' },
};

describe('file spools', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'spool-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('give back the rows in order, by index, with source and synthetic flags, as JSON Lines on disk', async () => {
    const sink = new FileSpoolFactory(directory).create();
    // Long enough rows to cross the 1 MiB read chunks, and non-ASCII text to cross them mid-character.
    const rows = Array.from({ length: 3000 }, (_, index) => ({
      record: { text: `ä€😀 ${'x'.repeat(index % 700)} ${index}`, label: String(index % 3) },
      source: index * 2,
      synthetic: index % 5 === 0,
    }));
    rows.forEach((row) => sink.write(row));
    const spool = sink.finish();
    assert.equal(spool.count, rows.length);
    assert.deepEqual([...spool.rows()], rows);
    assert.deepEqual([...spool.rows()], rows, 'readable again');
    assert.deepEqual(spool.rowAt(2999), rows[2999]);
    assert.deepEqual(spool.rowAt(0), rows[0]);
    const file = await readFile(sink.path, 'utf8');
    assert.equal(Buffer.byteLength(file), spool.bytes);
    assert.equal(file, rows.map((row) => `${JSON.stringify(row.record)}\n`).join(''));
    spool.release();
    assert.deepEqual(await readdir(directory), []);
  });

  it('give the same results as memory spools for every step', () => {
    const rows = Array.from({ length: 60 }, (_, index) => ({
      text: `Row ${index % 40} with words ${index % 7}`,
      label: index % 4 === 0 ? 'rare' : 'common',
      x: index,
    }));
    const spec: TransformStep[] = [
      { op: 'clean', lowercase: true },
      { op: 'dedupe', mode: 'exact' },
      { op: 'drop_rows', minChars: 3 },
      { op: 'normalize', fields: ['x'], method: 'zscore' },
      { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.2, seed: 4 },
      { op: 'oversample', strategy: 'match_majority', seed: 9 },
      { op: 'split', train: 0.6, validation: 0.2, test: 0.2, seed: 5 },
    ];
    const inMemory = applyTransforms(rows, spec, classification);
    const onDisk = runTransforms(
      memorySpool(rows.map((record, source) => ({ record, source, synthetic: false }))),
      spec,
      classification,
      { spools: new FileSpoolFactory(directory) },
    );
    assert.deepEqual(onDisk.report, inMemory.report);
    assert.deepEqual(
      onDisk.outputs.map((output) => [...output.spool.rows()].map((row) => row.record)),
      inMemory.outputs.map((output) => output.rows),
    );
    onDisk.outputs.forEach((output) => output.spool.release());
  });
});

describe('output limits', () => {
  const rows = Array.from({ length: 10 }, (_, index) => ({ text: `row ${index}`, label: 'a' }));

  it('stop the step that would write one row too many, naming it', () => {
    assert.doesNotThrow(() =>
      applyTransforms(
        rows,
        [{ op: 'augment_text', technique: 'eda', copies: 1, alpha: 0.1, seed: 1 }],
        classification,
        {
          rows: 20,
        },
      ),
    );
    assert.throws(
      () =>
        applyTransforms(
          rows,
          [{ op: 'clean' }, { op: 'augment_text', technique: 'eda', copies: 1, alpha: 0.1, seed: 1 }],
          classification,
          { rows: 19 },
        ),
      (error: unknown) =>
        error instanceof TransformLimitError && error.step === 1 && error.limit === 'rows' && error.maximum === 19,
    );
  });

  it('count bytes as JSON Lines, the split partitions together', () => {
    const bytes = rows.reduce((sum, row) => sum + Buffer.byteLength(`${JSON.stringify(row)}\n`), 0);
    const split: TransformStep = { op: 'split', train: 0.5, validation: 0.5, test: 0, seed: 1 };
    assert.doesNotThrow(() => applyTransforms(rows, [split], classification, { bytes }));
    assert.throws(
      () => applyTransforms(rows, [split], classification, { bytes: bytes - 1 }),
      (error: unknown) => error instanceof TransformLimitError && error.limit === 'bytes',
    );
  });

  it('release every spool written so far when a step stops', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'spool-limit-'));
    try {
      const input = memorySpool(rows.map((record, source) => ({ record, source, synthetic: false })));
      assert.throws(
        () =>
          runTransforms(
            input,
            [{ op: 'clean' }, { op: 'augment_text', technique: 'eda', copies: 8, alpha: 0.1, seed: 1 }],
            classification,
            { spools: new FileSpoolFactory(directory), limits: { rows: 30 } },
          ),
        TransformLimitError,
      );
      assert.deepEqual(await readdir(directory), []);
      assert.equal(new MemorySpoolFactory().create().finish().count, 0);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
