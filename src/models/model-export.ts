import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ArtifactStore } from '../platform/storage/artifact-store.js';
import { writeTar, type TarSourceEntry } from '../platform/archive/tar.js';
import { writeZip } from '../platform/archive/zip.js';
import { ByteReader } from '../platform/archive/byte-reader.js';
import { writeHuggingFaceGpt2Config } from '../trainer/formats/huggingface-gpt2.js';
import {
  encodeSafetensorsHeader,
  readSafetensorsHeader,
  safetensorsHeaderLength,
} from '../trainer/formats/safetensors.js';
import type { Gpt2Config, Gpt2Head } from '../trainer/models/gpt2.js';
import { BpeTokenizer, END_OF_TEXT, PAD } from '../trainer/tokenizer/bpe-tokenizer.js';
import type { ModelVersionEntity } from './model-version.entity.js';

export type BundleFormat = 'tar' | 'zip';

export interface ModelBundle {
  fileName: string;
  contentType: string;
  body: AsyncGenerator<Buffer>;
}

/** The file our own manifest travels under in a bundle, so a bundle imports back unchanged. */
export const BUNDLE_MANIFEST = 'tuneforge-manifest.json';

/** Names Hugging Face `save_pretrained` gives a GPT-2 with a head: the base model under `transformer.`. */
export function huggingFaceTensorName(name: string): string {
  return name === 'score.weight' ? name : `transformer.${name}`;
}

/**
 * A model version as a self-contained folder in a tar or zip stream. For gpt2 it is a Hugging Face
 * model folder (`config.json`, `model.safetensors` with Hugging Face names and `format: pt`
 * metadata, `tokenizer.json`, `tokenizer_config.json`) that `transformers` loads unchanged; for mlp
 * the weights beside a manifest that states the preprocessing exactly. Both carry our manifest.
 * Weights stream from storage: only their header is rewritten.
 */
@Injectable()
export class ModelBundleExporter {
  constructor(@Inject(ArtifactStore) private readonly store: ArtifactStore) {}

  async bundle(modelName: string, version: ModelVersionEntity, format: BundleFormat): Promise<ModelBundle> {
    const entries = await this.entries(version);
    const base = `${modelName}-v${version.version}`;
    return format === 'zip'
      ? { fileName: `${base}.zip`, contentType: 'application/zip', body: writeZip(entries, { compress: false }) }
      : { fileName: `${base}.tar`, contentType: 'application/x-tar', body: writeTar(entries, version.createdAt) };
  }

  private async entries(version: ModelVersionEntity): Promise<TarSourceEntry[]> {
    const manifest = Buffer.from(JSON.stringify(version.manifest, null, 2));
    const weights = await this.weightsEntry(version);
    const entries: TarSourceEntry[] = [bytesEntry(BUNDLE_MANIFEST, manifest)];
    if (version.family === 'mlp') {
      entries.push(bytesEntry('manifest.json', manifest), weights);
      return entries;
    }
    const tokenizerFile = version.files.find((file) => file.name === 'tokenizer.json');
    let tokenizer: BpeTokenizer | undefined;
    if (tokenizerFile) {
      const bytes = await this.read(`${version.artifactPrefix}tokenizer.json`);
      tokenizer = BpeTokenizer.fromJSON(JSON.parse(bytes.toString('utf8')));
      entries.push(bytesEntry('tokenizer.json', bytes));
    }
    const config = version.manifest.config as Gpt2Config;
    const head = version.manifest.head as Gpt2Head;
    const labels = Array.isArray(version.manifest.labels) ? (version.manifest.labels as string[]) : undefined;
    const huggingFaceConfig = writeHuggingFaceGpt2Config(config, head, {
      labels,
      endOfTextId: tokenizer?.endOfTextId,
      padId: tokenizer?.padId,
    });
    entries.push(bytesEntry('config.json', Buffer.from(JSON.stringify(huggingFaceConfig, null, 2))));
    if (tokenizer) {
      const hasPad = tokenizer.tokenId(PAD) !== undefined;
      const tokenizerConfig = {
        tokenizer_class: 'GPT2Tokenizer',
        bos_token: END_OF_TEXT,
        eos_token: END_OF_TEXT,
        unk_token: END_OF_TEXT,
        pad_token: hasPad ? PAD : END_OF_TEXT,
        add_prefix_space: false,
        model_max_length: config.nPositions,
      };
      entries.push(bytesEntry('tokenizer_config.json', Buffer.from(JSON.stringify(tokenizerConfig, null, 2))));
    }
    entries.push(weights);
    return entries;
  }

  /** `model.safetensors` with a rewritten header and the stored tensor bytes streamed after it. */
  private async weightsEntry(version: ModelVersionEntity): Promise<TarSourceEntry> {
    const key = `${version.artifactPrefix}model.safetensors`;
    const stat = await this.store.stat(key);
    if (!stat) {
      throw new Error(`the weights of model version ${version.id} are missing from storage`);
    }
    const headerLength = safetensorsHeaderLength(await this.readRange(key, 0, 8));
    const header = readSafetensorsHeader(await this.readRange(key, 0, 8 + headerLength), stat.size);
    const ordered = Object.entries(header.tensors).sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0]);
    const rename = version.family === 'gpt2' ? huggingFaceTensorName : (name: string) => name;
    const newHeader = encodeSafetensorsHeader(
      ordered.map(([name, info]) => ({ name: rename(name), ...info })),
      // transformers refuses safetensors without a framework tag.
      { ...header.metadata, format: 'pt' },
    );
    const dataLength = stat.size - header.dataStart;
    const store = this.store;
    return {
      name: 'model.safetensors',
      size: newHeader.length + dataLength,
      body: async function* () {
        yield newHeader;
        if (dataLength > 0) {
          yield* await store.get(key, { start: header.dataStart });
        }
      },
    };
  }

  private async read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.store.get(key)) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async readRange(key: string, start: number, length: number): Promise<Uint8Array> {
    const reader = new ByteReader(await this.store.get(key, { start, end: start + length - 1 }));
    try {
      return await reader.readExactly(length);
    } finally {
      await reader.close();
    }
  }
}

function bytesEntry(name: string, bytes: Buffer): TarSourceEntry {
  return { name, size: bytes.length, body: () => Readable.from([bytes]) };
}
