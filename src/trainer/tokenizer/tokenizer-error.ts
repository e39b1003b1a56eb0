/** A tokenizer that cannot be built, loaded or used as asked. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}
