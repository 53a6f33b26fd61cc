/**
 * `word` after its indefinite article, as a message says what something is: `a string`, `an object`,
 * `an Error`, `a Date`.
 * @internal
 */
export function withArticle(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}
